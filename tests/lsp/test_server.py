"""End to end: ``llamapilot lsp`` as a subprocess, driven over stdio by pytest-lsp's client
(pygls), with the embedded model."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcRequestCancelled,
)
from pytest_lsp.client import LanguageClient

pytestmark = pytest.mark.slow

PRIMES = "primes = [\n    2,\n    3,\n    5,\n    7,\n    11,\n"
"""A document the model goes on completing for many tokens (a long list)."""
LONG = {"maxTokens": 400, "maxLines": 400, "multiline": True}
TIMEOUT = 60.0
"""Upper bound for any one wait, so a broken server fails the test instead of hanging."""


async def wait(awaitable: Any) -> Any:
    return await asyncio.wait_for(awaitable, TIMEOUT)


def collect(client: LanguageClient, method: str) -> asyncio.Queue[Any]:
    """A queue that receives the params of every ``method`` notification from now on."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    original = client.protocol._handle_notification

    def hook(name: str, params: Any) -> Any:
        if name == method:
            queue.put_nowait(params)
        return original(name, params)

    client.protocol._handle_notification = hook  # type: ignore[method-assign]
    return queue


async def next_progress(queue: asyncio.Queue[Any], token: str, kind: str) -> dict[str, Any]:
    """Wait for the ``kind`` ("begin", "report", "end") progress on ``token``."""
    while True:
        params = await wait(queue.get())
        if params.token == token and params.value["kind"] == kind:
            return params.value


def open_doc(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )


def inline_params(
    uri: str, line: int, character: int, token: str | None = None
) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Invoked
        ),
        work_done_token=token,
    )


def send_inline(
    client: LanguageClient, params: types.InlineCompletionParams, msg_id: str
) -> asyncio.Task[Any]:
    """Send an inline completion request with a known id (to cancel it by)."""
    if params.work_done_token is not None:
        client.progress_reports.setdefault(params.work_done_token, [])
    return asyncio.ensure_future(
        client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
        )
    )


async def shown(client: LanguageClient, text: str) -> types.ShowMessageParams:
    """The ``window/showMessage`` containing ``text``, received already or awaited."""
    while True:
        for message in client.messages:
            if text in message.message:
                return message
        await wait(client.wait_for_notification(types.WINDOW_SHOW_MESSAGE))


async def command(client: LanguageClient, name: str, *args: Any) -> Any:
    return await wait(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(args))
        )
    )


async def test_suggestions_after_incremental_edits(start_server, tmp_path) -> None:
    client = await start_server({"maxTokens": 16})
    caps = client.initialize_result.capabilities
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is not None
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
    assert caps.position_encoding == types.PositionEncodingKind.Utf16
    assert {"llamapilot/inspect", "llamapilot/accept", "llamapilot/reject"} <= set(
        caps.execute_command_provider.commands
    )
    uri = (tmp_path / "calc.py").as_uri()
    helper = (tmp_path / "helpers.py").as_uri()
    open_doc(client, helper, "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n")
    open_doc(client, uri, "def add(a, b):\n    pass\n")
    # incremental edits: replace "pass" by "return a + b", then add a line with an emoji
    # before the cursor (one code point, two UTF-16 code units)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=1, character=4),
                        end=types.Position(line=1, character=8),
                    ),
                    text="return a + b",
                ),
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=2, character=0),
                        end=types.Position(line=2, character=0),
                    ),
                    text='\n\nlabel = "😀", add\nprint(label)\n',
                ),
            ],
        )
    )
    # the cursor after `"😀", ` : 14 code points, 15 UTF-16 code units
    result = await wait(client.text_document_inline_completion_async(inline_params(uri, 4, 15)))
    assert len(result.items) == 1
    item = result.items[0]
    assert item.insert_text.strip()
    assert item.range.start == item.range.end == types.Position(line=4, character=15)
    assert item.command is not None and item.command.command == "llamapilot/accept"

    info = await command(client, "llamapilot/inspect")
    assert info["text"] == item.insert_text
    assert info["tokens"] and 0 < info["confidence"] <= 1
    # the prompt holds the edited document up to the cursor, split at the right place:
    # counting the emoji as one unit instead of two would put "a" before the cursor
    assert "return a + b" in info["prompt"]
    assert 'label = "😀"' in info["prompt"]
    assert '😀", a' not in info["prompt"]
    kinds = {(s["kind"], s["path"]) for s in info["sources"]}
    assert ("open_file", "helpers.py") in kinds
    assert ("prefix", "calc.py") in kinds
    assert "def clamp" in info["prompt"]

    # the editor reports the suggestion accepted (the item's command)
    done = await command(client, "llamapilot/accept", *item.command.arguments)
    assert done["feedback"] == "accepted"
    assert (await command(client, "llamapilot/inspect", info["id"]))["feedback"] == "accepted"

    # clients without inline completion get the suggestion as one completion item, which
    # replaces the word before the cursor with itself plus the suggestion
    other = (tmp_path / "m.py").as_uri()
    open_doc(client, other, "def multiply(a, b):\n    return a * b\n\n\nresult = mult")
    result = await wait(
        client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=other),
                position=types.Position(line=4, character=13),
            )
        )
    )
    assert result.is_incomplete
    assert len(result.items) == 1
    citem = result.items[0]
    assert citem.label_details.description == "llamapilot"
    assert citem.text_edit.range.start == types.Position(line=4, character=9)
    assert citem.text_edit.range.end == types.Position(line=4, character=13)
    assert citem.text_edit.new_text.startswith("mult") and len(citem.text_edit.new_text) > 4


async def test_cancel_request_stops_generation(start_server, tmp_path) -> None:
    client = await start_server(LONG)
    progress = collect(client, types.PROGRESS)
    uri = (tmp_path / "primes.py").as_uri()
    open_doc(client, uri, PRIMES)
    pending = send_inline(client, inline_params(uri, 6, 0, token="t1"), "req-1")
    await next_progress(progress, "t1", "report")  # the model is generating now
    cancelled_at = time.monotonic()
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="req-1"))
    with pytest.raises(JsonRpcRequestCancelled) as cancelled:
        await wait(pending)
    assert cancelled.value.code == types.LSPErrorCodes.RequestCancelled == -32800
    assert time.monotonic() - cancelled_at < 5.0
    # the generation thread stopped early rather than running to max tokens
    end = await next_progress(progress, "t1", "end")
    assert end["message"].startswith("cancelled after")
    assert int(end["message"].split()[2]) < LONG["maxTokens"]
    # the server goes on serving, and a cancelled request left no suggestion behind
    with pytest.raises(JsonRpcInvalidParams, match="no suggestion"):
        await command(client, "llamapilot/inspect")


async def test_newer_request_supersedes_older(start_server, tmp_path) -> None:
    client = await start_server(LONG)
    progress = collect(client, types.PROGRESS)
    uri = (tmp_path / "both.py").as_uri()
    open_doc(client, uri, PRIMES + "]\n\n\ndef add(a, b):\n    ")
    older = send_inline(client, inline_params(uri, 6, 0, token="old"), "older")
    await next_progress(progress, "old", "report")
    client.protocol.notify(
        types.WORKSPACE_DID_CHANGE_CONFIGURATION,
        types.DidChangeConfigurationParams(settings={"maxTokens": 12, "multiline": False}),
    )
    newer = send_inline(client, inline_params(uri, 10, 4), "newer")
    with pytest.raises(JsonRpcException) as superseded:
        await wait(older)
    assert superseded.value.code == types.LSPErrorCodes.ContentModified
    assert not newer.done()
    result = await wait(newer)
    assert result.items and result.items[0].insert_text.strip()
    assert (await command(client, "llamapilot/inspect"))["position"] == {
        "line": 10,
        "character": 4,
    }


async def test_malformed_requests_get_errors_and_server_goes_on(start_server, tmp_path) -> None:
    client = await start_server({"maxTokens": 8})
    uri = (tmp_path / "a.py").as_uri()
    open_doc(client, uri, "x = 1\n")

    # params that do not parse at all: answered by the server, not left hanging
    answer: Future[Any] = Future()
    client.protocol._request_futures["bad-1"] = answer
    client.protocol._send_data(
        {
            "jsonrpc": "2.0",
            "id": "bad-1",
            "method": types.TEXT_DOCUMENT_INLINE_COMPLETION,
            "params": {"textDocument": {"uri": 5}, "position": {"line": "one"}},
        }
    )
    with pytest.raises(JsonRpcInvalidParams):
        await wait(asyncio.wrap_future(answer))
    # well-formed but wrong: a position outside the document, a document not open
    with pytest.raises(JsonRpcInvalidParams, match="outside the document"):
        await wait(client.text_document_inline_completion_async(inline_params(uri, 40, 0)))
    with pytest.raises(JsonRpcInvalidParams, match="not open"):
        await wait(
            client.text_document_inline_completion_async(
                inline_params((tmp_path / "closed.py").as_uri(), 0, 0)
            )
        )
    with pytest.raises(JsonRpcInvalidParams, match="suggestion"):
        await command(client, "llamapilot/accept", "s999")
    # the server still answers
    result = await wait(client.text_document_inline_completion_async(inline_params(uri, 1, 0)))
    assert isinstance(result, types.InlineCompletionList)


async def test_settings_from_initialization_options_and_changes(start_server, tmp_path) -> None:
    pull = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(configuration=True))
    client = await start_server({"enabled": False, "noSuchSetting": 1}, pull)
    await shown(client, "noSuchSetting")
    uri = (tmp_path / "s.py").as_uri()
    open_doc(client, uri, "def add(a, b):\n    ")
    off = await wait(client.text_document_inline_completion_async(inline_params(uri, 1, 4)))
    assert not off.items

    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"llamapilot": {"enabled": True, "maxTokens": 2}}
        )
    )
    on = await wait(client.text_document_inline_completion_async(inline_params(uri, 1, 4)))
    assert len(on.items) == 1
    info = await command(client, "llamapilot/inspect")
    assert 1 <= len(info["tokens"]) <= 2

    # settings: null makes the server ask for the "llamapilot" section
    client.set_configuration({"enabled": False, "bogus": True}, section="llamapilot")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await shown(client, "bogus")  # shown once the pulled settings are applied
    off = await wait(client.text_document_inline_completion_async(inline_params(uri, 1, 4)))
    assert not off.items


async def test_a_model_that_does_not_load_is_reported(start_server, tmp_path) -> None:
    client = await start_server({"model": str(tmp_path / "missing.gguf")})
    message = await shown(client, "missing.gguf")
    assert message.type == types.MessageType.Error
    uri = (tmp_path / "a.py").as_uri()
    open_doc(client, uri, "x = 1\n")
    with pytest.raises(JsonRpcException) as failed:
        await wait(client.text_document_inline_completion_async(inline_params(uri, 1, 0)))
    assert failed.value.code == types.LSPErrorCodes.RequestFailed
    assert "missing.gguf" in failed.value.message


@pytest.mark.slow
async def test_saving_a_file_updates_the_workspace_index(start_server, tmp_path) -> None:
    from llamapilot.index.workspace import WorkspaceIndex, index_db_path

    util = tmp_path / "util.py"
    util.write_text("def old_name():\n    return 1\n")
    built = WorkspaceIndex(tmp_path)
    built.build(progress=False)
    built.close()
    client = await start_server({"maxTokens": 4})
    uri = util.as_uri()
    open_doc(client, uri, util.read_text())
    await wait(client.text_document_inline_completion_async(inline_params(uri, 1, 4)))
    util.write_text("def fresh_name():\n    return 2\n")
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    logged = await wait(client.wait_for_notification(types.WINDOW_LOG_MESSAGE))
    while "re-indexed" not in logged.message:  # other log lines may come first
        logged = await wait(client.wait_for_notification(types.WINDOW_LOG_MESSAGE))
    assert str(util) in logged.message
    index = WorkspaceIndex.open(index_db_path(tmp_path))
    try:
        assert [d.name for d in index.definitions(["fresh_name", "old_name"])] == ["fresh_name"]
    finally:
        index.close()
