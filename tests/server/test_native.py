"""The native API: the same JSON as ``llamapilot complete --json``, and sessions."""

from __future__ import annotations

import json
import socket

import httpx

from llamapilot.completion.types import CompletionRequest

from .conftest import wait_until

DOC = "import os\n\n\ndef list_python_files(path):\n    \n"


def test_native_matches_the_core(http: httpx.Client, service) -> None:
    r = http.post(
        "/v1/llamapilot/complete",
        json={
            "text": DOC,
            "cursor": {"line": 4, "character": 4},
            "path": "files.py",
            "open_files": [
                {
                    "path": "util.py",
                    "text": "def is_python(name):\n    return name.endswith('.py')\n",
                }
            ],
            "max_tokens": 24,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    direct = service.complete(
        CompletionRequest.at_position(DOC, 4, 4, path="files.py", max_tokens=2)
    ).to_dict()
    assert set(body) == set(direct)
    assert body["text"].strip()
    assert "".join(t["text"] for t in body["tokens"]) == body["text"]
    assert 0 < body["confidence"] <= 1
    assert any(s["kind"] == "open_file" and s["path"] == "util.py" for s in body["sources"])
    assert "def is_python" in body["prompt"]


def test_native_prefix_and_suffix(http: httpx.Client) -> None:
    r = http.post(
        "/v1/llamapilot/complete",
        json={"prefix": "def add(a, b):\n    return", "suffix": "\n", "max_tokens": 8},
    )
    assert r.status_code == 200
    assert r.json()["text"].strip().startswith("a + b")


def test_cursor_outside_the_document_is_400(http: httpx.Client) -> None:
    r = http.post(
        "/v1/llamapilot/complete", json={"text": "x = 1\n", "cursor": {"line": 9, "character": 0}}
    )
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "line"


def _send_raw(port: int, body: bytes, session: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"POST /v1/llamapilot/complete HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nX-Llamapilot-Session: "
        + session.encode()
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    return sock


def test_newer_request_of_a_session_supersedes_the_older(server, http: httpx.Client) -> None:
    long_doc = {
        "prefix": "# a long list of numbers\nnumbers = [\n",
        "max_tokens": 400,
        "multiline": True,
        "max_lines": 400,
    }
    older = _send_raw(server.port, json.dumps(long_doc).encode(), "editor-1")
    try:
        wait_until(lambda: http.get("/health").json()["busy"], what="the older request to run")
        newer = http.post(
            "/v1/llamapilot/complete",
            headers={"X-Llamapilot-Session": "editor-1"},
            json={"prefix": "def add(a, b):\n    return", "max_tokens": 4},
        )
        assert newer.status_code == 200
        older.settimeout(60)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += older.recv(65536)
        assert answer.startswith(b"HTTP/1.1 409"), answer[:200]
        assert b'"code":"superseded"' in answer
    finally:
        older.close()
