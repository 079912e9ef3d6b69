"""Running generations for requests: the model-thread work and its bridge to asyncio.

Work functions run in the scheduler's model thread and report through an
:class:`EventPipe`: ``("token", TokenEvent)`` while generating, then ``("done", PromptStats)``
or ``("result", CompletionResult)``, or ``("error", exception)``. The request side watches
the client: when it goes away, the job's Event is set and the generation stops at the next
token (or the job leaves the queue if it never started).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request

from llamapilot.completion.service import CompletionService
from llamapilot.completion.types import CompletionRequest, CompletionResult
from llamapilot.engine.base import Backend, GenerationParams, PromptStats, TokenEvent
from llamapilot.errors import ContextLengthExceededError
from llamapilot.server.errors import ClientGoneError, ServerBusyError, SupersededError
from llamapilot.server.scheduler import EventPipe, Job, Scheduler

TERMINAL = ("done", "result", "error")


class StopCutter:
    """Cuts a token stream at the first stop string, holding back tokens that might be the
    start of one, so a streamed answer never shows part of a stop string."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self.text = ""
        self.released = 0  # characters of ``text`` already handed out
        self.pending: list[TokenEvent] = []
        self.hit = False

    def feed(self, event: TokenEvent) -> list[TokenEvent]:
        if self.hit:
            return []
        self.pending.append(event)
        self.text += event.text
        if not self.stops:
            return self._release(len(self.text))
        start = max(0, self.released - max(len(s) for s in self.stops))
        found = [i for s in self.stops if (i := self.text.find(s, start)) >= 0]
        if found:
            self.hit = True
            return self._release(min(found))
        hold = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(self.text)), hold, -1):
                if self.text.endswith(s[:k]):
                    hold = k
                    break
        return self._release(len(self.text) - hold)

    def finish(self) -> list[TokenEvent]:
        return [] if self.hit else self._release(len(self.text))

    def _release(self, upto: int) -> list[TokenEvent]:
        out: list[TokenEvent] = []
        while self.pending:
            ev = self.pending[0]
            end = self.released + len(ev.text)
            if end <= upto:
                out.append(ev)
                self.pending.pop(0)
                self.released = end
            elif self.hit and self.released < upto:  # straddles the stop: keep its head
                out.append(TokenEvent(ev.id, ev.text[: upto - self.released], ev.logprob, ev.top))
                self.released = upto
                break
            else:
                break
        if self.hit:
            self.pending.clear()
        return out


def raw_work(
    backend: Backend,
    items: Sequence[tuple[int, str | list[int], GenerationParams]],
    stops: Sequence[str],
    job: Job,
    pipe: EventPipe,
    *,
    add_bos: bool = True,
) -> Callable[[], None]:
    """Work that streams raw prompts' tokens (``/v1/completions``, chat), one choice after
    another: ``("token", (index, TokenEvent))`` then ``("done", (index, PromptStats))``."""

    def work() -> None:
        tokenized = []
        for index, prompt, params in items:  # check every prompt before generating any
            tokens = (
                backend.tokenize(prompt, special=True, add_bos=add_bos)
                if isinstance(prompt, str)
                else list(prompt)
            )
            if len(tokens) + params.max_tokens > backend.n_ctx:
                raise ContextLengthExceededError(len(tokens) + params.max_tokens, backend.n_ctx)
            tokenized.append((index, tokens, params))
        for index, tokens, params in tokenized:
            cutter = StopCutter(stops)
            stats = PromptStats()
            if not job.cancel.is_set():
                for ev in backend.generate(
                    tokens,
                    params,
                    should_stop=lambda _t, c=cutter: c.hit,
                    cancel=job.cancel,
                    stats=stats,
                ):
                    for out in cutter.feed(ev):
                        pipe.put("token", (index, out))
                for out in cutter.finish():
                    pipe.put("token", (index, out))
            if cutter.hit:
                stats.stop_reason = "stop"
            elif job.cancel.is_set():
                stats.stop_reason = "cancelled"
            pipe.put("done", (index, stats))

    return work


def service_work(
    service: CompletionService,
    request: CompletionRequest,
    job: Job,
    pipe: EventPipe,
    *,
    t_max_predict_ms: float | None = None,
    prefill_only: bool = False,
) -> Callable[[], None]:
    """Work that runs the completion core for one request."""

    def work() -> None:
        if prefill_only:  # llama.vim's n_predict 0: warm the KV cache, answer nothing
            prepared = service.prepare(request)
            stats = PromptStats()
            for _ in service.backend.generate(
                prepared.tokens, GenerationParams(max_tokens=0), cancel=job.cancel, stats=stats
            ):
                pass
            pipe.put("done", (0, stats))
            return
        # t_max_predict_ms as llama.cpp reads it: past the deadline, stop at a new line.
        # Leading whitespace may be the re-generated end of the prefix (token healing).
        first: list[float] = []
        seen: list[str] = []

        def on_token(ev: TokenEvent) -> None:
            now = time.perf_counter()
            if not first:
                first.append(now)
            seen.append(ev.text)
            if (
                t_max_predict_ms is not None
                and t_max_predict_ms > 0
                and (now - first[0]) * 1000 > t_max_predict_ms
                and "\n" in "".join(seen).lstrip()
            ):
                job.stop("deadline")

        result = service.complete(request, cancel=job.cancel, on_token=on_token)
        pipe.put("result", result)

    return work


class DisconnectWatch:
    """Calls ``job``'s abandonment as soon as the client of ``request`` disconnects."""

    def __init__(self, request: Request, scheduler: Scheduler, job: Job, pipe: EventPipe) -> None:
        self._request = request
        self._scheduler = scheduler
        self._job = job
        self._pipe = pipe
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            message = await self._request.receive()
            if message["type"] == "http.disconnect":
                self._scheduler.abandon(self._job, "disconnected")
                self._pipe.put("error", ClientGoneError())
                return

    def stop(self) -> None:
        self._task.cancel()


def raise_for(kind: str, payload: Any, job: Job) -> None:
    """Raise the error an event stands for (errors, and a superseded job's result)."""
    if kind == "error":
        raise payload
    if job.reason == "superseded":
        raise SupersededError("a newer request of this session replaced it")
    if job.reason == "shutdown":
        raise ServerBusyError("the server is stopping", status=503)


async def run_to_end(
    request: Request, scheduler: Scheduler, job: Job, pipe: EventPipe, n_done: int = 1
) -> tuple[list[tuple[str, Any]], CompletionResult | None]:
    """Wait for a whole answer (non-streaming): all events, and the result if any."""
    watch = DisconnectWatch(request, scheduler, job, pipe)
    events: list[tuple[str, Any]] = []
    result: CompletionResult | None = None
    try:
        finished = 0
        while finished < n_done:
            kind, payload = await pipe.get()
            if kind == "error":
                raise_for(kind, payload, job)
            events.append((kind, payload))
            if kind == "result":
                result = payload
                finished += 1
            elif kind == "done":
                finished += 1
        raise_for("", None, job)
        return events, result
    except asyncio.CancelledError:
        scheduler.abandon(job, "disconnected")
        raise
    finally:
        watch.stop()


async def first_event(
    request: Request, scheduler: Scheduler, job: Job, pipe: EventPipe
) -> tuple[str, Any]:
    """Wait for the first event of a streamed answer, so errors still get a status code."""
    watch = DisconnectWatch(request, scheduler, job, pipe)
    try:
        kind, payload = await pipe.get()
        if kind == "error":
            raise payload
        return kind, payload
    except asyncio.CancelledError:
        scheduler.abandon(job, "disconnected")
        raise
    finally:
        watch.stop()
