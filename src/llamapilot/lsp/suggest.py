"""From an LSP position to a core request, and from a core result to LSP items."""

from __future__ import annotations

import re

from lsprotocol import types

from llamapilot.completion.types import CompletionRequest
from llamapilot.languages import language_from_path
from llamapilot.lsp.context import gather_context, uri_to_path
from llamapilot.lsp.documents import DocumentStore
from llamapilot.lsp.positions import line_text, units_to_code_points
from llamapilot.lsp.settings import LspSettings

ACCEPT_COMMAND = "llamapilot/accept"
REJECT_COMMAND = "llamapilot/reject"
INSPECT_COMMAND = "llamapilot/inspect"
LABEL_CHARS = 60
_WORD_TAIL = re.compile(r"[A-Za-z0-9_$]*\Z")


def build_request(
    store: DocumentStore,
    uri: str,
    line: int,
    character: int,
    settings: LspSettings,
    root: str | None = None,
) -> CompletionRequest:
    """The core request for a suggestion at an LSP position (``character`` in the store's
    position encoding) in an open document, with context from the session."""
    doc = store.get(uri)
    column = 0
    if 0 <= line < doc.line_count:
        column = units_to_code_points(
            line_text(doc.text, doc.starts, line), character, store.encoding
        )
    path = uri_to_path(uri, root)
    return CompletionRequest.at_position(
        doc.text,
        line,
        column,
        path=path,
        language=doc.language_id or language_from_path(path),
        extra=gather_context(store, uri, line, settings, root),
        max_tokens=settings.max_tokens,
        max_lines=settings.max_lines,
        multiline=settings.multiline,
        template=settings.template,
        session=uri,
    )


def _accept(suggestion_id: str) -> types.Command:
    return types.Command(title="Accept", command=ACCEPT_COMMAND, arguments=[suggestion_id])


def inline_list(
    text: str, position: types.Position, suggestion_id: str
) -> types.InlineCompletionList:
    """The suggestion as ghost text inserted at the cursor (nothing for empty text)."""
    if not text:
        return types.InlineCompletionList(items=[])
    item = types.InlineCompletionItem(
        insert_text=text,
        range=types.Range(start=position, end=position),
        command=_accept(suggestion_id),
    )
    return types.InlineCompletionList(items=[item])


def completion_list(
    text: str, line_before_cursor: str, position: types.Position, suggestion_id: str
) -> types.CompletionList:
    """The suggestion as one completion item, for clients without inline completion.

    Clients filter items by the word before the cursor, so the item replaces that word
    with itself followed by the suggestion. The list is incomplete: typing asks again.
    """
    if not text:
        return types.CompletionList(is_incomplete=True, items=[])
    word = _WORD_TAIL.search(line_before_cursor).group(0)  # type: ignore[union-attr]
    new_text = word + text
    start = types.Position(line=position.line, character=position.character - len(word))
    first_line = new_text.split("\n", 1)[0]
    label = first_line if len(first_line) <= LABEL_CHARS else first_line[: LABEL_CHARS - 1] + "…"
    if "\n" in new_text and len(label) < len(new_text):
        label += " …"
    item = types.CompletionItem(
        label=label or text.strip()[:LABEL_CHARS],
        label_details=types.CompletionItemLabelDetails(description="llamapilot"),
        kind=types.CompletionItemKind.Text,
        detail="llamapilot suggestion",
        documentation=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=f"```\n{new_text}\n```"
        ),
        sort_text="0",
        filter_text=new_text,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(range=types.Range(start=start, end=position), new_text=new_text),
        command=_accept(suggestion_id),
        data={"suggestion": suggestion_id},
    )
    return types.CompletionList(is_incomplete=True, items=[item])
