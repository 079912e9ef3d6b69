"""The completion core's request and result types, shared by every front end."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from llamapilot.context.snippets import Snippet
from llamapilot.engine.base import ModelInfo, TokenEvent
from llamapilot.errors import InputError


@dataclass
class CompletionRequest:
    """A request for a suggestion at a cursor.

    ``prefix`` is the document's text before the cursor and ``suffix`` the text after it.
    Build one from a whole document and a position with :meth:`at_position`.
    """

    prefix: str
    suffix: str = ""
    path: str | None = None
    language: str | None = None
    extra: list[Snippet] = field(default_factory=list)
    """Context from other files (open documents, ``input_extra``, retrieval)."""
    max_tokens: int | None = None
    """Upper bound on generated tokens; None takes the configured default."""
    multiline: bool | None = None
    """Force single- (False) or multi-line (True) suggestions; None decides from the cursor."""
    max_lines: int | None = None
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    """Extra strings that end the suggestion (not included)."""
    n_top: int = 5
    cursor_line: int = 0
    """0-based line of the cursor in the document (for sources)."""
    template: str | None = None
    """Prompt template name; None detects it from the model."""
    postprocess: bool = True
    session: str | None = None
    """Editor session id: a newer request of the same session supersedes an older one."""

    @classmethod
    def at_position(cls, text: str, line: int, character: int, **kwargs: Any) -> CompletionRequest:
        """Split ``text`` at a 0-based ``line`` and ``character`` (code points)."""
        lines = text.split("\n")
        if line < 0 or line >= len(lines):
            raise InputError(
                f"line {line + 1} is outside the document, which has {len(lines)} lines",
                param="line",
            )
        current = lines[line]
        bare = current.rstrip("\r")
        if character < 0 or character > len(bare):
            raise InputError(
                f"column {character + 1} is outside line {line + 1}, "
                f"which has {len(bare)} characters",
                param="column",
            )
        offset = sum(len(s) + 1 for s in lines[:line]) + character
        return cls(prefix=text[:offset], suffix=text[offset:], cursor_line=line, **kwargs)


@dataclass
class Timings:
    prompt_ms: float = 0.0
    predict_ms: float = 0.0
    total_ms: float = 0.0

    def to_dict(self) -> dict[str, float]:
        return {
            "prompt_ms": round(self.prompt_ms, 3),
            "predict_ms": round(self.predict_ms, 3),
            "total_ms": round(self.total_ms, 3),
        }


@dataclass
class CompletionResult:
    """A suggestion and everything needed to see why it was made."""

    text: str
    tokens: list[TokenEvent]
    """The generated tokens that make up ``text`` (cut to it by post-processing)."""
    prompt: str
    sources: list[Snippet]
    model: ModelInfo
    timings: Timings
    raw_text: str = ""
    """What the model generated before post-processing."""
    forced_prefix: str = ""
    """The end of the document prefix that was cut from the prompt to a token boundary
    and that the first generated tokens reproduced (not part of ``text``)."""
    template: str = ""
    n_prompt_tokens: int = 0
    n_cached_tokens: int = 0
    n_predicted: int = 0
    stop_reason: str = ""
    multiline: bool = False
    audit_id: int | None = None
    """The audit log record of this result, when the audit log is on."""
    from_cache: bool = False
    """True when the suggestion is the rest of an earlier one the user is typing through."""

    @property
    def confidence(self) -> float:
        """Geometric mean of the kept tokens' probabilities, 0..1 (0 for no tokens)."""
        if not self.tokens:
            return 0.0
        mean = sum(t.logprob for t in self.tokens) / len(self.tokens)
        return math.exp(mean)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract shared by ``llamapilot complete --json`` and the native API."""
        return {
            "id": self.audit_id,
            "text": self.text,
            "tokens": [
                {
                    "text": t.text,
                    "logprob": round(t.logprob, 6),
                    "top": [{"text": a.text, "logprob": round(a.logprob, 6)} for a in t.top],
                }
                for t in self.tokens
            ],
            "confidence": round(self.confidence, 6),
            "prompt": self.prompt,
            "sources": [s.source() for s in self.sources],
            "model": {
                "name": self.model.name,
                "path": self.model.path,
                "sha256": self.model.sha256,
            },
            "timings": self.timings.to_dict(),
            "template": self.template,
            "multiline": self.multiline,
            "raw_text": self.raw_text,
            "forced_prefix": self.forced_prefix,
            "usage": {
                "prompt_tokens": self.n_prompt_tokens,
                "cached_tokens": self.n_cached_tokens,
                "completion_tokens": self.n_predicted,
            },
            "stop_reason": self.stop_reason,
            "from_cache": self.from_cache,
        }
