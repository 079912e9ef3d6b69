"""The bracket lexer: strings and comments per language, and which brackets the suffix closes."""

from __future__ import annotations

import pytest

from llamapilot.completion.brackets import (
    BracketBalance,
    Lexer,
    Opener,
    closed_by_suffix,
    indent_width,
    open_brackets,
)


def chars(language: str | None, text: str, state: str | None = None) -> str:
    return "".join(b.char for b in Lexer(language).scan(text, state).brackets)


@pytest.mark.parametrize(
    ("language", "text", "brackets"),
    [
        ("python", 'f("(", x)  # )', "()"),
        ("python", "s = '''{\n[''' + g(x)", "()"),
        ("python", 'd = {"a": [1, 2]}', "{[]}"),
        ("javascript", "const s = `a ${b} {`; f(s) // }", "()"),
        ("javascript", "/* { */ g()", "()"),
        ("rust", "fn longest<'a>(x: &'a str) -> &'a str {", "(){"),
        ("rust", "matches!(c, ')' | '}')", "()"),
        ("go", "s := `{raw}`; f(s)", "()"),
        ("c", "char c = '{'; f(c);", "()"),
        ("sql", "SELECT f(x) -- (", "()"),
        (None, 'x = "(" + y[0]', "[]"),
    ],
)
def test_brackets_in_strings_and_comments_are_text(
    language: str | None, text: str, brackets: str
) -> None:
    assert chars(language, text) == brackets


@pytest.mark.parametrize(
    ("language", "text", "state"),
    [
        ("python", 'print("hello ', '"'),
        ("python", 'def f():\n    """Doc', '"""'),
        ("python", "x = 1  # note", "#"),
        ("javascript", "const s = `line", "`"),
        ("javascript", "/* start", "/*"),
        ("javascript", "f(x) // why", "//"),
        ("python", 'print("done")', None),
        ("rust", "let r = &'a", None),
    ],
)
def test_end_state_is_the_open_string_or_comment(
    language: str, text: str, state: str | None
) -> None:
    assert Lexer(language).scan(text).end_state == state


def test_scanning_resumes_inside_a_string() -> None:
    # the cursor is inside "...": the suggestion's quote closes it, then `)` is code
    assert chars("python", 'world")', state='"') == ")"


@pytest.mark.parametrize(
    ("line", "opens"),
    [
        ("def f(x):", True),
        ("if (x) {", True),
        ("foo(", True),
        ("const f = (x) =>", True),
        ("x = 1", False),
        ("def f(x):  # done", True),
        ('s = "{"', False),
        ("std::", False),
    ],
)
def test_opens_block(line: str, opens: bool) -> None:
    assert Lexer("python" if "def" in line else "javascript").opens_block(line) is opens


def test_indent_width_uses_tab_stops_of_eight() -> None:
    assert indent_width("    x") == 4
    assert indent_width("\tx") == 8
    assert indent_width("  \tx") == 8
    assert indent_width("\t    x") == 12


def test_open_brackets_records_the_indentation_of_their_lines() -> None:
    text = "def f(\n    xs=[\n        1,"
    assert open_brackets(text, Lexer("python").scan(text).brackets) == [
        Opener("(", 0),
        Opener("[", 4),
    ]


def _closed(prefix: str, suffix: str, language: str = "javascript") -> frozenset[int]:
    lexer = Lexer(language)
    before = open_brackets(prefix, lexer.scan(prefix).brackets)
    line = prefix[prefix.rfind("\n") + 1 :]
    lead = None if line.strip() else line
    return closed_by_suffix(before, suffix, lexer.scan(suffix).brackets, lead)


def test_suffix_closes_the_innermost_opener() -> None:
    assert _closed("foo(", ")") == {0}


def test_a_line_starting_closer_skips_deeper_openers() -> None:
    # `if err != nil {` was just typed: the suffix's `}` is the function's
    prefix = "func f() error {\n\tif err != nil {"
    assert _closed(prefix, "\n\treturn nil\n}\n", "go") == {1}


def test_a_closer_of_another_kind_looks_for_its_own() -> None:
    # the suffix's `}` belongs to the `{` the suggestion will open after `)`
    prefix = "function f() {\n  if (a"
    closed = _closed(prefix, "\n    g()\n  }\n}\n")
    assert 0 not in closed  # the `(` is left for the suggestion to close
    assert 1 in closed


def test_balance_cuts_a_closer_the_suffix_already_has() -> None:
    balance = BracketBalance([Opener("(", 0)], frozenset({0}))
    brackets = Lexer("python").scan("a, b)").brackets
    assert balance.feed(brackets, 0) == 4


def test_balance_keeps_a_closer_the_suffix_lacks() -> None:
    balance = BracketBalance([Opener("(", 0)], frozenset())
    assert balance.feed(Lexer("python").scan("a, b)").brackets, 0) is None
    assert balance.closed_before == 1


def test_balance_cuts_a_mismatched_closer() -> None:
    balance = BracketBalance([Opener("[", 0)], frozenset())
    assert balance.feed(Lexer("python").scan("a)").brackets, 0) == 1


def test_else_reopens_what_it_closes() -> None:
    balance = BracketBalance([Opener("{", 0)], frozenset({0}))
    assert balance.feed(Lexer("javascript").scan("} else {").brackets, 1) is None
    assert balance.new_open == []  # the new `{` is the one the suffix closes


def test_new_openers_are_tracked_with_their_line() -> None:
    balance = BracketBalance([], frozenset())
    assert balance.feed(Lexer("javascript").scan("if (a) {").brackets, 3) is None
    assert balance.new_open == [("{", 3, 7)]
