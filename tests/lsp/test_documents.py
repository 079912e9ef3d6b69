"""The document store: incremental sync and recently edited lines."""

from __future__ import annotations

import pytest

from llamapilot.errors import InputError
from llamapilot.lsp.documents import DocumentStore, TextChange


def test_incremental_changes_apply_in_order_with_utf16_positions() -> None:
    store = DocumentStore()
    store.open("u", "a = '😀'\nb = 2\n", version=1, language_id="python")
    store.change(
        "u",
        [
            TextChange("x", (0, 7), (0, 8)),  # after the emoji (2 units): replace the quote
            TextChange("\nc = 3", (1, 5), (1, 5)),  # positions in the text after change 1
        ],
        version=2,
    )
    doc = store.get("u")
    assert doc.text == "a = '😀x\nb = 2\nc = 3\n"
    assert doc.version == 2


def test_utf8_encoding_and_whole_text_changes() -> None:
    store = DocumentStore(encoding="utf-8")
    store.open("u", "é = 1\n")
    store.change("u", [TextChange("è", (0, 0), (0, 2))])
    assert store.get("u").text == "è = 1\n"
    store.change("u", [TextChange("new text")])
    assert store.get("u").text == "new text"


def test_bad_changes_are_input_errors() -> None:
    store = DocumentStore()
    with pytest.raises(InputError):
        store.change("missing", [TextChange("x")])
    store.open("u", "abc")
    with pytest.raises(InputError):
        store.change("u", [TextChange("x", (0, 2), (0, 1))])


def test_recent_edits_are_tracked_merged_and_shifted() -> None:
    store = DocumentStore()
    store.open("u", "".join(f"line {i}\n" for i in range(30)))
    store.change("u", [TextChange("EDIT", (20, 0), (20, 4))])
    store.change("u", [TextChange("EDIT", (21, 0), (21, 4))])  # next to it: merged
    assert [(e.start_line, e.end_line) for e in store.edits()] == [(20, 21)]
    # three lines inserted above move the older edit down
    store.change("u", [TextChange("a\nb\nc\n", (2, 0), (2, 0))])
    assert [(e.start_line, e.end_line) for e in store.edits()] == [(2, 5), (23, 24)]
    assert store.get("u").lines(23, 24) == "EDIT 20\nEDIT 21\n"


def test_whole_text_change_records_only_the_changed_lines() -> None:
    store = DocumentStore()
    store.open("u", "a\nb\nc\nd\n")
    store.change("u", [TextChange("a\nb\nX\nY\nd\n")])
    assert [(e.start_line, e.end_line) for e in store.edits()] == [(2, 3)]


def test_others_are_most_recent_first_and_close_forgets() -> None:
    store = DocumentStore()
    store.open("a", "1")
    store.open("b", "2")
    store.open("c", "3")
    store.change("a", [TextChange("x", (0, 0), (0, 0))])
    assert [d.uri for d in store.others("c")] == ["a", "b"]
    store.close("a")
    assert "a" not in store
    assert all(e.uri != "a" for e in store.edits())
