"""The language server: thin pygls handlers over the modules of this package.

Features: incremental document sync, ``textDocument/inlineCompletion`` (LSP 3.18),
``textDocument/completion`` (the suggestion as one item), settings through
``initializationOptions`` and ``workspace/didChangeConfiguration``, and the commands
``llamapilot/inspect``, ``llamapilot/accept`` and ``llamapilot/reject``; a code action on a
Python function with no body yet runs ``llamapilot/writeFunction``, which writes it from
its docstring and applies the edit (:mod:`llamapilot.lsp.write`).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from typing import Any, BinaryIO

from lsprotocol import types
from pygls import uris
from pygls.exceptions import (
    JsonRpcContentModified,
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcServerNotInitialized,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from llamapilot import __version__
from llamapilot.completion.synthesis import write_function
from llamapilot.completion.types import CompletionResult
from llamapilot.errors import InputError, LlamapilotError
from llamapilot.lsp.documents import DocumentStore, TextChange
from llamapilot.lsp.positions import check_encoding, line_text, units_to_code_points
from llamapilot.lsp.records import SuggestionLog
from llamapilot.lsp.runner import CompletionRunner, Engine, Outcome, Superseded
from llamapilot.lsp.settings import LspSettings, parse_settings
from llamapilot.lsp.suggest import (
    ACCEPT_COMMAND,
    INSPECT_COMMAND,
    REJECT_COMMAND,
    build_request,
    completion_list,
    inline_list,
)
from llamapilot.lsp.write import (
    ACTION_TITLE,
    WRITE_COMMAND,
    body_edit,
    code_actions,
    command_target,
    slot_at,
)

logger = logging.getLogger(__name__)

REQUEST_FAILED = types.LSPErrorCodes.RequestFailed.value


class _Answered:
    """Stands for a message already answered with an error while it was parsed."""

    jsonrpc = "answered"


class LlamapilotProtocol(LanguageServerProtocol):
    """pygls's protocol, answering what pygls itself leaves unanswered.

    pygls 2.1 sends no response to a request whose params do not parse (only a
    ``window/showMessage``), to requests before ``initialize`` or after ``shutdown``;
    a client would wait forever. These get their JSON-RPC errors here.
    """

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data:
                logger.warning("invalid params in %s request %r", data.get("method"), data["id"])
                self._send_response(data["id"], error=exc.to_response_error())
                return _Answered()
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Answered):
            return
        method = getattr(message, "method", None)
        is_request = method is not None and hasattr(message, "id")
        if is_request and method != types.INITIALIZE and self._workspace is None:
            error = JsonRpcServerNotInitialized(message="the server is not initialized yet")
            self._send_response(message.id, error=error.to_response_error())
            return
        if is_request and self._shutdown and method != types.EXIT:
            error = JsonRpcInvalidRequest(message="the server is shutting down")
            self._send_response(message.id, error=error.to_response_error())
            return
        super().handle_message(message)


class LlamapilotServer(LanguageServer):
    """Server state: documents, settings, the model and the suggestions made."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(
            "llamapilot",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=LlamapilotProtocol,
        )
        self.store = DocumentStore()
        self.settings = LspSettings()
        self.pending_warnings: list[str] = []
        self.suggestions = SuggestionLog()
        self.engine = engine
        self.runner = CompletionRunner(engine)
        self.root: str | None = None
        self._watched: Future[Any] | None = None

    @property
    def clean_exit(self) -> bool:
        """Whether the client sent ``shutdown`` before ``exit`` (exit code 0)."""
        return bool(self.protocol._shutdown)

    def apply_settings(self, raw: Any) -> None:
        self.settings, warnings = parse_settings(raw, self.settings)
        for w in warnings:
            logger.warning("%s", w)
        self.pending_warnings += warnings
        if self.settings.enabled:
            loading = self.engine.configure(self.settings)
            if loading is not self._watched:
                self._watched = loading
                loop = asyncio.get_running_loop()

                def loaded(f: Future[Any]) -> None:  # runs in the loading thread
                    if f.exception() is not None:
                        loop.call_soon_threadsafe(self.show_load_error, f.exception())

                loading.add_done_callback(loaded)

    def show_load_error(self, error: BaseException) -> None:
        self.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Error, message=f"llamapilot: cannot load the model: {error}"
            )
        )

    def show_pending_warnings(self) -> None:
        if self.pending_warnings:
            text = "llamapilot: " + "; ".join(self.pending_warnings)
            self.pending_warnings = []
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=text)
            )

    def progress(self, token: types.ProgressToken | None, value: Any) -> None:
        """Report work-done progress on a token the client gave (no-op without one)."""
        if token is not None:
            self.protocol.notify(types.PROGRESS, types.ProgressParams(token=token, value=value))

    async def suggest(
        self,
        method: str,
        uri: str,
        position: types.Position,
        token: types.ProgressToken | None,
    ) -> tuple[CompletionResult, str] | None:
        """A suggestion at ``position`` in ``uri`` and its id; None when off or empty.

        A newer request of the same ``method`` for the same document supersedes this one;
        inline and item requests do not cancel each other (a client may send both at once,
        and the core's suggestion cache answers the second without running the model).
        """
        if not self.settings.enabled:
            return None
        try:
            request = build_request(
                self.store, uri, position.line, position.character, self.settings, self.root
            )
        except InputError as exc:
            raise JsonRpcInvalidParams(message=str(exc)) from None
        self.progress(token, types.WorkDoneProgressBegin(title="llamapilot", message="waiting"))

        def first_token() -> None:
            self.progress(token, types.WorkDoneProgressReport(message="generating"))

        def end(outcome: Outcome) -> None:
            self.progress(token, types.WorkDoneProgressEnd(message=outcome.describe()))

        try:
            result = await self.runner.complete(
                f"{method} {uri}", request, on_first_token=first_token, on_end=end
            )
        except Superseded as exc:
            raise JsonRpcContentModified(message=str(exc)) from None
        except InputError as exc:
            raise JsonRpcInvalidParams(message=str(exc)) from None
        except LlamapilotError as exc:
            raise JsonRpcException(code=REQUEST_FAILED, message=str(exc)) from None
        if result is None or not result.text:
            return None
        record = self.suggestions.add(uri, position.line, position.character, result)
        logger.info(
            "suggestion %s for %s:%d: %d tokens, confidence %.2f, %.0f ms",
            record.id,
            uri,
            position.line + 1,
            len(result.tokens),
            result.confidence,
            result.timings.total_ms,
        )
        return result, record.id


def _change(c: Any) -> TextChange:
    if isinstance(c, types.TextDocumentContentChangePartial):
        r = c.range
        return TextChange(c.text, (r.start.line, r.start.character), (r.end.line, r.end.character))
    return TextChange(c.text)


def _one_id(args: tuple[Any, ...], required: bool) -> str | None:
    """The suggestion id from a command's arguments: ``["s1"]`` or ``[{"id": "s1"}]``."""
    if not args:
        if required:
            raise JsonRpcInvalidParams(message="a suggestion id is required")
        return None
    value = args[0]
    if isinstance(value, dict):
        value = value.get("id")
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise JsonRpcInvalidParams(message="the suggestion id must be a string")
    return value


def create_server(engine: Engine | None = None) -> LlamapilotServer:
    """A server with every handler registered (the model loads after ``initialize``)."""
    server = LlamapilotServer(engine or Engine())

    @server.feature(types.INITIALIZE)
    def initialize(ls: LlamapilotServer, params: types.InitializeParams) -> None:
        encoding = ls.workspace.position_encoding or "utf-16"
        ls.store.encoding = check_encoding(str(getattr(encoding, "value", encoding)))
        ls.root = ls.workspace.root_path
        ls.apply_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: LlamapilotServer, params: types.InitializedParams) -> None:
        ls.show_pending_warnings()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: LlamapilotServer, params: types.DidChangeConfigurationParams
    ) -> None:
        raw = params.settings
        workspace_caps = ls.client_capabilities.workspace
        if raw is None and workspace_caps is not None and workspace_caps.configuration:
            items = [types.ConfigurationItem(section="llamapilot")]
            answer = await ls.workspace_configuration_async(types.ConfigurationParams(items=items))
            raw = answer[0] if answer else None
        ls.apply_settings(raw)
        ls.show_pending_warnings()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LlamapilotServer, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        ls.store.open(doc.uri, doc.text, doc.version, doc.language_id)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LlamapilotServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = params.text_document
        try:
            ls.store.change(doc.uri, [_change(c) for c in params.content_changes], doc.version)
        except InputError as exc:
            logger.warning("didChange for %s ignored: %s", doc.uri, exc)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    async def did_save(ls: LlamapilotServer, params: types.DidSaveTextDocumentParams) -> None:
        """Keep the workspace index (if the file's workspace has one) up to date."""
        path = uris.to_fs_path(params.text_document.uri)
        if not path:
            return

        def update() -> bool:
            try:
                workspace = getattr(ls.engine.service(), "workspace", None)
                return workspace is not None and workspace.update_file(path)
            except Exception as exc:  # the index is an aid: never fail the editor for it
                logger.warning("index update for %s failed: %s", path, exc)
                return False

        if await asyncio.get_running_loop().run_in_executor(None, update):
            ls.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Log, message=f"llamapilot: re-indexed {path}"
                )
            )

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LlamapilotServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.store.close(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: LlamapilotServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        uri, pos = params.text_document.uri, params.position
        made = await ls.suggest(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, uri, pos, params.work_done_token
        )
        if made is None:
            return types.InlineCompletionList(items=[])
        result, suggestion_id = made
        return inline_list(result.text, pos, suggestion_id)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())
    async def completion(
        ls: LlamapilotServer, params: types.CompletionParams
    ) -> types.CompletionList:
        uri, pos = params.text_document.uri, params.position
        before = _line_before(ls, uri, pos)
        made = await ls.suggest(types.TEXT_DOCUMENT_COMPLETION, uri, pos, params.work_done_token)
        if made is None:
            return types.CompletionList(is_incomplete=True, items=[])
        result, suggestion_id = made
        return completion_list(result.text, before, pos, suggestion_id)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.RefactorRewrite]),
    )
    def code_action(ls: LlamapilotServer, params: types.CodeActionParams) -> list[Any]:
        uri = params.text_document.uri
        if not ls.settings.enabled or uri not in ls.store:
            return []
        return code_actions(ls.store.get(uri), params.range.start.line)

    @server.command(WRITE_COMMAND)
    async def write(ls: LlamapilotServer, *args: Any) -> dict[str, Any]:
        try:
            uri, line = command_target(args)
            if uri not in ls.store:
                raise InputError(f"{uri} is not open")
            doc = ls.store.get(uri)
            slot = slot_at(doc, line)
            if slot is None:
                raise InputError(f"no Python function without a body at line {line + 1}")
        except InputError as exc:
            raise JsonRpcInvalidParams(message=str(exc)) from None
        version = doc.version

        def work(service: Any, cancel: Any) -> Any:
            return write_function(service, slot.prefix, cancel=cancel)

        try:
            written = await ls.runner.run(f"{WRITE_COMMAND} {uri}", work)
        except Superseded as exc:
            raise JsonRpcContentModified(message=str(exc)) from None
        except LlamapilotError as exc:
            raise JsonRpcException(code=REQUEST_FAILED, message=str(exc)) from None
        if written is None or not written.text:
            return {"applied": False, "reason": "no body was written"}
        if ls.store.get(uri).version != version:
            raise JsonRpcContentModified(message=f"{uri} changed while the body was written")
        edit = body_edit(doc, slot, written.text)
        answer = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=ACTION_TITLE.format(name=slot.name))
        )
        return {"applied": bool(answer.applied), **written.to_dict()}

    @server.command(INSPECT_COMMAND)
    def inspect(ls: LlamapilotServer, *args: Any) -> dict[str, Any]:
        try:
            return ls.suggestions.get(_one_id(args, required=False)).inspect()
        except InputError as exc:
            raise JsonRpcInvalidParams(message=str(exc)) from None

    def feedback(ls: LlamapilotServer, args: tuple[Any, ...], verdict: str) -> dict[str, Any]:
        suggestion_id = _one_id(args, required=True)
        try:
            s = ls.suggestions.feedback(suggestion_id or "", verdict)
        except InputError as exc:
            raise JsonRpcInvalidParams(message=str(exc)) from None
        logger.info("suggestion %s %s", s.id, verdict)
        return {"id": s.id, "feedback": s.feedback, "counts": dict(ls.suggestions.counts)}

    @server.command(ACCEPT_COMMAND)
    def accept(ls: LlamapilotServer, *args: Any) -> dict[str, Any]:
        return feedback(ls, args, "accepted")

    @server.command(REJECT_COMMAND)
    def reject(ls: LlamapilotServer, *args: Any) -> dict[str, Any]:
        return feedback(ls, args, "rejected")

    return server


def _line_before(ls: LlamapilotServer, uri: str, pos: types.Position) -> str:
    """The text of the cursor's line before the cursor ("" for a document not open)."""
    if uri not in ls.store:
        return ""
    doc = ls.store.get(uri)
    if pos.line >= doc.line_count:
        return ""
    line = line_text(doc.text, doc.starts, pos.line)
    return line[: units_to_code_points(line, pos.character, ls.store.encoding)]


def run_stdio(server: LlamapilotServer, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Serve one client over the given streams; the exit code the LSP specification asks
    for (0 after ``shutdown`` then ``exit``, 1 otherwise)."""
    try:
        server.start_io(stdin, stdout)
    finally:
        server.runner.close()
    return 0 if server.clean_exit else 1
