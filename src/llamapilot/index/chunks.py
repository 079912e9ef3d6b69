"""Splitting files into overlapping line windows, and the search terms of a text.

Terms are whole identifiers plus their snake_case / camelCase parts, lower-cased, so that
``send_data`` matches ``sendData`` partly and ``send`` fully.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CHUNK_LINES = 16
CHUNK_STRIDE = 8

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


@dataclass(frozen=True)
class Chunk:
    start_line: int  # 1-based, inclusive
    end_line: int
    text: str


def split_chunks(text: str, lines: int = CHUNK_LINES, stride: int = CHUNK_STRIDE) -> list[Chunk]:
    """Windows of ``lines`` lines every ``stride`` lines; blank windows are dropped."""
    all_lines = text.split("\n")
    if all_lines and all_lines[-1] == "":
        all_lines.pop()
    out = []
    start = 0
    while start < len(all_lines):
        end = min(start + lines, len(all_lines))
        body = "\n".join(all_lines[start:end])
        if body.strip():
            out.append(Chunk(start + 1, end, body))
        if end == len(all_lines):
            break
        start += stride
    return out


def identifiers(text: str) -> list[str]:
    return _IDENT.findall(text)


def terms(text: str, cache: dict[str, list[str]] | None = None) -> list[str]:
    """Search terms of ``text`` in order, with repeats (BM25 counts them). ``cache`` maps
    identifiers already seen to their terms (identifiers repeat a lot within a file)."""
    out: list[str] = []
    seen = cache if cache is not None else {}
    for ident in _IDENT.findall(text):
        parts = seen.get(ident)
        if parts is None:
            split = _PARTS.findall(ident)
            parts = [ident.lower()]
            if len(split) > 1:
                parts += [p.lower() for p in split if len(p) > 1]
            seen[ident] = parts
        out += parts
    return out


def chunk_terms(text: str, chunks: list[Chunk]) -> list[str]:
    """The search terms of each chunk of ``text``, each line's terms computed once."""
    cache: dict[str, list[str]] = {}
    per_line = [terms(line, cache) for line in text.split("\n")]
    return [
        " ".join(t for line in per_line[c.start_line - 1 : c.end_line] for t in line)
        for c in chunks
    ]


def term_set(text: str) -> set[str]:
    return set(terms(text))
