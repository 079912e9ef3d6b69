"""Running suggestions off the event loop: the model loaded in the background, one
generation thread per request, cancellation, and superseding per document.

The language server's event loop must keep reading messages while the model generates,
or it could not see ``$/cancelRequest``; so generation runs in worker threads and the
request's coroutine awaits it. Cancelling the coroutine sets the generation's cancel
event, which the backend checks at every token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from llamapilot.completion.service import CompletionService
from llamapilot.completion.types import CompletionRequest, CompletionResult
from llamapilot.config import Settings, load_settings
from llamapilot.engine.base import TokenEvent
from llamapilot.lsp.settings import LspSettings

logger = logging.getLogger(__name__)

ServiceFactory = Callable[[Settings], CompletionService]
T = TypeVar("T")


class Superseded(Exception):
    """A newer request for the same document took this one's place."""


class Engine:
    """The completion service, loaded in a background thread and loaded again when the
    model settings change."""

    def __init__(
        self,
        overrides: dict[str, Any] | None = None,
        factory: ServiceFactory = CompletionService.from_settings,
    ) -> None:
        self.overrides = dict(overrides or {})
        self._factory = factory
        self._key: tuple[object, ...] | None = None
        self._loading: Future[CompletionService] | None = None
        self._lock = threading.Lock()

    def configure(self, settings: LspSettings) -> Future[CompletionService]:
        """Start loading the model ``settings`` name, unless it is already (being) loaded."""
        with self._lock:
            key = settings.engine_key()
            if self._loading is not None and key == self._key:
                return self._loading
            values = dict(self.overrides)
            for name, value in (
                ("model", settings.model),
                ("n_ctx", settings.n_ctx),
                ("n_threads", settings.n_threads),
            ):
                if value is not None:
                    values[name] = value
            future: Future[CompletionService] = Future()
            self._key, self._loading = key, future
        threading.Thread(
            target=self._load, args=(values, future), name="llamapilot-load", daemon=True
        ).start()
        return future

    def _load(self, values: dict[str, Any], future: Future[CompletionService]) -> None:
        try:
            service = self._factory(load_settings(**values))
        except BaseException as exc:  # reported to every request that needs the model
            logger.error("cannot load the model: %s", exc)
            future.set_exception(exc)
        else:
            logger.info("model loaded: %s", service.backend.info.path)
            future.set_result(service)

    def service(self) -> CompletionService:
        """The loaded service (waits for loading; raises what loading raised)."""
        with self._lock:
            loading = self._loading
        if loading is None:
            raise RuntimeError("Engine.configure was never called")
        return loading.result()


@dataclass
class _Job:
    key: str
    cancel: threading.Event = field(default_factory=threading.Event)
    task: asyncio.Task[Any] | None = None
    superseded: bool = False


@dataclass(frozen=True)
class Outcome:
    """How a generation ended, once its thread is done with the model."""

    result: CompletionResult | None
    error: BaseException | None = None

    def describe(self) -> str:
        if self.error is not None:
            return f"failed: {self.error}"
        if self.result is None:
            return "cancelled before it started"
        r = self.result
        if r.stop_reason == "cancelled":
            return f"cancelled after {r.n_predicted} tokens"
        return f"{r.n_predicted} tokens in {r.timings.total_ms:.0f} ms"


class CompletionRunner:
    """Runs completions for the server's request coroutines."""

    def __init__(self, engine: Engine, workers: int = 2) -> None:
        self.engine = engine
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="llamapilot-generate")
        self._jobs: dict[str, _Job] = {}

    async def complete(
        self,
        key: str,
        request: CompletionRequest,
        *,
        on_first_token: Callable[[], None] | None = None,
        on_end: Callable[[Outcome], None] | None = None,
    ) -> CompletionResult | None:
        """Generate for ``request``; a newer call with the same ``key`` supersedes this one.

        Returns None when cancelled before generation started. Raises
        :class:`asyncio.CancelledError` when the calling task is cancelled and
        :class:`Superseded` when a newer call for ``key`` came. ``on_first_token`` and
        ``on_end`` are called on the event loop; ``on_end`` when the thread has finished
        with the model, which for a cancelled request is after the request has ended.
        """
        loop = asyncio.get_running_loop()
        started = threading.Event()

        def on_token(_: TokenEvent) -> None:
            if on_first_token is not None and not started.is_set():
                started.set()
                _call_soon(loop, on_first_token)

        def work(service: CompletionService, cancel: threading.Event) -> CompletionResult:
            return service.complete(request, cancel=cancel, on_token=on_token)

        return await self.run(key, work, on_end=on_end)

    async def run(
        self,
        key: str,
        fn: Callable[[CompletionService, threading.Event], T],
        *,
        on_end: Callable[[Outcome], None] | None = None,
    ) -> T | None:
        """``fn(service, cancel)`` on a worker thread, with :meth:`complete`'s supersede and
        cancel rules (None when cancelled before it started)."""
        loop = asyncio.get_running_loop()
        job = _Job(key, task=asyncio.current_task())
        old = self._jobs.get(key)
        if old is not None:
            old.superseded = True
            old.cancel.set()
            if old.task is not None:
                old.task.cancel()
        self._jobs[key] = job

        def work() -> T | None:
            if job.cancel.is_set():
                return None
            service = self.engine.service()
            if job.cancel.is_set():
                return None
            return fn(service, job.cancel)

        future = self._executor.submit(work)
        if on_end is not None:

            def done(f: Future[T | None]) -> None:
                if f.cancelled():
                    outcome = Outcome(None)
                elif f.exception() is not None:
                    outcome = Outcome(None, f.exception())
                else:
                    value = f.result()
                    outcome = Outcome(value if isinstance(value, CompletionResult) else None)
                _call_soon(loop, on_end, outcome)

            future.add_done_callback(done)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            job.cancel.set()
            if job.superseded:
                raise Superseded(f"superseded by a newer request ({key})") from None
            raise
        finally:
            if self._jobs.get(key) is job:
                del self._jobs[key]

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel.set()

    def close(self) -> None:
        """Stop every generation and wait for the threads."""
        self.cancel_all()
        self._executor.shutdown(wait=True, cancel_futures=True)


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the loop has closed (server exiting)
        loop.call_soon_threadsafe(fn, *args)
