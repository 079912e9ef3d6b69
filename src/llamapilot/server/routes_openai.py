"""The OpenAI dialect: ``/v1/models``, ``/v1/completions`` (``suffix`` for fill-in-the-middle),
``/v1/chat/completions``, with server-sent-event streaming.

``/v1/completions`` without ``suffix`` continues the prompt as is (raw); with ``suffix`` it runs
the completion core, whose post-processing cuts the suggestion where it meets the suffix.
Streams of the completion core are sent once the suggestion is final, token by token.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from llamapilot.chat.template import ChatMessage
from llamapilot.completion.types import CompletionRequest, CompletionResult
from llamapilot.engine.base import GenerationParams, PromptStats, TokenEvent
from llamapilot.errors import InputError
from llamapilot.server.generation import (
    first_event,
    raise_for,
    raw_work,
    run_to_end,
)
from llamapilot.server.scheduler import EventPipe, Job
from llamapilot.server.sse import SSEResponse, sse
from llamapilot.server.state import AppState, ServerState, client_key, session_of

router = APIRouter()
MAX_TOKENS_LIMIT = 131_072
CHAT_DEFAULT_MAX_TOKENS = 1024


class StreamOptions(BaseModel):
    include_usage: bool = False


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    temperature: float = Field(1.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = Field(40, ge=0, le=1000)
    n: int = Field(1, ge=1, le=8)
    stop: str | list[str] | None = Field(None)
    stream: bool = False
    stream_options: StreamOptions | None = None
    seed: int | None = None

    def stops(self) -> list[str]:
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        if len(stops) > 16:
            raise InputError("stop: at most 16 stop strings", param="stop")
        return [s for s in stops if s]


class CompletionBody(_Body):
    prompt: str | list[str] | list[int] = ""
    suffix: str | None = None
    max_tokens: int | None = Field(16, ge=1, le=MAX_TOKENS_LIMIT)
    logprobs: int | None = Field(None, ge=0, le=20)
    echo: Literal[False] = False


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    text: str | None = None


class ChatMessageBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text or "" for p in self.content if p.type == "text")


class ChatBody(_Body):
    messages: list[ChatMessageBody] = Field(min_length=1, max_length=4096)
    max_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS_LIMIT)
    max_completion_tokens: int | None = Field(None, ge=1, le=MAX_TOKENS_LIMIT)
    logprobs: bool = False
    top_logprobs: int | None = Field(None, ge=0, le=20)


# --- helpers ---------------------------------------------------------------------------------
def finish_reason(stop_reason: str, job: Job) -> str:
    if stop_reason == "length":
        return "length"
    if stop_reason == "cancelled" and job.reason not in ("deadline", None):
        return "cancelled"
    return "stop"


def completion_logprobs(tokens: list[TokenEvent], n_top: int, offset: int = 0) -> dict[str, Any]:
    offsets = []
    for t in tokens:
        offsets.append(offset)
        offset += len(t.text)
    return {
        "tokens": [t.text for t in tokens],
        "token_logprobs": [t.logprob for t in tokens],
        "top_logprobs": [{a.text: a.logprob for a in t.top[:n_top]} for t in tokens],
        "text_offset": offsets,
    }


def chat_logprobs(tokens: list[TokenEvent], n_top: int) -> dict[str, Any]:
    def entry(text: str, logprob: float) -> dict[str, Any]:
        return {"token": text, "logprob": logprob, "bytes": list(text.encode("utf-8"))}

    return {
        "content": [
            {
                **entry(t.text, t.logprob),
                "top_logprobs": [entry(a.text, a.logprob) for a in t.top[:n_top]],
            }
            for t in tokens
        ]
    }


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _new_job(request: Request, state: ServerState) -> Job:
    session = session_of(request)
    return state.scheduler.new_job(client_key(request, session), session)


# --- /v1/models ------------------------------------------------------------------------------
@router.get("/v1/models")
async def list_models(state: AppState) -> dict[str, Any]:
    info = state.require().backend.info
    return {
        "object": "list",
        "data": [
            {
                "id": state.model_id,
                "object": "model",
                "created": 0,
                "owned_by": "llamapilot",
                "meta": {
                    "name": info.name,
                    "path": info.path,
                    "sha256": info.sha256,
                    "n_ctx": info.n_ctx,
                },
            }
        ],
    }


# --- /v1/completions -------------------------------------------------------------------------
@router.post("/v1/completions")
@router.post("/v1/engines/copilot-codex/completions", include_in_schema=False)
async def completions(body: CompletionBody, request: Request, state: AppState) -> Response:
    service = state.require()
    if body.suffix is not None:
        return await _fim_completions(body, request, state)
    prompts: list[str | list[int]]
    if isinstance(body.prompt, str):
        prompts = [body.prompt]
    elif body.prompt and all(isinstance(p, int) for p in body.prompt):
        prompts = [list(body.prompt)]  # type: ignore[arg-type]
    else:
        prompts = list(body.prompt)  # type: ignore[arg-type]
    if not prompts or len(prompts) * body.n > 16:
        raise InputError("prompt: give 1 to 16 prompts (times n)", param="prompt")
    n_top = body.logprobs or 0
    items = [
        (
            p * body.n + j,
            prompt,
            GenerationParams(
                max_tokens=body.max_tokens or 16,
                temperature=body.temperature,
                top_p=body.top_p,
                top_k=body.top_k,
                seed=None if body.seed is None else body.seed + j,
                n_top=n_top,
            ),
        )
        for p, prompt in enumerate(prompts)
        for j in range(body.n)
    ]
    job = _new_job(request, state)
    pipe = EventPipe(asyncio.get_running_loop())
    state.scheduler.submit(job, raw_work(service.backend, items, body.stops(), job, pipe), pipe)
    meta = {
        "id": f"cmpl-{uuid.uuid4().hex}",
        "created": int(time.time()),
        "model": state.model_id,
        "object": "text_completion",
    }
    if body.stream:
        return await _stream_raw(request, state, job, pipe, meta, len(items), body, chat=False)
    events, _ = await run_to_end(request, state.scheduler, job, pipe, n_done=len(items))
    tokens, stats = _gather(events, len(items))
    choices = [
        {
            "index": i,
            "text": "".join(t.text for t in tokens[i]),
            "logprobs": completion_logprobs(tokens[i], n_top)
            if body.logprobs is not None
            else None,
            "finish_reason": finish_reason(stats[i].stop_reason, job),
        }
        for i in range(len(items))
    ]
    usage = _usage(
        sum(stats[i * body.n].n_prompt_tokens for i in range(len(prompts))),
        sum(s.n_predicted for s in stats),
    )
    return JSONResponse({**meta, "choices": choices, "usage": usage})


def _gather(
    events: list[tuple[str, Any]], n: int
) -> tuple[list[list[TokenEvent]], list[PromptStats]]:
    tokens: list[list[TokenEvent]] = [[] for _ in range(n)]
    stats = [PromptStats() for _ in range(n)]
    for kind, (index, payload) in events:
        if kind == "token":
            tokens[index].append(payload)
        elif kind == "done":
            stats[index] = payload
    return tokens, stats


async def _stream_raw(
    request: Request,
    state: ServerState,
    job: Job,
    pipe: EventPipe,
    meta: dict[str, Any],
    n_choices: int,
    body: CompletionBody | ChatBody,
    *,
    chat: bool,
    n_top: int = 0,
) -> Response:
    first = await first_event(request, state.scheduler, job, pipe)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    want_logprobs = (body.logprobs is not None) if not chat else bool(body.logprobs)
    n_top = n_top if chat else (body.logprobs or 0)

    def choice(index: int, token: TokenEvent | None, finish: str | None) -> dict[str, Any]:
        text = token.text if token is not None else ""
        if chat:
            delta = {"content": text} if token is not None else {}
            lp = chat_logprobs([token], n_top) if token is not None and want_logprobs else None
            return {"index": index, "delta": delta, "logprobs": lp, "finish_reason": finish}
        lp = completion_logprobs([token], n_top) if token is not None and want_logprobs else None
        return {"index": index, "text": text, "logprobs": lp, "finish_reason": finish}

    async def events() -> AsyncIterator[bytes]:
        n_prompt = 0
        n_completion = 0
        done = 0
        if chat:
            for i in range(n_choices):
                yield sse(
                    {
                        **meta,
                        "choices": [
                            {
                                "index": i,
                                "delta": {"role": "assistant", "content": ""},
                                "logprobs": None,
                                "finish_reason": None,
                            }
                        ],
                    }
                )
        kind, payload = first
        while True:
            if kind == "error":
                raise_for(kind, payload, job)
            index, item = payload
            if kind == "token":
                yield sse({**meta, "choices": [choice(index, item, None)]})
            elif kind == "done":
                n_prompt = max(n_prompt, item.n_prompt_tokens)
                n_completion += item.n_predicted
                yield sse(
                    {**meta, "choices": [choice(index, None, finish_reason(item.stop_reason, job))]}
                )
                done += 1
                if done >= n_choices:
                    break
            kind, payload = await pipe.get()
        if include_usage:
            yield sse({**meta, "choices": [], "usage": _usage(n_prompt, n_completion)})
        yield sse("[DONE]")

    async def guarded() -> AsyncIterator[bytes]:
        try:
            async for chunk in events():
                yield chunk
        except Exception as exc:  # noqa: BLE001 - headers are sent: report in the stream
            from llamapilot.server.errors import response_for

            yield sse(response_for(exc).body.decode())
            yield sse("[DONE]")

    def on_close(finished: bool) -> None:
        if not finished:
            state.scheduler.abandon(job, "disconnected")

    if chat:
        meta = {**meta, "object": "chat.completion.chunk"}
    return SSEResponse(guarded(), on_close=on_close)


async def _fim_completions(body: CompletionBody, request: Request, state: ServerState) -> Response:
    """``/v1/completions`` with ``suffix``: the completion core, once per choice."""
    if not isinstance(body.prompt, str):
        raise InputError("prompt: with suffix, prompt must be one string", param="prompt")
    service = state.require()
    n_top = body.logprobs or 0
    creq = CompletionRequest(
        prefix=body.prompt,
        suffix=body.suffix or "",
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        top_p=body.top_p,
        seed=body.seed,
        stop=body.stops(),
        n_top=n_top,
        session=session_of(request),
    )
    job = _new_job(request, state)
    pipe = EventPipe(asyncio.get_running_loop())

    def work() -> None:
        for j in range(body.n):
            if job.cancel.is_set():
                break
            if body.seed is not None:
                creq.seed = body.seed + j
            pipe.put("result", service.complete(creq, cancel=job.cancel))

    state.scheduler.submit(job, work, pipe)
    events, _result = await run_to_end(request, state.scheduler, job, pipe, n_done=body.n)
    results: list[CompletionResult] = [p for k, p in events if k == "result"]
    meta = {
        "id": f"cmpl-{uuid.uuid4().hex}",
        "created": int(time.time()),
        "model": state.model_id,
        "object": "text_completion",
    }
    choices = [
        {
            "index": i,
            "text": r.text,
            "logprobs": completion_logprobs(r.tokens, n_top) if body.logprobs is not None else None,
            "finish_reason": finish_reason(r.stop_reason, job),
        }
        for i, r in enumerate(results)
    ]
    usage = _usage(
        results[0].n_prompt_tokens if results else 0, sum(r.n_predicted for r in results)
    )
    if not body.stream:
        return JSONResponse({**meta, "choices": choices, "usage": usage})

    async def replay() -> AsyncIterator[bytes]:
        for i, r in enumerate(results):
            for t in r.tokens:
                lp = completion_logprobs([t], n_top) if body.logprobs is not None else None
                yield sse(
                    {
                        **meta,
                        "choices": [
                            {"index": i, "text": t.text, "logprobs": lp, "finish_reason": None}
                        ],
                    }
                )
            yield sse(
                {
                    **meta,
                    "choices": [
                        {
                            "index": i,
                            "text": "",
                            "logprobs": None,
                            "finish_reason": choices[i]["finish_reason"],
                        }
                    ],
                }
            )
        if body.stream_options and body.stream_options.include_usage:
            yield sse({**meta, "choices": [], "usage": usage})
        yield sse("[DONE]")

    return SSEResponse(replay())


# --- /v1/chat/completions --------------------------------------------------------------------
@router.post("/v1/chat/completions")
async def chat_completions(body: ChatBody, request: Request, state: AppState) -> Response:
    service = state.require()
    template = state.chat_template
    messages = [
        ChatMessage("system" if m.role == "developer" else m.role, m.text()) for m in body.messages
    ]
    text = template.render(messages)
    add_bos = not (template.bos_token and text.startswith(template.bos_token))
    requested = body.max_completion_tokens or body.max_tokens
    n_top = (body.top_logprobs or 0) if body.logprobs else 0
    backend = service.backend
    job = _new_job(request, state)
    pipe = EventPipe(asyncio.get_running_loop())

    def work() -> None:
        tokens = backend.tokenize(text, special=True, add_bos=add_bos)
        room = backend.n_ctx - len(tokens)
        max_tokens = requested or max(1, min(CHAT_DEFAULT_MAX_TOKENS, room))
        items = [
            (
                j,
                tokens,
                GenerationParams(
                    max_tokens=max_tokens,
                    temperature=body.temperature,
                    top_p=body.top_p,
                    top_k=body.top_k,
                    seed=None if body.seed is None else body.seed + j,
                    n_top=n_top,
                    stop_tokens=template.stop_strings,
                ),
            )
            for j in range(body.n)
        ]
        raw_work(backend, items, body.stops(), job, pipe)()

    state.scheduler.submit(job, work, pipe)
    meta = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "created": int(time.time()),
        "model": state.model_id,
        "object": "chat.completion",
    }
    if body.stream:
        return await _stream_raw(
            request, state, job, pipe, meta, body.n, body, chat=True, n_top=n_top
        )
    events, _ = await run_to_end(request, state.scheduler, job, pipe, n_done=body.n)
    tokens, stats = _gather(events, body.n)
    choices = [
        {
            "index": i,
            "message": {"role": "assistant", "content": "".join(t.text for t in tokens[i])},
            "logprobs": chat_logprobs(tokens[i], n_top) if body.logprobs else None,
            "finish_reason": finish_reason(stats[i].stop_reason, job),
        }
        for i in range(body.n)
    ]
    usage = _usage(stats[0].n_prompt_tokens, sum(s.n_predicted for s in stats))
    return JSONResponse({**meta, "choices": choices, "usage": usage})
