"""Server-sent events that notice a client leaving, whatever the ASGI server's version."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


def sse(data: Any) -> bytes:
    """One event; JSON is compact (``"content":"``), as llama.cpp's server writes it."""
    text = data if isinstance(data, str) else dumps(data)
    return f"data: {text}\n\n".encode()


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class SSEResponse(StreamingResponse):
    """A ``text/event-stream`` response that calls ``on_close(finished)`` when it ends,
    ``finished`` False if the client went away first."""

    media_type = "text/event-stream"

    def __init__(
        self, content: AsyncIterator[bytes], on_close: Callable[[bool], None] | None = None
    ) -> None:
        super().__init__(
            content,
            media_type=self.media_type,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        finished = False
        try:
            async with anyio.create_task_group() as tg:

                async def stream() -> None:
                    nonlocal finished
                    await self.stream_response(send)
                    finished = True
                    tg.cancel_scope.cancel()

                async def watch() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    tg.cancel_scope.cancel()

                tg.start_soon(stream)
                tg.start_soon(watch)
        except OSError:
            pass  # the connection broke while sending
        finally:
            if self._on_close is not None:
                self._on_close(finished)
            aclose = getattr(self.body_iterator, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
