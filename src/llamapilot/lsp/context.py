"""Context for a suggestion from the editor session: recent edits and other open documents.

Snippets come best first, because the core keeps them in order while they fit its budget:
recently edited regions (latest first), then the start of each other open document (most
recently touched first), where imports and top-level definitions usually are.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from llamapilot.context.snippets import Snippet
from llamapilot.lsp.documents import DocumentStore
from llamapilot.lsp.settings import LspSettings

NEAR_LINES = 64
"""Edits in the current document this close to the cursor are in the prompt's own window."""
MAX_OPEN_FILES = 6
EDIT_MARGIN = 2
"""Lines of surrounding text kept around an edited region."""


def uri_to_path(uri: str, root: str | None = None) -> str:
    """A file URI as a path, relative to ``root`` when inside it; other URIs unchanged."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return uri
    path = unquote(parsed.path)
    if root:
        try:
            return str(PurePosixPath(path).relative_to(PurePosixPath(root)))
        except ValueError:
            pass
    return path


def gather_context(
    store: DocumentStore,
    uri: str,
    cursor_line: int,
    settings: LspSettings,
    root: str | None = None,
) -> list[Snippet]:
    """Snippets for a suggestion in ``uri`` at ``cursor_line`` (0-based), best first."""
    out: list[Snippet] = []
    taken: dict[str, list[tuple[int, int]]] = {}
    limit = settings.snippet_lines

    def add(doc_uri: str, first: int, last: int, kind: str) -> None:
        doc = store.get(doc_uri)
        last = min(last, doc.line_count - 1)
        if last < first:
            return
        if any(first <= b and a <= last for a, b in taken.get(doc_uri, ())):
            return
        text = doc.lines(first, last)
        if not text.strip():
            return
        taken.setdefault(doc_uri, []).append((first, last))
        out.append(Snippet(text, uri_to_path(doc_uri, root), first + 1, last + 1, kind))

    if settings.recent_edits:
        for edit in store.edits():
            if edit.uri == uri and abs(edit.start_line - cursor_line) <= NEAR_LINES:
                continue
            if edit.uri not in store:
                continue
            first = max(0, edit.start_line - EDIT_MARGIN)
            last = min(edit.end_line + EDIT_MARGIN, first + limit - 1)
            add(edit.uri, first, last, "recent_edit")
    if settings.open_files:
        for doc in store.others(uri)[:MAX_OPEN_FILES]:
            add(doc.uri, 0, limit - 1, "open_file")
    return out
