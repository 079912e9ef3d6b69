"""Writing a function from its docstring through the language server: the code action
is offered on a bodiless Python function, and its command applies the body as an edit."""

from __future__ import annotations

import ast
import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from .test_server import open_doc, wait

pytestmark = pytest.mark.slow

DOC = '''def triple(n: int) -> int:
    """Three times n.
    >>> triple(2)
    6
    >>> triple(0)
    0
    """
    pass


def done():
    return 1
'''


async def test_code_action_writes_the_function(start_server, tmp_path) -> None:
    client = await start_server()
    edits: list[types.ApplyWorkspaceEditParams] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    uri = (tmp_path / "calc.py").as_uri()
    open_doc(client, uri, DOC)

    def actions_at(line: int) -> asyncio.Future:
        return client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(types.Position(line, 0), types.Position(line, 0)),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )

    assert not await wait(actions_at(10))  # done() has a body: nothing to offer
    (action,) = await wait(actions_at(2))
    assert action.title == "Write triple() from its docstring (llamapilot)"
    # pygls's client reads a CodeAction that has a command as a Command whose command is
    # the repr of the CodeAction's command object; take that apart.
    command = action.command
    if isinstance(action, types.Command):
        command = ast.literal_eval(action.command)
        command = types.Command(**command)
    assert command.command == "llamapilot/writeFunction"
    result = await wait(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
        )
    )
    assert result["applied"] and result["passes_examples"], result
    (params,) = edits
    (edit,) = params.edit.changes[uri]
    assert edit.range.start == types.Position(7, 0) and edit.range.end == types.Position(8, 0)
    namespace: dict = {}
    exec(DOC.replace("    pass\n", edit.new_text), namespace)
    assert namespace["triple"](5) == 15

    with pytest.raises(JsonRpcInvalidParams, match="no Python function without a body"):
        await wait(
            client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="llamapilot/writeFunction", arguments=[{"uri": uri, "line": 11}]
                )
            )
        )
