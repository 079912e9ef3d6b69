"""Suggestions reused while the user types what was suggested.

When the new prefix is the old prefix plus characters that the old suggestion began with,
and the text after the cursor is unchanged, the rest of the old suggestion is still the
model's answer (greedy decoding would produce it again), so it is returned without running
the model. This is what makes typing through a suggestion feel instant; llama.vim and
Continue do the same.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass

from llamapilot.completion.types import CompletionRequest, CompletionResult, Timings
from llamapilot.engine.base import TokenEvent


@dataclass(frozen=True)
class _Key:
    path: str | None
    suffix: str
    template: str | None
    multiline: bool | None


def cacheable(request: CompletionRequest) -> bool:
    return request.temperature <= 0 and request.postprocess and not request.stop


class SuggestionCache:
    """A small LRU of recent suggestions, looked up by prefix extension."""

    def __init__(self, capacity: int = 256, window: int = 4096) -> None:
        self.capacity = capacity
        self.window = window
        """How much of the prefix's end is compared (with its full length)."""
        self._entries: OrderedDict[tuple[_Key, int, str], CompletionResult] = OrderedDict()

    def _key(self, request: CompletionRequest) -> _Key:
        return _Key(request.path, request.suffix[:2048], request.template, request.multiline)

    def clear(self) -> None:
        self._entries.clear()

    def put(self, request: CompletionRequest, result: CompletionResult) -> None:
        if not cacheable(request) or not result.text:
            return
        k = (self._key(request), len(request.prefix), request.prefix[-self.window :])
        self._entries[k] = result
        self._entries.move_to_end(k)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def get(self, request: CompletionRequest) -> CompletionResult | None:
        """The rest of a cached suggestion that the user has been typing, if any."""
        if not cacheable(request):
            return None
        key = self._key(request)
        prefix = request.prefix
        for (k, n_old, tail), result in reversed(self._entries.items()):
            typed = prefix[n_old:]
            if (
                k == key
                and n_old <= len(prefix)
                and len(typed) < len(result.text)
                and result.text.startswith(typed)
                and prefix[n_old - len(tail) : n_old] == tail
            ):
                return _rest_of(result, len(typed))
        return None


def _rest_of(result: CompletionResult, skip: int) -> CompletionResult:
    """``result`` without its first ``skip`` characters (tokens cut to match)."""
    tokens: list[TokenEvent] = []
    pos = 0
    for ev in result.tokens:
        a, b = pos, pos + len(ev.text)
        pos = b
        if b <= skip:
            continue
        tokens.append(ev if a >= skip else dataclasses.replace(ev, text=ev.text[skip - a :]))
    return dataclasses.replace(
        result,
        text=result.text[skip:],
        tokens=tokens,
        timings=Timings(0.0, 0.0, 0.0),
        n_predicted=0,
        from_cache=True,
    )
