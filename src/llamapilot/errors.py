"""Typed exceptions raised at llamapilot's boundaries.

Front ends map these to their own format: the CLI prints one line and exits 2,
the HTTP server answers with an OpenAI-style error body.
"""

from __future__ import annotations


class LlamapilotError(Exception):
    """Base class of every error llamapilot reports to a user."""


class ModelFileError(LlamapilotError):
    """A model file is missing, unreadable or not a valid GGUF file."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class InputError(LlamapilotError):
    """A request is invalid: a position outside the document, a bad option, ..."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        self.param = param
        super().__init__(message)


class ContextLengthExceededError(InputError):
    """The prompt does not fit the model's context window."""

    def __init__(self, n_tokens: int, n_ctx: int) -> None:
        self.n_tokens = n_tokens
        self.n_ctx = n_ctx
        super().__init__(
            f"the prompt has {n_tokens} tokens, more than the model's context window of {n_ctx}",
            param="prompt",
        )


class BackendError(LlamapilotError):
    """A backend failed to load a model or to generate."""


class UnknownNameError(InputError):
    """A backend, template or language name that nothing registered."""
