"""The HTTP server's app factory: every dialect's routes behind one security layer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from llamapilot import __version__
from llamapilot.completion.service import CompletionService
from llamapilot.config import Settings
from llamapilot.server import routes_llamacpp, routes_native, routes_openai
from llamapilot.server.errors import install_error_handlers
from llamapilot.server.security import SecurityMiddleware
from llamapilot.server.state import ServerState


def create_app(settings: Settings, service: CompletionService | None = None) -> FastAPI:
    """The server for ``settings``. Without ``service`` the model loads in the background
    when the app starts; ``/health`` answers 503 until it is ready."""
    state = ServerState(settings, service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.start_loading()
        yield
        state.scheduler.shutdown()

    app = FastAPI(
        title="llamapilot",
        version=__version__,
        docs_url=None,  # Swagger UI and ReDoc load assets from CDNs: not served
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.llamapilot = state
    install_error_handlers(app)
    app.include_router(routes_llamacpp.router)
    app.include_router(routes_openai.router)
    app.include_router(routes_native.router)
    app.add_middleware(
        SecurityMiddleware,  # type: ignore[arg-type]
        api_key=settings.api_key,
        max_body_bytes=settings.max_body_bytes,
        bind_host=settings.host,
        allowed_hosts=settings.allowed_hosts,
        allowed_origins=settings.allowed_origins,
    )
    return app
