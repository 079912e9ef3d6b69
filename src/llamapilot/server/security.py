"""The server's safe defaults, as one ASGI middleware in front of every route.

In order: the Host header must name this machine (DNS rebinding), a browser Origin must be
local or configured (CSRF; CORS never echoes an arbitrary origin), the body must fit the size
limit (413), and with an API key every route but ``/health`` needs ``Authorization: Bearer``.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from llamapilot.server.errors import error_body

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "localhost.localdomain"})
OPEN_PATHS = frozenset({"/health"})
CORS_HEADERS = "Authorization, Content-Type, X-Llamapilot-Session"


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> str:
    """The host name of a Host header value (without the port)."""
    value = value.strip()
    if value.startswith("["):  # [::1]:8080
        return value[1 : value.find("]")] if "]" in value else ""
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


class SecurityMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        api_key: str | None,
        max_body_bytes: int,
        bind_host: str = "127.0.0.1",
        allowed_hosts: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
    ) -> None:
        self.app = app
        self._key = api_key.encode() if api_key else None
        self.max_body_bytes = max_body_bytes
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        if bind_host and bind_host not in ("0.0.0.0", "::"):
            self.allowed_hosts.add(bind_host.strip("[]").lower())
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins}

    # --- checks ---------------------------------------------------------------------------
    def host_ok(self, host: str | None) -> bool:
        if not host:
            return False
        name = split_host(host).lower()
        if not name:
            return False
        return is_loopback(name) or name in self.allowed_hosts or "*" in self.allowed_hosts

    def origin_ok(self, origin: str) -> bool:
        origin = origin.rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        parts = urlsplit(origin)
        return (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and is_loopback(parts.hostname or "")
        )

    def key_ok(self, authorization: str | None) -> bool:
        if self._key is None:
            return True
        if not authorization:
            return False
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(token.strip().encode(), self._key)

    # --- ASGI -----------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for k, v in scope.get("headers", []):
            headers.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
        path = scope.get("path", "")
        if not self.host_ok(headers.get("host")):
            await _deny(
                send,
                403,
                "the Host header does not name this server",
                "permission_error",
                "host_not_allowed",
            )
            return
        origin = headers.get("origin")
        if origin is not None and not self.origin_ok(origin):
            await _deny(
                send,
                403,
                "requests from this origin are not allowed",
                "permission_error",
                "origin_not_allowed",
            )
            return
        cors = (
            [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin")]
            if (origin)
            else []
        )
        if scope["method"] == "OPTIONS" and origin and "access-control-request-method" in headers:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": cors
                    + [
                        (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                        (b"access-control-allow-headers", CORS_HEADERS.encode()),
                        (b"access-control-max-age", b"600"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if path not in OPEN_PATHS and not self.key_ok(headers.get("authorization")):
            await _deny(
                send,
                401,
                "a valid API key is required (Authorization: Bearer KEY)",
                "authentication_error",
                "invalid_api_key",
                extra=[(b"www-authenticate", b"Bearer")] + cors,
            )
            return
        length = headers.get("content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_body_bytes
            except ValueError:
                await _deny(send, 400, "invalid Content-Length", "invalid_request_error", None)
                return
            if too_big:
                await self._deny_too_big(send, cors)
                return

        # Read the whole body first (it is bounded), so an oversized chunked body gets 413
        # before any route runs; the app then sees it as one message.
        body = bytearray()
        more = scope["method"] in ("POST", "PUT", "PATCH")
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away while sending
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await self._deny_too_big(send, cors)
                return
            more = message.get("more_body", False)
        pending: list[Message] = [{"type": "http.request", "body": bytes(body), "more_body": False}]
        if _json_sent_as_form(headers.get("content-type"), body):
            scope = dict(scope)
            scope["headers"] = [
                (k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-type"
            ] + [(b"content-type", b"application/json")]

        async def replay_receive() -> Message:
            if pending:
                return pending.pop()
            return await receive()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and cors:
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + cors
            await send(message)

        await self.app(scope, replay_receive, send_with_headers)

    async def _deny_too_big(self, send: Send, cors: list[tuple[bytes, bytes]]) -> None:
        message = f"the request body is larger than the limit of {self.max_body_bytes} bytes"
        await _deny(send, 413, message, "invalid_request_error", "body_too_large", extra=cors)


def _json_sent_as_form(content_type: str | None, body: bytes | bytearray) -> bool:
    """A JSON object posted with no content type or curl's default form type (``curl -d
    '{...}'``, as llama.cpp's server accepts it) is read as JSON, not refused as a form.
    Cross-origin requests were already held to the allowed origins above."""
    kind = (content_type or "").split(";")[0].strip().lower()
    return kind in ("", "application/x-www-form-urlencoded") and body.lstrip()[:1] == b"{"


async def _deny(
    send: Send,
    status: int,
    message: str,
    type_: str,
    code: str | None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = json.dumps(error_body(message, type_, code=code), separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            + (extra or []),
        }
    )
    await send({"type": "http.response.body", "body": body})
