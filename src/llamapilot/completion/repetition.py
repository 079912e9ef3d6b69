"""Spotting a model stuck in a loop.

Small models fall into loops such as ``len(s) == 1 and len(s) == 2 and len(s) == 3 ...``,
which no line-based stop rule ends before ``max_tokens`` runs out. The tail of the
generated text is checked for a short unit repeated back to back: four identical copies,
or eight when runs of digits count as one symbol (counting loops like ``x1, x2, x3``; fewer
would catch legitimately unrolled code such as ``a[0] = b[0]`` ... ``a[3] = b[3]``).
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[A-Za-z_]")

EXACT_REPEATS = 4
COUNTING_REPEATS = 8
MIN_SPAN = 64
"""Characters the repeated run must cover at least."""
MAX_UNIT = 80
"""The longest unit considered."""
_TAIL = MAX_UNIT * COUNTING_REPEATS


def looping(text: str) -> int:
    """Where the loop at the end of ``text`` starts (an index into ``text``), or -1.

    The loop starts after the first copy of the unit (that one may be legitimate), at a
    line boundary: the line after the one the second copy starts in, or, for a loop
    within one line, the start of that line.
    """
    tail = text[-_TAIL:]
    if len(tail) < MIN_SPAN:
        return -1
    found = _periodic(tail, EXACT_REPEATS)
    if found is None:
        norm, index = _normalise(tail)
        hit = _periodic(norm, COUNTING_REPEATS)
        if hit is None:
            return -1
        found = index[hit]
    start = len(text) - len(tail) + found
    nl = text.find("\n", start)
    return nl + 1 if nl >= 0 else text.rfind("\n", 0, start) + 1


def _periodic(s: str, repeats: int) -> int | None:
    """The start of the second copy of a unit repeated ``repeats`` times at the end of
    ``s``, or None."""
    for unit in range(2, MAX_UNIT + 1):
        span = max(unit * repeats, MIN_SPAN)
        if span > len(s):
            return None
        first = len(s) - span
        if s[first:-unit] != s[first + unit :]:
            continue
        if not _WORD.search(s[first : first + unit]):
            continue  # rulers, indentation, ``0, 0, 0``: not loops
        while first > 0 and s[first - 1] == s[first - 1 + unit]:
            first -= 1
        return first + unit
    return None


def _normalise(s: str) -> tuple[str, list[int]]:
    """``s`` with every run of digits as one ``0``, and for each of its characters the
    index of the character it came from."""
    out: list[str] = []
    index: list[int] = []
    pos = 0
    for m in _DIGITS.finditer(s):
        out.append(s[pos : m.start()])
        index.extend(range(pos, m.start()))
        out.append("0")
        index.append(m.start())
        pos = m.end()
    out.append(s[pos:])
    index.extend(range(pos, len(s)))
    return "".join(out), index
