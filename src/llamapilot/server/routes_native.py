"""llamapilot's own API: ``POST /v1/llamapilot/complete`` answers with the same JSON as
``llamapilot complete --json`` (:meth:`CompletionResult.to_dict`), and the playground page.

A request names its cursor as a document ``text`` with a 0-based ``cursor`` {line,
character} (as LSP does), or directly as ``prefix`` and ``suffix``. ``session`` (or the
``X-Llamapilot-Session`` header) names the editor session: a newer request of the same
session cancels the older one, which then answers 409 with code ``superseded``.
"""

from __future__ import annotations

import asyncio
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from llamapilot.completion.types import CompletionRequest
from llamapilot.context.snippets import Snippet
from llamapilot.errors import InputError
from llamapilot.server.generation import run_to_end, service_work
from llamapilot.server.scheduler import EventPipe
from llamapilot.server.state import AppState, client_key, session_of

router = APIRouter()

STATIC_FILES = {
    "playground.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
}
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Cursor(BaseModel):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class OpenFile(BaseModel):
    model_config = ConfigDict(extra="ignore")
    path: str | None = None
    text: str


class NativeBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str | None = None
    cursor: Cursor | None = None
    prefix: str | None = None
    suffix: str = ""
    path: str | None = Field(None, max_length=4096)
    language: str | None = Field(None, max_length=64)
    open_files: list[OpenFile] = Field(default_factory=list, max_length=256)
    max_tokens: int | None = Field(None, ge=1, le=4096)
    multiline: bool | None = None
    max_lines: int | None = Field(None, ge=1, le=500)
    temperature: float = Field(0.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    seed: int | None = None
    stop: list[str] = Field(default_factory=list, max_length=16)
    n_top: int = Field(5, ge=0, le=20)
    template: str | None = Field(None, max_length=64)
    postprocess: bool = True
    session: str | None = Field(None, max_length=200)

    def to_request(self, session: str | None) -> CompletionRequest:
        common = dict(
            path=self.path,
            language=self.language,
            extra=[
                Snippet(f.text, f.path, 1, f.text.count("\n") + 1, "open_file")
                for f in self.open_files
                if f.text
            ],
            max_tokens=self.max_tokens,
            multiline=self.multiline,
            max_lines=self.max_lines,
            temperature=self.temperature,
            top_p=self.top_p,
            seed=self.seed,
            stop=[s for s in self.stop if s],
            n_top=self.n_top,
            template=self.template,
            postprocess=self.postprocess,
            session=session,
        )
        if self.text is not None:
            if self.cursor is None:
                raise InputError("cursor: required with text", param="cursor")
            return CompletionRequest.at_position(
                self.text, self.cursor.line, self.cursor.character, **common
            )
        if self.prefix is None:
            raise InputError("give text and cursor, or prefix (and suffix)", param="text")
        return CompletionRequest(
            prefix=self.prefix, suffix=self.suffix, cursor_line=self.prefix.count("\n"), **common
        )


@router.post("/v1/llamapilot/complete")
async def native_complete(body: NativeBody, request: Request, state: AppState) -> JSONResponse:
    service = state.require()
    session = session_of(request, body.session)
    creq = body.to_request(session)
    job = state.scheduler.new_job(client_key(request, session), session)
    pipe = EventPipe(asyncio.get_running_loop())
    state.scheduler.submit(job, service_work(service, creq, job, pipe), pipe)
    _, result = await run_to_end(request, state.scheduler, job, pipe)
    if result is None:  # pragma: no cover - service_work always reports a result
        raise InputError("no result")
    return JSONResponse(result.to_dict())


def _asset(name: str) -> str:
    return resources.files("llamapilot.server").joinpath("static", name).read_text("utf-8")


@router.get("/", response_class=HTMLResponse)
async def playground() -> HTMLResponse:
    return HTMLResponse(_asset("index.html"), headers=PAGE_HEADERS)


@router.get("/static/{name}")
async def static_asset(name: str) -> Response:
    media = STATIC_FILES.get(name)
    if media is None:  # a fixed list: no paths from the request reach the file system
        return JSONResponse(
            {
                "error": {
                    "message": "not found",
                    "type": "not_found_error",
                    "param": None,
                    "code": 404,
                }
            },
            status_code=404,
        )
    return Response(_asset(name), media_type=media, headers=PAGE_HEADERS)


class WriteBody(BaseModel):
    """``POST /v1/llamapilot/write-function``: the Python function around ``line`` of
    ``text`` (0-based), or the one ``prefix`` ends in, written from its docstring."""

    model_config = ConfigDict(extra="ignore")

    text: str | None = None
    line: int | None = Field(None, ge=0)
    prefix: str | None = None
    candidates: int = Field(8, ge=1, le=32)
    temperature: float = Field(0.7, ge=0, le=2)
    seed: int = 0
    session: str | None = Field(None, max_length=200)


@router.post("/v1/llamapilot/write-function")
async def write_function_route(body: WriteBody, request: Request, state: AppState) -> JSONResponse:
    """Drafts run against the docstring's examples in the sandbox; the best one is
    returned with every candidate and, for ``text``, the file as a unified diff."""
    import difflib

    from llamapilot.completion.synthesis import write_function
    from llamapilot.completion.write import function_slot

    service = state.require()
    slot = None
    if body.text is not None:
        if body.line is None:
            raise InputError("line: required with text", param="line")
        slot = function_slot(body.text, body.line)
        prefix = slot.prefix
    elif body.prefix is not None:
        prefix = body.prefix
    else:
        raise InputError("give text and line, or prefix", param="text")
    session = session_of(request, body.session)
    job = state.scheduler.new_job(client_key(request, session), session)
    pipe = EventPipe(asyncio.get_running_loop())

    def work() -> None:
        written = write_function(
            service,
            prefix,
            candidates=body.candidates,
            temperature=body.temperature,
            seed=body.seed,
            cancel=job.cancel,
        )
        pipe.put("result", written)

    state.scheduler.submit(job, work, pipe)
    _, written = await run_to_end(request, state.scheduler, job, pipe)
    out = written.to_dict()
    if slot is not None and body.text is not None:
        new = slot.with_body(written.text)
        out["diff"] = "".join(
            difflib.unified_diff(body.text.splitlines(True), new.splitlines(True), "a", "b")
        )
    return JSONResponse(out)
