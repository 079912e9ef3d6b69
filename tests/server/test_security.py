"""Safe defaults: loopback only, API key on every route but /health, Host and Origin
checks, body size limit, and OpenAI-style error bodies for bad input."""

from __future__ import annotations

import socket

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from llamapilot.config import Settings
from llamapilot.errors import InputError
from llamapilot.server.cli import check_bind

from .conftest import API_KEY


def _routes(routes) -> list[tuple[str, str]]:
    """Every (method, path) the app's router serves, nested routers included."""
    out = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            out += _routes(inner.routes)
        elif isinstance(r, (APIRoute, Route)):
            for method in sorted(r.methods or {"GET"}):
                if method != "HEAD":
                    out.append((method, r.path.replace("{name}", "playground.js")))
    return out


def test_every_route_but_health_needs_the_key(keyed_server) -> None:
    routes = _routes(keyed_server.app.routes)
    assert ("POST", "/infill") in routes and ("GET", "/openapi.json") in routes
    with keyed_server.client() as http:
        for method, path in routes:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": API_KEY}):
                r = http.request(method, path, json={}, headers=headers)
                if path == "/health":
                    assert r.status_code == 200
                else:
                    assert r.status_code == 401, (method, path, headers)
                    assert r.json()["error"]["code"] == "invalid_api_key"
                    assert API_KEY not in r.text
        good = {"Authorization": f"Bearer {API_KEY}"}
        assert http.get("/v1/models", headers=good).status_code == 200
        r = http.post(
            "/v1/completions",
            headers=good,
            json={"prompt": "def f(", "max_tokens": 2, "temperature": 0},
        )
        assert r.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example"])
def test_foreign_host_is_refused(http: httpx.Client, host: str) -> None:
    r = http.get("/v1/models", headers={"Host": host})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "host_not_allowed"


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data


def test_empty_host_is_refused(server) -> None:
    answer = _raw(server.port, b"GET /v1/models HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 403") or answer.startswith(b"HTTP/1.1 400")


def test_origins(http: httpx.Client) -> None:
    r = http.get("/v1/models", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "origin_not_allowed"
    assert http.get("/v1/models", headers={"Origin": "null"}).status_code == 403
    r = http.get("/v1/models", headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "access-control-allow-credentials" not in r.headers
    pre = http.options(
        "/v1/completions",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 403 and "access-control-allow-origin" not in pre.headers
    pre = http.options(
        "/v1/completions",
        headers={"Origin": "http://127.0.0.1:5173", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"


def test_body_size_limit(keyed_server) -> None:
    good = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    big = b'{"prompt": "' + b"x" * (65 * 1024) + b'"}'
    with keyed_server.client() as http:
        r = http.post("/v1/completions", content=big, headers=good)
        assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"

        def chunks():  # no Content-Length: chunked transfer
            for _ in range(100):
                yield b"x" * 1024

        r = http.post("/v1/completions", content=chunks(), headers=good)
        assert r.status_code == 413
        assert http.get("/health").status_code == 200


def test_malformed_json_and_wrong_types(http: httpx.Client) -> None:
    r = http.post(
        "/v1/completions", content=b'{"prompt": "x", ', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    cases = [
        ("/v1/completions", {"prompt": 12}, "prompt"),
        ("/v1/completions", {"prompt": "x", "stream": "maybe"}, "stream"),
        ("/v1/chat/completions", {"messages": "hi"}, "messages"),
        (
            "/v1/chat/completions",
            {"messages": [{"role": "wizard", "content": "x"}]},
            "messages.0.role",
        ),
        ("/infill", {"input_prefix": "x", "n_predict": -7}, "n_predict"),
        ("/infill", {"input_extra": "not a list"}, "input_extra"),
        (
            "/v1/llamapilot/complete",
            {"text": "x", "cursor": {"line": -1, "character": 0}},
            "cursor.line",
        ),
    ]
    for path, body, field in cases:
        r = http.post(path, json=body)
        assert r.status_code == 422, (path, body, r.text)
        error = r.json()["error"]
        assert error["param"] == field and field in error["message"]
        assert error["type"] == "invalid_request_error"
    assert http.get("/nowhere").status_code == 404
    assert http.get("/nowhere").json()["error"]["type"] == "not_found_error"
    assert http.get("/health").json()["status"] == "ok"  # still serving


def test_json_posted_as_curl_does_by_default_is_read_as_json(http: httpx.Client) -> None:
    body = b'{"input_prefix": "x = ", "n_predict": -7}'
    for headers in ({"Content-Type": "application/x-www-form-urlencoded"}, {}):
        r = http.post("/infill", content=body, headers=headers)
        assert r.status_code == 422, r.text  # validated as the JSON it is
        assert r.json()["error"]["param"] == "n_predict"
    for content in (b"a=1&b=2", b"[1, 2]"):
        r = http.post("/infill", content=content, headers={"Content-Type": "text/plain"})
        assert r.status_code == 422
        assert "must be a JSON object" in r.json()["error"]["message"], r.text


def test_non_loopback_bind_needs_a_key() -> None:
    check_bind(Settings(host="127.0.0.1"))
    check_bind(Settings(host="::1"))
    check_bind(Settings(host="0.0.0.0", api_key="k"))
    for host in ("0.0.0.0", "192.168.1.5", "::"):
        with pytest.raises(InputError) as err:
            check_bind(Settings(host=host))
        assert err.value.param == "host"


def test_serve_refuses_a_public_address_without_key(monkeypatch, capsys) -> None:
    from llamapilot.cli import main

    monkeypatch.delenv("LLAMAPILOT_API_KEY", raising=False)
    monkeypatch.setenv("LLAMAPILOT_CONFIG", "/nonexistent/config.toml")
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "without an API key" in capsys.readouterr().err


def test_no_cdn_and_no_docs(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200 and "<textarea" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/playground.js", "/static/playground.css"):
        r = http.get(asset)
        assert r.status_code == 200 and "http://" not in r.text and "https://" not in r.text
    assert "https://" not in page.text
    assert http.get("/docs").status_code == 404
    assert http.get("/static/..%2F..%2Fconfig.py").status_code == 404
