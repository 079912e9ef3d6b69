"""Context gathering, settings, LSP items and suggestion records (no model)."""

from __future__ import annotations

import pytest
from lsprotocol import types

from llamapilot.completion.types import CompletionResult, Timings
from llamapilot.engine.base import ModelInfo, TokenEvent
from llamapilot.errors import InputError
from llamapilot.lsp.context import gather_context, uri_to_path
from llamapilot.lsp.documents import DocumentStore, TextChange
from llamapilot.lsp.records import SuggestionLog
from llamapilot.lsp.settings import LspSettings, parse_settings
from llamapilot.lsp.suggest import build_request, completion_list, inline_list


def make_store() -> DocumentStore:
    store = DocumentStore()
    store.open("file:///w/util.py", "import os\n\ndef helper():\n    return 1\n")
    store.open("file:///w/main.py", "".join(f"x{i} = {i}\n" for i in range(200)))
    store.open("file:///w/other.py", "".join(f"y{i} = {i}\n" for i in range(100)))
    store.change("file:///w/other.py", [TextChange("CHANGED", (80, 0), (80, 2))])
    return store


def test_context_puts_recent_edits_first_then_open_files() -> None:
    snippets = gather_context(make_store(), "file:///w/main.py", 150, LspSettings(), "/w")
    kinds = [(s.kind, s.path, s.start_line) for s in snippets]
    assert kinds[0] == ("recent_edit", "other.py", 79)
    assert "CHANGED" in snippets[0].text
    assert ("open_file", "other.py", 1) in kinds
    assert ("open_file", "util.py", 1) in kinds
    assert all(s.path != "main.py" for s in snippets)


def test_context_settings_switch_sources_off() -> None:
    store = make_store()
    off = LspSettings(open_files=False, recent_edits=False)
    assert gather_context(store, "file:///w/main.py", 0, off) == []
    # an edit in the current document near the cursor is in the prompt already
    store.change("file:///w/main.py", [TextChange("z", (10, 0), (10, 0))])
    edits_only = LspSettings(open_files=False)
    near = gather_context(store, "file:///w/main.py", 12, edits_only)
    assert all(s.path != "/w/main.py" for s in near)
    far = gather_context(store, "file:///w/main.py", 190, edits_only)
    assert any(s.path == "/w/main.py" and s.start_line <= 11 <= s.end_line for s in far)


def test_uri_to_path() -> None:
    assert uri_to_path("file:///w/a%20b.py", "/w") == "a b.py"
    assert uri_to_path("file:///elsewhere/x.py", "/w") == "/elsewhere/x.py"
    assert uri_to_path("untitled:Untitled-1") == "untitled:Untitled-1"


def test_settings_parse_camel_case_nested_and_skip_bad_values() -> None:
    s, warnings = parse_settings(
        {"llamapilot": {"enabled": False, "maxTokens": 12, "nThreads": 0, "foo": 1}}
    )
    assert s.enabled is False and s.max_tokens == 12 and s.n_threads is None
    assert len(warnings) == 2 and any("foo" in w for w in warnings)
    s2, _ = parse_settings({"max_lines": 3, "model": ""}, s)
    assert s2.max_lines == 3 and s2.max_tokens == 12 and s2.model is None
    assert parse_settings("nonsense")[1]
    assert LspSettings(model="a").engine_key() != LspSettings().engine_key()


def test_build_request_converts_utf16_and_carries_settings() -> None:
    store = DocumentStore()
    store.open("file:///w/a.py", 's = "😀"; t = 1\n', language_id="python")
    request = build_request(
        store, "file:///w/a.py", 0, 10, LspSettings(max_tokens=5, multiline=False), "/w"
    )
    assert request.prefix == 's = "😀"; '
    assert request.suffix == "t = 1\n"
    assert request.path == "a.py" and request.language == "python"
    assert request.max_tokens == 5 and request.multiline is False
    with pytest.raises(InputError):
        build_request(store, "file:///w/a.py", 5, 0, LspSettings())


def test_items() -> None:
    pos = types.Position(line=3, character=7)
    assert inline_list("", pos, "s1").items == []
    (item,) = inline_list("x + 1", pos, "s1").items
    assert item.range.start == pos and item.command.arguments == ["s1"]
    (citem,) = completion_list("ply(2, 3)\nmore", "    multi", pos, "s2").items
    assert citem.text_edit.range.start.character == 2
    assert citem.text_edit.new_text == "multiply(2, 3)\nmore"
    assert citem.label.startswith("multiply(2, 3)")


def fake_result(text: str) -> CompletionResult:
    info = ModelInfo("m", "/m.gguf", "0" * 64, 4096)
    return CompletionResult(text, [TokenEvent(1, text, -0.1)], "prompt", [], info, Timings())


def test_suggestion_log_inspect_and_feedback() -> None:
    log = SuggestionLog(capacity=2)
    with pytest.raises(InputError):
        log.get()
    a = log.add("u", 1, 2, fake_result("a"))
    b = log.add("u", 1, 3, fake_result("b"))
    assert log.get().id == b.id
    log.feedback(a.id, "accepted")
    log.feedback(a.id, "rejected")
    assert log.counts == {"suggested": 2, "accepted": 0, "rejected": 1}
    info = log.get(a.id).inspect()
    assert info["feedback"] == "rejected" and info["text"] == "a" and info["tokens"]
    log.add("u", 0, 0, fake_result("c"))
    with pytest.raises(InputError):
        log.get(a.id)  # expired
