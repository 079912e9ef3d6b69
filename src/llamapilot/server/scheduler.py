"""A bounded, fair queue in front of the one model.

One generation runs at a time (the model has one KV cache), in a dedicated worker thread.
Waiting requests sit in per-client queues served round-robin, so one busy client cannot
starve another; beyond ``max_queue`` waiting requests the server answers 429 at once.
A request carrying an editor session id supersedes the older request of that session.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from llamapilot.server.errors import ServerBusyError, SupersededError


@dataclass(eq=False)
class Job:
    """One request's claim on the model, and the switch that stops its generation."""

    key: str
    session: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    reason: str | None = None
    """Why ``cancel`` was set: "disconnected", "superseded", "deadline" or "shutdown"."""
    _granted: asyncio.Future[None] | None = None

    def stop(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self.cancel.set()


class EventPipe:
    """Items from the worker thread to the event loop, in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(self, kind: str, payload: Any = None) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody listens any more
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (kind, payload))

    async def get(self) -> tuple[str, Any]:
        return await self._queue.get()


class Scheduler:
    def __init__(self, max_queue: int) -> None:
        self.max_queue = max_queue
        self._waiting: OrderedDict[str, deque[Job]] = OrderedDict()
        self._n_waiting = 0
        self._running: Job | None = None
        self._sessions: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="llamapilot-model")
        self.completed = 0
        self.abandoned = 0

    # --- state ------------------------------------------------------------------------------
    @property
    def n_waiting(self) -> int:
        return self._n_waiting

    @property
    def busy(self) -> bool:
        return self._running is not None

    def stats(self) -> dict[str, int | bool]:
        return {
            "busy": self.busy,
            "waiting": self._n_waiting,
            "completed": self.completed,
            "abandoned": self.abandoned,
        }

    # --- jobs -------------------------------------------------------------------------------
    def new_job(self, key: str, session: str | None = None) -> Job:
        """A job for a request; raises :class:`ServerBusyError` if the queue is full."""
        if self._n_waiting >= self.max_queue and self.busy:
            raise ServerBusyError(
                f"the server is busy: {self._n_waiting} requests are waiting", retry_after=1
            )
        job = Job(key=key, session=session or None)
        if job.session:
            older = self._sessions.get(job.session)
            if older is not None:
                older.stop("superseded")
                self._drop(older, SupersededError("a newer request of this session replaced it"))
            self._sessions[job.session] = job
        return job

    def submit(self, job: Job, work: Callable[[], None], pipe: EventPipe) -> None:
        """Run ``work`` in the model thread once ``job``'s turn comes.

        ``work`` reports through ``pipe``; an exception it raises arrives as ("error", exc).
        """
        task = asyncio.get_running_loop().create_task(self._run(job, work, pipe))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def abandon(self, job: Job, reason: str) -> None:
        """The client is gone: stop the job's generation, or take it out of the queue."""
        if not job.cancel.is_set() and (job is self._running or job._granted is not None):
            self.abandoned += 1
        job.stop(reason)
        self._drop(job, None)

    async def _run(self, job: Job, work: Callable[[], None], pipe: EventPipe) -> None:
        try:
            await self._acquire(job)
        except (SupersededError, ServerBusyError) as exc:
            pipe.put("error", exc)
            return
        except asyncio.CancelledError:
            return
        if job.cancel.is_set():
            self._release(job)
            pipe.put(
                "error",
                SupersededError("a newer request of this session replaced it")
                if job.reason == "superseded"
                else ServerBusyError("cancelled", status=503),
            )
            return
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor, work)
        except RuntimeError as exc:  # executor shut down
            self._release(job)
            pipe.put("error", ServerBusyError(f"the server is stopping: {exc}", status=503))
            return
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            job.stop("shutdown")
            future.add_done_callback(lambda _f: self._release(job))
            raise
        except Exception as exc:  # noqa: BLE001 - reported to the request
            pipe.put("error", exc)
        self._release(job)

    async def _acquire(self, job: Job) -> None:
        if self._running is None and not self._n_waiting:
            self._running = job
            return
        job._granted = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(job.key, deque()).append(job)
        self._n_waiting += 1
        try:
            await job._granted
        except asyncio.CancelledError:
            self._drop(job, None)
            raise

    def _release(self, job: Job) -> None:
        if self._running is not job:
            return
        self._running = None
        self.completed += 1
        if job.session and self._sessions.get(job.session) is job:
            del self._sessions[job.session]
        self._grant_next()

    def _grant_next(self) -> None:
        while self._running is None and self._waiting:
            key, queue = next(iter(self._waiting.items()))
            job = queue.popleft()
            self._n_waiting -= 1
            if queue:
                self._waiting.move_to_end(key)  # round-robin between clients
            else:
                del self._waiting[key]
            if job._granted is not None and not job._granted.done():
                self._running = job
                job._granted.set_result(None)

    def _drop(self, job: Job, error: Exception | None) -> None:
        """Take a waiting job out of its queue (a running one stops through its Event)."""
        queue = self._waiting.get(job.key)
        if queue is not None and job in queue:
            queue.remove(job)
            self._n_waiting -= 1
            if not queue:
                del self._waiting[job.key]
            if job._granted is not None and not job._granted.done():
                if error is not None:
                    job._granted.set_exception(error)
                else:
                    job._granted.cancel()
        if job.session and self._sessions.get(job.session) is job and job.reason:
            del self._sessions[job.session]

    def shutdown(self) -> None:
        for queue in self._waiting.values():
            for job in queue:
                job.stop("shutdown")
        if self._running is not None:
            self._running.stop("shutdown")
        self._executor.shutdown(wait=False, cancel_futures=True)
