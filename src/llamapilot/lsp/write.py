"""Writing a function from its docstring in the editor: a code action on a Python function
with no body yet, whose command drafts the body (:func:`write_function`) and applies it
as a workspace edit.

Offering the action only parses the document; the model runs when the user picks it.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from llamapilot.completion.write import FunctionSlot, function_slot
from llamapilot.errors import InputError
from llamapilot.languages import language_from_path
from llamapilot.lsp.documents import Document

WRITE_COMMAND = "llamapilot/writeFunction"
ACTION_TITLE = "Write {name}() from its docstring (llamapilot)"


def is_python(doc: Document) -> bool:
    return (doc.language_id or language_from_path(doc.uri) or "") == "python"


def slot_at(doc: Document, line: int) -> FunctionSlot | None:
    """The bodiless function around ``line``, if there is one."""
    if not is_python(doc):
        return None
    try:
        return function_slot(doc.text, line)
    except InputError:
        return None


def code_actions(doc: Document, line: int) -> list[types.CodeAction]:
    slot = slot_at(doc, line)
    if slot is None:
        return []
    title = ACTION_TITLE.format(name=slot.name)
    return [
        types.CodeAction(
            title=title,
            kind=types.CodeActionKind.RefactorRewrite,
            command=types.Command(
                title=title, command=WRITE_COMMAND, arguments=[{"uri": doc.uri, "line": line}]
            ),
        )
    ]


def command_target(args: tuple[Any, ...]) -> tuple[str, int]:
    """``(uri, line)`` from the command's arguments: ``[{"uri", "line"}]`` or ``[uri, line]``."""
    items = list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args)
    if len(items) == 1 and isinstance(items[0], dict):
        uri, line = items[0].get("uri"), items[0].get("line")
    elif len(items) == 2:
        uri, line = items
    else:
        raise InputError(f"{WRITE_COMMAND} takes [{{uri, line}}] or [uri, line]")
    if not isinstance(uri, str) or not isinstance(line, int) or isinstance(line, bool):
        raise InputError(f"{WRITE_COMMAND}: uri must be a string and line a whole number")
    return uri, line


def body_edit(doc: Document, slot: FunctionSlot, body: str) -> types.WorkspaceEdit:
    """The edit putting ``body`` in place of the function's placeholder."""
    start, end = slot.body_lines
    return types.WorkspaceEdit(
        changes={
            doc.uri: [
                types.TextEdit(
                    range=types.Range(types.Position(start, 0), types.Position(end, 0)),
                    new_text=body.rstrip("\n") + "\n",
                )
            ]
        }
    )
