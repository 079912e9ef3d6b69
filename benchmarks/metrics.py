"""Next-line metrics as CrossCodeEval/RepoBench define them: exact match and edit similarity."""

from __future__ import annotations


def first_line(text: str) -> str:
    """The first non-empty line of a suggestion, stripped."""
    for line in text.split("\n"):
        if line.strip():
            return line.strip()
    return ""


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def edit_similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    return 1.0 - levenshtein(a, b) / max(len(a), len(b))
