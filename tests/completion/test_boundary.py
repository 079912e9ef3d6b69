"""Token-boundary healing: where a prompt is cut back, and what is forced."""

from __future__ import annotations

import pytest

from llamapilot.completion.boundary import MAX_HEAL_CHARS, healing_split


@pytest.mark.parametrize(
    ("prefix", "kept", "tail"),
    [
        ("def f():\n    ", "def f():", "\n    "),
        ("def f():\n", "def f():", "\n"),
        ("x = compu", "x = ", "compu"),
        ("if x:\n    ret", "if x:", "\n    ret"),
        ("foo(a, ", "foo(a,", " "),
        ("foo.", "foo", "."),
        ("x = a->", "x = a", "->"),
        ("", "", ""),
    ],
)
def test_split(prefix: str, kept: str, tail: str) -> None:
    assert healing_split(prefix) == (kept, tail)
    assert kept + tail == prefix


def test_tail_is_bounded() -> None:
    prefix = "x = " + "a" * 100
    kept, tail = healing_split(prefix)
    assert len(tail) == MAX_HEAL_CHARS and kept + tail == prefix
