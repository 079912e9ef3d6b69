"""The suggestions a session made, so an editor can ask why (inspect) and report what
the user did with them (accept or reject)."""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from llamapilot.completion.types import CompletionResult
from llamapilot.errors import InputError

FEEDBACK = ("accepted", "rejected")


@dataclass
class Suggestion:
    id: str
    uri: str
    line: int
    character: int
    result: CompletionResult
    created: float
    feedback: str | None = None

    def inspect(self) -> dict[str, Any]:
        """The result's JSON contract plus where and when it was made and what came of it."""
        return {
            "id": self.id,
            "uri": self.uri,
            "position": {"line": self.line, "character": self.character},
            "created": self.created,
            "feedback": self.feedback,
            **self.result.to_dict(),
        }


class SuggestionLog:
    """The last ``capacity`` suggestions, by id."""

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Suggestion] = OrderedDict()
        self._ids = itertools.count(1)
        self.counts = {"suggested": 0, "accepted": 0, "rejected": 0}

    def add(self, uri: str, line: int, character: int, result: CompletionResult) -> Suggestion:
        s = Suggestion(f"s{next(self._ids)}", uri, line, character, result, time.time())
        self._items[s.id] = s
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        self.counts["suggested"] += 1
        return s

    def get(self, suggestion_id: str | None = None) -> Suggestion:
        """A suggestion by id, or the latest one for None."""
        if suggestion_id is None:
            if not self._items:
                raise InputError("no suggestion has been made yet", param="id")
            return next(reversed(self._items.values()))
        if not isinstance(suggestion_id, str) or suggestion_id not in self._items:
            raise InputError(f"unknown or expired suggestion id {suggestion_id!r}", param="id")
        return self._items[suggestion_id]

    def feedback(self, suggestion_id: str, verdict: str) -> Suggestion:
        """Record that the user accepted or rejected a suggestion (the last word counts)."""
        if verdict not in FEEDBACK:
            raise InputError(f"feedback must be one of {FEEDBACK}", param="feedback")
        s = self.get(suggestion_id)
        if s.feedback is not None:
            self.counts[s.feedback] -= 1
        s.feedback = verdict
        self.counts[verdict] += 1
        return s
