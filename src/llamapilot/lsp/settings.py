"""The language server's settings, from ``initializationOptions`` and
``workspace/didChangeConfiguration``.

Editors send an object, either flat or under a ``"llamapilot"`` key, with camelCase keys
(snake_case works too)::

    {"enabled": true, "model": "/models/qwen.gguf", "maxTokens": 64, "multiline": null}

A wrong value is skipped with a warning rather than failing the whole object, so one typo
does not switch suggestions off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class LspSettings:
    enabled: bool = True
    """Whether to suggest at all."""
    model: str | None = None
    """GGUF file; None uses llamapilot's configured model (the embedded one by default)."""
    n_ctx: int | None = None
    n_threads: int | None = None
    template: str | None = None
    max_tokens: int | None = None
    """Most tokens per suggestion; None uses the configured default."""
    max_lines: int | None = None
    multiline: bool | None = None
    """Force multi-line (True) or single-line (False); None decides from the cursor."""
    open_files: bool = True
    """Use the other open documents as context."""
    recent_edits: bool = True
    """Use recently edited regions as context."""
    snippet_lines: int = 40
    """Most lines taken from one other document or edit."""

    def engine_key(self) -> tuple[object, ...]:
        """What decides which model is loaded; a change means loading again."""
        return (self.model, self.n_ctx, self.n_threads)


_BOOL = ("enabled", "open_files", "recent_edits")
_OPT_BOOL = ("multiline",)
_OPT_STR = ("model", "template")
_OPT_INT = {"n_ctx": 256, "n_threads": 1, "max_tokens": 1, "max_lines": 1}
_INT = {"snippet_lines": 1}
_NAMES = {f.name for f in fields(LspSettings)}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def parse_settings(raw: Any, base: LspSettings | None = None) -> tuple[LspSettings, list[str]]:
    """``base`` updated with the values in ``raw``, and a warning for each value skipped."""
    base = base or LspSettings()
    if raw is None:
        return base, []
    if not isinstance(raw, dict):
        return base, [f"settings must be an object, got {type(raw).__name__}"]
    if isinstance(raw.get("llamapilot"), dict):
        raw = raw["llamapilot"]
    changes: dict[str, Any] = {}
    warnings: list[str] = []
    for key, value in raw.items():
        name = _snake(str(key))
        if name not in _NAMES:
            warnings.append(f"unknown setting {key!r}")
            continue
        problem = _check(name, value)
        if problem:
            warnings.append(f"setting {key!r} {problem}; ignored")
            continue
        changes[name] = None if name in _OPT_STR and value == "" else value
    return replace(base, **changes), warnings


def _check(name: str, value: Any) -> str | None:
    """Why ``value`` is not valid for setting ``name``, or None."""
    if name in _BOOL:
        return None if isinstance(value, bool) else "must be true or false"
    if name in _OPT_BOOL:
        return None if value is None or isinstance(value, bool) else "must be true, false or null"
    if name in _OPT_STR:
        return None if value is None or isinstance(value, str) else "must be a string or null"
    if name in _OPT_INT and value is None:
        return None
    low = _OPT_INT.get(name, _INT.get(name, 1))
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number"
    if value < low:
        return f"must be at least {low}"
    return None
