"""The document windows around the cursor that go into a prompt.

The prefix window starts at a line boundary that moves in steps of ``ANCHOR_LINES`` lines,
so that while the user types, the start of the prompt stays the same and the engine reuses
its KV cache instead of re-reading the whole window at every keystroke.
"""

from __future__ import annotations

from dataclasses import dataclass

ANCHOR_LINES = 16
TOP_LEVEL_SEARCH = 48


def _top_level(line: str) -> bool:
    """A line that starts a top-level statement: no indentation, not a closer or string."""
    return bool(line) and (line[0].isalpha() or line[0] in "@_#")


@dataclass(frozen=True)
class DocumentWindow:
    prefix: str
    suffix: str
    prefix_start_line: int
    """0-based document line where the prefix window starts."""
    cursor_line: int
    suffix_end_line: int
    """0-based document line where the suffix window ends (inclusive)."""


def make_window(
    prefix: str,
    suffix: str,
    *,
    prefix_chars: int,
    suffix_chars: int,
    cursor_line: int | None = None,
) -> DocumentWindow:
    """Cut ``prefix`` and ``suffix`` to about ``prefix_chars`` and ``suffix_chars``
    characters, at line boundaries."""
    if cursor_line is None:
        cursor_line = prefix.count("\n")
    first_line = cursor_line - prefix.count("\n")  # document line where ``prefix`` starts

    lines = prefix.split("\n")
    total = len(prefix)
    drop = 0  # lines dropped from the start
    while total > prefix_chars and drop < len(lines) - 1:
        total -= len(lines[drop]) + 1
        drop += 1
    if drop:
        # snap forward to an anchor so the window start is stable while typing
        anchored = -(-(first_line + drop) // ANCHOR_LINES) * ANCHOR_LINES - first_line
        if anchored < len(lines) - 1:
            drop = anchored
        # start at a top-level line when one is near, so the window does not open in the
        # middle of a string or a block (which confuses both the model and the parser)
        for j in range(drop, min(drop + TOP_LEVEL_SEARCH, len(lines) - 1)):
            if _top_level(lines[j]):
                drop = j
                break
    kept = "\n".join(lines[drop:])
    if len(kept) > prefix_chars:  # a single huge line: keep its tail
        kept = kept[-prefix_chars:]

    s_lines = suffix.split("\n")
    out: list[str] = []
    used = 0
    for i, line in enumerate(s_lines):
        if i > 0 and used + len(line) + 1 > suffix_chars:
            break
        out.append(line)
        used += len(line) + 1
    kept_suffix = "\n".join(out)
    if len(kept_suffix) > suffix_chars:
        kept_suffix = kept_suffix[:suffix_chars]
    return DocumentWindow(
        prefix=kept,
        suffix=kept_suffix,
        prefix_start_line=first_line + drop,
        cursor_line=cursor_line,
        suffix_end_line=cursor_line + len(out) - 1,
    )
