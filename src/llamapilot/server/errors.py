"""OpenAI-style error bodies, ``{"error": {"message", "type", "param", "code"}}``, for every
failure the server reports: validation, llamapilot's typed errors, HTTP errors, overload."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from llamapilot.errors import (
    BackendError,
    ContextLengthExceededError,
    InputError,
    LlamapilotError,
    ModelFileError,
)

log = logging.getLogger("llamapilot.server")


class ServerBusyError(LlamapilotError):
    """The request queue is full (429) or the model is not ready (503)."""

    def __init__(self, message: str, *, status: int = 429, retry_after: int = 1) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class SupersededError(LlamapilotError):
    """A newer request of the same editor session replaced this one before it ran."""


class ClientGoneError(LlamapilotError):
    """The client disconnected before its answer was ready (nobody reads the answer)."""


def error_body(
    message: str, type_: str, *, param: str | None = None, code: str | int | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def error_response(
    status: int,
    message: str,
    type_: str,
    *,
    param: str | None = None,
    code: str | int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(message, type_, param=param, code=code), status_code=status, headers=headers
    )


def response_for(exc: Exception) -> JSONResponse:
    """The HTTP answer for an exception raised while serving a request."""
    if isinstance(exc, ContextLengthExceededError):
        return error_response(
            400,
            str(exc),
            "invalid_request_error",
            param=exc.param,
            code="context_length_exceeded",
        )
    if isinstance(exc, InputError):
        return error_response(
            400, str(exc), "invalid_request_error", param=exc.param, code="invalid_value"
        )
    if isinstance(exc, ServerBusyError):
        return error_response(
            exc.status,
            str(exc),
            "server_busy",
            code="queue_full" if exc.status == 429 else "unavailable",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, ClientGoneError):
        return error_response(499, "client closed the request", "cancelled", code="client_gone")
    if isinstance(exc, SupersededError):
        return error_response(409, str(exc), "cancelled", code="superseded")
    if isinstance(exc, ModelFileError):
        return error_response(
            503,
            f"the model is not available: {exc}",
            "unavailable_error",
            code="model_unavailable",
            headers={"Retry-After": "30"},
        )
    if isinstance(exc, BackendError):
        return error_response(500, str(exc), "server_error", code="backend_error")
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal server error", "server_error", code="internal_error")


def _param_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "header", "path")]
    return ".".join(parts) or None


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return error_response(
            400,
            "the request body is not valid JSON",
            "invalid_request_error",
            code="invalid_json",
        )
    # a union reports one error per member (loc ends in a type tag such as "str"):
    # name the field they share
    loc = tuple(first.get("loc", ()))
    same_field = [tuple(e.get("loc", ())) for e in errors if tuple(e.get("loc", ()))[:2] == loc[:2]]
    common = loc
    for other in same_field:
        n = 0
        while n < min(len(common), len(other)) and common[n] == other[n]:
            n += 1
        common = common[:n]
    param = _param_of(common)
    msg = first.get("msg", "invalid value")
    if first.get("type") == "missing":
        msg = "a required field is missing"
    if param is None and first.get("type") in ("model_attributes_type", "dict_type"):
        msg = "the request body must be a JSON object (Content-Type: application/json)"
    text = f"{param}: {msg}" if param else str(msg)
    if len(errors) > 1:
        others = [p for e in errors[1:] if (p := _param_of(tuple(e.get("loc", ()))))]
        if others:
            text += f" (also invalid: {', '.join(dict.fromkeys(others))})"
    return error_response(422, text, "invalid_request_error", param=param, code="invalid_value")


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    kinds = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}
    return error_response(
        exc.status_code,
        str(exc.detail),
        kinds.get(exc.status_code, "invalid_request_error"),
        code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _llamapilot(request: Request, exc: Exception) -> JSONResponse:
    return response_for(exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(LlamapilotError, _llamapilot)
    app.add_exception_handler(Exception, _llamapilot)
