"""The llama.cpp-server dialect: ``GET /health`` and ``POST /infill`` as llama.vim and
llama.vscode send them.

Answers are compact JSON (``"content":"``, which llama.vim matches on), and
``response_fields`` paths such as ``timings/prompt_n`` come back flattened as top-level keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from llamapilot.completion.types import CompletionRequest, CompletionResult
from llamapilot.context.snippets import Snippet
from llamapilot.engine.base import PromptStats
from llamapilot.server.generation import run_to_end, service_work
from llamapilot.server.scheduler import EventPipe, Job
from llamapilot.server.sse import SSEResponse, sse
from llamapilot.server.state import AppState, client_key, session_of

router = APIRouter()


@router.get("/health")
async def health(state: AppState) -> JSONResponse:
    """200 with the model's name once it is loaded; 503 while loading or if loading failed."""
    if state.service is None:
        if state.load_error is not None:
            body = {
                "status": "error",
                "error": {
                    "message": f"the model failed to load: {state.load_error}",
                    "type": "unavailable_error",
                    "param": None,
                    "code": "model_unavailable",
                },
            }
        else:
            body = {
                "status": "loading model",
                "error": {
                    "message": "Loading model",
                    "type": "unavailable_error",
                    "param": None,
                    "code": 503,
                },
            }
        return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})
    info = state.service.backend.info
    return JSONResponse(
        {
            "status": "ok",
            "model": state.model_id,
            "name": info.name,
            "n_ctx": info.n_ctx,
            **state.scheduler.stats(),
        }
    )


class ExtraChunk(BaseModel):
    model_config = ConfigDict(extra="ignore")
    filename: str = ""
    text: str = ""


class InfillBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    input_prefix: str = ""
    input_suffix: str = ""
    input_extra: list[ExtraChunk] = Field(default_factory=list, max_length=256)
    prompt: str = ""
    n_predict: int = Field(-1, ge=-1, le=4096)
    temperature: float = Field(0.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    top_k: int = Field(40, ge=0, le=1000)
    seed: int | None = None
    stop: list[str] = Field(default_factory=list, max_length=16)
    stream: bool = False
    cache_prompt: bool = True
    n_indent: int = Field(0, ge=0, le=1000)
    t_max_prompt_ms: int | None = None
    t_max_predict_ms: int | None = Field(None, ge=-1)
    response_fields: list[str] | None = Field(None, max_length=64)
    id_slot: int | None = None


def _flatten(body: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """llama.cpp's ``response_fields``: each ``a/b`` path's value as a top-level key."""
    out: dict[str, Any] = {}
    for path in fields:
        value: Any = body
        for part in path.split("/"):
            if isinstance(value, dict) and part in value:
                value = value[part]
            else:
                break
        else:
            out[path] = value
    return out


def _timings(stats: PromptStats | None, result: CompletionResult | None) -> dict[str, Any]:
    if result is not None:
        n_prompt, n_cached = result.n_prompt_tokens, result.n_cached_tokens
        prompt_ms, predict_ms = result.timings.prompt_ms, result.timings.predict_ms
        n_pred = result.n_predicted
    else:
        s = stats or PromptStats()
        n_prompt, n_cached, prompt_ms, predict_ms = (
            s.n_prompt_tokens,
            s.n_cached_tokens,
            s.prompt_ms,
            s.predict_ms,
        )
        n_pred = 0
    evaluated = max(0, n_prompt - n_cached)

    def per(ms: float, n: int) -> tuple[float, float]:
        return (ms / n if n else 0.0), (1000.0 * n / ms if ms > 0 else 0.0)

    p_tok, p_sec = per(prompt_ms, evaluated)
    g_tok, g_sec = per(predict_ms, n_pred)
    return {
        "cache_n": n_cached,
        "prompt_n": evaluated,
        "prompt_ms": round(prompt_ms, 3),
        "prompt_per_token_ms": round(p_tok, 3),
        "prompt_per_second": round(p_sec, 3),
        "predicted_n": n_pred,
        "predicted_ms": round(predict_ms, 3),
        "predicted_per_token_ms": round(g_tok, 3),
        "predicted_per_second": round(g_sec, 3),
    }


def _stop_type(result: CompletionResult | None, job: Job) -> str:
    if result is None:
        return "limit"
    if result.stop_reason == "length" or job.reason == "deadline":
        return "limit"
    return "eos"


@router.post("/infill")
async def infill(body: InfillBody, request: Request, state: AppState) -> Response:
    """Fill in the middle, as llama.cpp's server does; for a model without FIM tokens the
    completion core works prefix-first and cuts the suggestion at the suffix."""
    service = state.require()
    session = session_of(request)
    extra = [
        Snippet(c.text, c.filename or None, 1, c.text.count("\n") + 1, "extra")
        for c in body.input_extra
        if c.text
    ]
    creq = CompletionRequest(
        prefix=body.input_prefix + body.prompt,
        suffix=body.input_suffix,
        extra=extra,
        max_tokens=None if body.n_predict < 0 else max(1, body.n_predict),
        temperature=body.temperature,
        top_p=body.top_p,
        seed=body.seed,
        stop=[s for s in body.stop if s],
        n_top=0,
        session=session,
    )
    job = state.scheduler.new_job(client_key(request, session), session)
    pipe = EventPipe(asyncio.get_running_loop())
    state.scheduler.submit(
        job,
        service_work(
            service,
            creq,
            job,
            pipe,
            t_max_predict_ms=body.t_max_predict_ms,
            prefill_only=body.n_predict == 0,
        ),
        pipe,
    )
    events, result = await run_to_end(request, state.scheduler, job, pipe)
    stats = next((p[1] for k, p in events if k == "done"), None)
    content = result.text if result is not None else ""
    n_pred = result.n_predicted if result is not None else 0
    answer: dict[str, Any] = {
        "index": 0,
        "content": content,
        "id_slot": 0,
        "stop": True,
        "model": state.model_id,
        "tokens_predicted": n_pred,
        "tokens_evaluated": (
            result.n_prompt_tokens if result else stats.n_prompt_tokens if stats else 0
        ),
        "tokens_cached": (
            result.n_cached_tokens if result else stats.n_cached_tokens if stats else 0
        ),
        "truncated": False,
        "stop_type": _stop_type(result, job) if body.n_predict != 0 else "limit",
        "stopping_word": "",
        "timings": _timings(stats, result),
    }
    if body.response_fields:
        answer = _flatten(answer, body.response_fields)
    if not body.stream:
        return JSONResponse(answer)

    async def replay() -> AsyncIterator[bytes]:
        for t in result.tokens if result is not None else []:
            yield sse({"index": 0, "content": t.text, "stop": False, "id_slot": 0})
        yield sse({**answer, "content": ""} if "content" in answer else answer)

    return SSEResponse(replay())
