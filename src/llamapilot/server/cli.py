"""``llamapilot serve``: the HTTP server on one model."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import TYPE_CHECKING

from llamapilot.errors import InputError

if TYPE_CHECKING:
    from llamapilot.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve completions over HTTP (OpenAI, llama.cpp /infill, native) and a playground",
        description="Serve the model over HTTP: OpenAI-compatible /v1/completions and "
        "/v1/chat/completions, llama.cpp-compatible /infill, the native "
        "/v1/llamapilot/complete, and the playground page at /. Binds 127.0.0.1 unless told "
        "otherwise; any other address needs an API key.",
    )
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to bind (default 8080; 0 picks a free one)")
    p.add_argument("--model", help="GGUF model file (default: the embedded model)")
    p.add_argument(
        "--api-key",
        help="require 'Authorization: Bearer KEY' on every route but /health "
        "(or set LLAMAPILOT_API_KEY, which keeps it out of the process list)",
    )
    p.set_defaults(handler=run_serve)


def check_bind(settings: Settings) -> None:
    """Refuse a non-loopback address without an API key."""
    from llamapilot.server.security import is_loopback

    if not is_loopback(settings.host) and not settings.api_key:
        raise InputError(
            f"refusing to listen on {settings.host} without an API key: anyone who can reach "
            "it could use the server. Set --api-key (or LLAMAPILOT_API_KEY), or bind 127.0.0.1.",
            param="host",
        )


def serve(settings: Settings) -> int:
    import uvicorn

    from llamapilot.server.app import create_app

    check_bind(settings)
    logging.basicConfig(level=logging.INFO, format="llamapilot: %(message)s")
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        timeout_graceful_shutdown=int(settings.shutdown_timeout) or None,
        server_header=False,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once it has drained; with a handler in
    # place that re-raise is harmless, so SIGTERM ends the process with status 0
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"llamapilot: playground at http://{host}:{settings.port}/", file=sys.stderr)
    server.run()
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from llamapilot.config import load_settings

    settings = load_settings(host=args.host, port=args.port, model=args.model, api_key=args.api_key)
    return serve(settings)
