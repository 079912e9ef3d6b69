"""Open documents, kept in sync from ``didOpen``/``didChange``/``didClose``, and where they
were edited last.

Incremental changes carry a range in the client's position encoding; a change without a
range replaces the whole text. Every change also records which lines it touched, so that
recently edited regions can go into prompts as context.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from llamapilot.errors import InputError
from llamapilot.lsp.positions import UTF16, check_encoding, line_starts, position_to_offset


@dataclass(frozen=True)
class TextChange:
    """One content change: ``text`` replaces ``start``..``end`` (``(line, character)``
    pairs), or the whole document when ``start`` is None."""

    text: str
    start: tuple[int, int] | None = None
    end: tuple[int, int] | None = None


@dataclass(frozen=True)
class Edit:
    """Lines (0-based, inclusive, in the document as it is now) that changed recently."""

    uri: str
    start_line: int
    end_line: int
    tick: int


@dataclass
class Document:
    uri: str
    text: str
    version: int = 0
    language_id: str | None = None
    tick: int = 0
    """When the document was last opened or changed (store ticks; larger is later)."""
    _starts: list[int] | None = field(default=None, repr=False)

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = line_starts(self.text)
        return self._starts

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def lines(self, start: int, end: int) -> str:
        """Lines ``start``..``end`` (0-based, inclusive) joined with their newlines."""
        starts = self.starts
        start = max(0, start)
        if start >= len(starts):
            return ""
        stop = starts[end + 1] if end + 1 < len(starts) else len(self.text)
        return self.text[starts[start] : stop]

    def set_text(self, text: str) -> None:
        self.text = text
        self._starts = None


class DocumentStore:
    """The open documents of one editor session."""

    def __init__(self, encoding: str = UTF16, max_edits: int = 16, merge_gap: int = 2) -> None:
        self.encoding = check_encoding(encoding)
        self.max_edits = max_edits
        self.merge_gap = merge_gap
        self._docs: dict[str, Document] = {}
        self._edits: list[Edit] = []  # most recent first
        self._ticks = itertools.count(1)

    def __contains__(self, uri: str) -> bool:
        return uri in self._docs

    def __len__(self) -> int:
        return len(self._docs)

    def open(self, uri: str, text: str, version: int = 0, language_id: str | None = None) -> None:
        self._docs[uri] = Document(uri, text, version, language_id, next(self._ticks))

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)
        self._edits = [e for e in self._edits if e.uri != uri]

    def get(self, uri: str) -> Document:
        doc = self._docs.get(uri)
        if doc is None:
            raise InputError(f"document {uri} is not open", param="textDocument")
        return doc

    def others(self, uri: str) -> list[Document]:
        """Open documents other than ``uri``, most recently touched first."""
        docs = [d for d in self._docs.values() if d.uri != uri]
        return sorted(docs, key=lambda d: d.tick, reverse=True)

    def edits(self) -> list[Edit]:
        """Recently edited regions, most recent first."""
        return list(self._edits)

    def change(self, uri: str, changes: list[TextChange], version: int | None = None) -> None:
        """Apply content changes in order, as ``textDocument/didChange`` sends them."""
        doc = self.get(uri)
        for change in changes:
            self._apply(doc, change)
        if version is not None:
            doc.version = version
        doc.tick = next(self._ticks)

    def _apply(self, doc: Document, change: TextChange) -> None:
        old = doc.text
        if change.start is None:
            doc.set_text(change.text)
            if old == change.text:
                return
            first, removed, inserted = _changed_lines(old, change.text)
        else:
            end = change.end if change.end is not None else change.start
            if end < change.start:
                raise InputError(
                    f"change range ends ({end}) before it starts ({change.start})", param="range"
                )
            starts = doc.starts
            a = position_to_offset(old, *change.start, self.encoding, starts)
            b = position_to_offset(old, *end, self.encoding, starts)
            doc.set_text(old[:a] + change.text + old[b:])
            first = old.count("\n", 0, a)
            removed = old.count("\n", a, b)
            inserted = change.text.count("\n")
        self._record(doc.uri, first, removed, inserted)

    def _record(self, uri: str, first: int, removed: int, inserted: int) -> None:
        """Note that lines ``first..first+removed`` became ``first..first+inserted``
        (inclusive; -1 for a pure insertion or deletion of whole lines)."""
        delta = inserted - removed
        new = Edit(uri, first, first + max(inserted, 0), next(self._ticks))
        kept: list[Edit] = []
        for e in self._edits:
            if e.uri != uri:
                kept.append(e)
                continue
            s, t = e.start_line, e.end_line
            if s > first + removed:  # wholly below the change: shift
                s, t = s + delta, t + delta
            elif t >= first:  # overlaps the replaced lines: joins the new edit
                s = min(s, first)
                t = t + delta if t > first + removed else first + inserted
            if s <= new.end_line + self.merge_gap and t >= new.start_line - self.merge_gap:
                new = Edit(uri, min(s, new.start_line), max(t, new.end_line), new.tick)
            else:
                kept.append(Edit(uri, s, t, e.tick))
        self._edits = [new, *kept][: self.max_edits]


def _changed_lines(old: str, new: str) -> tuple[int, int, int]:
    """For a whole-text replacement: the first changed line and the line counts of the
    old and new regions less one, as in :meth:`DocumentStore._record` (-1 for none);
    common leading and trailing lines do not count."""
    a, b = old.split("\n"), new.split("\n")
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    # k old lines became m new ones; in newline counts that is k - 1 and m - 1
    return head, len(a) - tail - head - 1, len(b) - tail - head - 1
