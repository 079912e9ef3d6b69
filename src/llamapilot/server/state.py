"""What one server process holds: settings, the model (loaded in the background), the queue."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from llamapilot.chat.template import ChatTemplate
from llamapilot.completion.service import CompletionService
from llamapilot.config import Settings
from llamapilot.engine.base import GenerationParams
from llamapilot.errors import LlamapilotError
from llamapilot.server.errors import ServerBusyError
from llamapilot.server.scheduler import Scheduler

log = logging.getLogger("llamapilot.server")
SESSION_HEADER = "X-Llamapilot-Session"


class ServerState:
    def __init__(self, settings: Settings, service: CompletionService | None = None) -> None:
        self.settings = settings
        self.service = service
        self.load_error: str | None = None
        self.scheduler = Scheduler(settings.max_queue)
        self._loader: threading.Thread | None = None

    # --- model ------------------------------------------------------------------------------
    def start_loading(self) -> None:
        """Load the model in a background thread; ``/health`` says 503 until it is ready."""
        if self.service is not None or self._loader is not None:
            return
        self._loader = threading.Thread(target=self._load, name="llamapilot-load", daemon=True)
        self._loader.start()

    def _load(self) -> None:
        try:
            service = CompletionService.from_settings(self.settings)
            # the first decodes of a fresh llama.cpp context are slow: pay them before
            # /health says ready, not in an editor's first request
            # (a forced prefix also builds the token-healing tables)
            warm = GenerationParams(max_tokens=2, forced_prefix=" ")
            for _ in service.backend.generate("def f(x):\n    return", warm):
                pass
            self.service = service
        except LlamapilotError as exc:
            self.load_error = str(exc)
            log.error("the model failed to load: %s", exc)
        except Exception as exc:  # noqa: BLE001 - any failure must show in /health
            self.load_error = f"{type(exc).__name__}: {exc}"
            log.exception("the model failed to load")

    def require(self) -> CompletionService:
        """The loaded service, or a 503 saying why there is none."""
        if self.service is not None:
            return self.service
        if self.load_error is not None:
            raise ServerBusyError(
                f"the model failed to load: {self.load_error}", status=503, retry_after=30
            )
        raise ServerBusyError("the model is loading", status=503, retry_after=1)

    @property
    def chat_template(self) -> ChatTemplate:
        return self.require().chat_template

    @property
    def model_id(self) -> str:
        """The name clients see in ``/v1/models`` and answers: the model file's stem."""
        return Path(self.require().backend.info.path).stem


def get_state(request: Request) -> ServerState:
    return request.app.state.llamapilot


def session_of(request: Request, explicit: str | None = None) -> str | None:
    """The editor session a request belongs to: the native ``session`` field or the
    ``X-Llamapilot-Session`` header. A newer request of a session supersedes the older one."""
    value = explicit or request.headers.get(SESSION_HEADER)
    return value[:200] if value else None


def client_key(request: Request, session: str | None) -> str:
    """Whose turn it is in the fair queue: the session if given, else the client address."""
    if session:
        return "s:" + session
    return "c:" + (request.client.host if request.client else "?")


AppState = Annotated[ServerState, Depends(get_state)]
"""A route parameter that receives the server's state."""
