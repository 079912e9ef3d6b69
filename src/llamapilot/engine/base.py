"""The backend protocol: a model that streams tokens with log-probabilities.

A backend keeps its model loaded between calls. Backends register through the
``llamapilot.backends`` entry-point group (see :mod:`llamapilot.engine.registry`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class TopLogprob:
    """One alternative the model considered at a position."""

    text: str
    logprob: float
    id: int = -1
    """The token's id in the model's vocabulary (-1 where a backend does not say)."""


@dataclass(frozen=True)
class TokenEvent:
    """One generated token, as the model produced it."""

    id: int
    text: str
    logprob: float
    top: tuple[TopLogprob, ...] = ()


@dataclass
class GenerationParams:
    """How to generate. Greedy (temperature 0) by default, so results reproduce."""

    max_tokens: int = 64
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 40
    seed: int | None = None
    n_top: int = 5
    """How many alternatives to report per token."""
    stop_tokens: Sequence[str] = ()
    """Token texts that end generation (not included in the output), e.g. ``<|im_end|>``."""
    forced_prefix: str = ""
    """Text the first generated tokens must reproduce (token healing): each of the first
    tokens must agree with what is left of it, so a prompt cut back to a token boundary
    continues exactly where the user's text ended."""


@dataclass
class PromptStats:
    """What a generation's prompt cost, filled in by the backend."""

    n_prompt_tokens: int = 0
    n_cached_tokens: int = 0
    prompt_ms: float = 0.0
    predict_ms: float = 0.0
    n_predicted: int = 0
    stop_reason: str = ""  # "length", "stop" (stop token / end of text), "cancelled", "callback"


@dataclass
class ModelInfo:
    """Identity of the loaded model, for results and the audit trail."""

    name: str
    path: str
    sha256: str
    n_ctx: int
    family: str | None = None  # prompt template name detected for the model, if any
    chat_template: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)


ShouldStop = Callable[[str], bool]
"""Called with all text generated so far after each token; True ends generation."""


@runtime_checkable
class Backend(Protocol):
    """What the completion core needs of a model."""

    name: str

    @property
    def info(self) -> ModelInfo: ...

    @property
    def n_ctx(self) -> int: ...

    def tokenize(self, text: str, *, special: bool = True, add_bos: bool = False) -> list[int]:
        """Tokens of ``text``; ``special`` parses special-token strings such as ``<|im_start|>``."""
        ...

    def token_text(self, token_id: int) -> str: ...

    def generate(
        self,
        prompt: str | Sequence[int],
        params: GenerationParams,
        *,
        should_stop: ShouldStop | None = None,
        cancel: threading.Event | None = None,
        stats: PromptStats | None = None,
    ) -> Iterator[TokenEvent]:
        """Stream tokens for ``prompt``, reusing cached state for a shared prompt prefix."""
        ...
