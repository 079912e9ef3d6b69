"""Queueing, disconnects, superseding and shutdown on the real server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from .conftest import RunningServer, wait_until

LONG = {
    "prompt": "# Count from one to one thousand, one number per line.\n1\n2\n3\n",
    "max_tokens": 2000,
    "temperature": 0,
    "stream": True,
}


def _stream_request(port: int, body: dict) -> socket.socket:
    """Send a request and leave the answer unread (a client that waits)."""
    data = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
        b"application/json\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data
    )
    return sock


def test_disconnect_stops_generation_and_health_answers_while_busy(server, http) -> None:
    stats = lambda: http.get("/health").json()  # noqa: E731
    before = stats()
    sock = _stream_request(server.port, LONG)
    try:
        sock.settimeout(120)
        got = b""
        while got.count(b"data: ") < 3:  # the stream is flowing
            got += sock.recv(65536)
        health = http.get("/health", timeout=5)  # answers at once although the model is busy
        assert health.status_code == 200 and health.json()["busy"] is True
    finally:
        sock.close()
    t0 = time.monotonic()
    wait_until(lambda: not stats()["busy"], timeout=10, what="the generation to stop")
    assert time.monotonic() - t0 < 5, "a 2000-token generation kept running after disconnect"
    after = stats()
    assert after["abandoned"] == before["abandoned"] + 1
    # the next request is served normally
    r = http.post("/v1/completions", json={"prompt": "def f(", "max_tokens": 2, "temperature": 0})
    assert r.status_code == 200


def test_full_queue_answers_429_with_retry_after(core_settings, service) -> None:
    running = RunningServer(core_settings.model_copy(update={"max_queue": 1}), service)
    socks = []
    try:
        with running.client() as http:
            socks.append(_stream_request(running.port, LONG))
            wait_until(lambda: http.get("/health").json()["busy"], what="the first request")
            socks.append(_stream_request(running.port, LONG))
            wait_until(lambda: http.get("/health").json()["waiting"] == 1, what="a waiter")
            t0 = time.monotonic()
            r = http.post("/v1/completions", json={"prompt": "x", "max_tokens": 1})
            assert r.status_code == 429
            assert time.monotonic() - t0 < 2
            assert int(r.headers["retry-after"]) >= 1
            assert r.json()["error"]["code"] == "queue_full"
            for s in socks:
                s.close()
            wait_until(lambda: not http.get("/health").json()["busy"], what="idle")
            assert http.get("/health").json()["waiting"] == 0
    finally:
        for s in socks:
            s.close()
        running.stop()


def test_health_reports_a_model_that_failed_to_load(core_settings, tmp_path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    running = RunningServer(core_settings.model_copy(update={"model": str(bad)}), None)
    try:
        with running.client() as http:
            wait_until(
                lambda: http.get("/health").json()["status"] != "loading model",
                what="the load to fail",
            )
            r = http.get("/health")
            assert r.status_code == 503
            assert "broken.gguf" in r.json()["error"]["message"]
            r = http.post("/v1/completions", json={"prompt": "x"})
            assert r.status_code == 503 and "failed to load" in r.json()["error"]["message"]
            assert http.get("/health").status_code == 503  # still up
    finally:
        running.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_sigterm_finishes_open_streams_and_exits_0(tmp_path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "LLAMAPILOT_N_THREADS": "2",
        "LLAMAPILOT_DATA_DIR": str(tmp_path),
        "LLAMAPILOT_CONFIG": str(tmp_path / "none.toml"),
        "LLAMAPILOT_SHUTDOWN_TIMEOUT": "120",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamapilot", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                return httpx.get(url + "/health").status_code == 200
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode()
                return False

        wait_until(ready, timeout=120, what="the server to load the model")
        body = {"prompt": "def fib(n):\n", "max_tokens": 12, "temperature": 0, "stream": True}
        with httpx.stream("POST", url + "/v1/completions", json=body, timeout=60) as r:
            lines = r.iter_lines()
            first = next(line for line in lines if line.startswith("data: "))
            proc.send_signal(signal.SIGTERM)
            rest = [line for line in lines if line.startswith("data: ")]
        assert rest[-1] == "data: [DONE]", "the open stream was not finished"
        text = "".join(json.loads(x[6:])["choices"][0]["text"] for x in [first] + rest[:-1])
        assert text
        assert proc.wait(timeout=30) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/health", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
