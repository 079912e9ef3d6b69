"""Pieces of context that go into a prompt, each tagged with where it came from."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Snippet:
    """A piece of text from a file, placed in the prompt as context.

    ``kind`` says why it is there: ``"prefix"`` and ``"suffix"`` (the document around
    the cursor), ``"open_file"``, ``"definition"``, ``"similar"``, ``"extra"`` ...
    Lines are 1-based and inclusive, as editors show them.
    """

    text: str
    path: str | None
    start_line: int
    end_line: int
    kind: str = "extra"
    score: float | None = None

    def source(self) -> dict[str, object]:
        """The ``sources`` entry for this snippet in a result (no text)."""
        d = asdict(self)
        d.pop("text")
        if d["score"] is None:
            d.pop("score")
        return d
