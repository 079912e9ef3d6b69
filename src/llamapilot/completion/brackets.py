"""Strings, comments and brackets for post-processing, without a parser.

A small per-language lexer: it knows where strings and comments start and end, which is
enough to tell the brackets that matter — which ones the text before the cursor leaves
open, how many of those the text after the cursor closes, and where a suggestion would
close one of them a second time. Works for any language (unknown ones get C-like rules)
and on windows of a document whose first line may start inside a construct (then it is
simply wrong for that window, as any lexer would be).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

OPENERS = "([{"
CLOSERS = ")]}"
CLOSER_OF = {"(": ")", "[": "]", "{": "}"}
OPENER_OF = {")": "(", "]": "[", "}": "{"}

# Kinds of token that can span lines: their opening delimiter is carried to the next line.
_MULTILINE_KINDS = ("tq", "bc", "bt")

_HASH_COMMENT = {
    "python",
    "ruby",
    "shellscript",
    "perl",
    "r",
    "yaml",
    "toml",
    "makefile",
    "dockerfile",
    "elixir",
    "julia",
    "nim",
    "powershell",
}
_DASH_COMMENT = {"sql", "lua", "haskell"}
_BACKTICK_STRINGS = {"javascript", "javascriptreact", "typescript", "typescriptreact", "go"}
_NO_BLOCK_COMMENT = _HASH_COMMENT | {"haskell"}


@dataclass(frozen=True)
class Bracket:
    index: int
    char: str


def _pattern(language: str | None) -> re.Pattern[str]:
    parts: list[str] = []
    if language in _HASH_COMMENT:
        parts.append(r"(?P<lc>#[^\n]*)")
    elif language in _DASH_COMMENT:
        parts.append(r"(?P<lc>--[^\n]*)")
    else:
        parts.append(r"(?P<lc>//[^\n]*)")
    if language not in _NO_BLOCK_COMMENT:
        parts.append(r"(?P<bc>/\*(?:[^*]|\*(?!/))*(?P<bcx>\*/)?)")
    if language == "python":
        parts.append(
            r"(?P<tq>(?P<tqd>\"\"\"|''')(?:\\[\s\S]|(?!(?P=tqd))[\s\S])*(?P<tqx>(?P=tqd))?)"
        )
    parts.append(r'(?P<dq>"(?:\\[^\n]|[^"\\\n])*(?P<dqx>")?)')
    if language == "rust":
        # a quote is a char literal only when it closes: lifetimes ('a) stay plain text
        parts.append(r"(?P<ch>'(?:\\[^\n']{1,10}|[^\\'\n])')")
    else:
        parts.append(r"(?P<sq>'(?:\\[^\n]|[^'\\\n])*(?P<sqx>')?)")
    if language in _BACKTICK_STRINGS:
        parts.append(r"(?P<bt>`(?:\\[\s\S]|[^`\\])*(?P<btx>`)?)")
    parts.append(r"(?P<br>[()\[\]{}])")
    return re.compile("|".join(parts))


_FAMILIES: tuple[str | None, ...] = (
    None,
    "python",
    "rust",
    "javascript",
    "shellscript",
    "sql",
)


def _family(language: str | None) -> str | None:
    if language in _HASH_COMMENT - {"python"}:
        return "shellscript"
    if language in _DASH_COMMENT:
        return "sql"
    if language in _BACKTICK_STRINGS:
        return "javascript"
    if language in ("python", "rust"):
        return language
    return None


_PATTERNS: dict[str | None, re.Pattern[str]] = {f: _pattern(f) for f in _FAMILIES}


def _open_delimiter(m: re.Match[str]) -> str | None:
    """The opening delimiter of token ``m`` if the token is not closed, else None."""
    kind = m.lastgroup
    if kind == "lc":
        return m.group()[:2] if m.group().startswith(("//", "--")) else "#"
    if kind == "bc":
        return None if m.group("bcx") else "/*"
    if kind == "tq":
        return None if m.group("tqx") else m.group("tqd")
    if kind == "dq":
        return None if m.group("dqx") else '"'
    if kind == "sq":
        return None if m.group("sqx") else "'"
    if kind == "bt":
        return None if m.group("btx") else "`"
    return None


@dataclass(frozen=True)
class Scan:
    brackets: list[Bracket]
    end_state: str | None
    """Opening delimiter of the string or comment still open at the end of the text."""
    comment_start: int | None
    """Where the last line comment of the text starts (None without one)."""


class Lexer:
    """Finds brackets outside strings and comments for one language."""

    def __init__(self, language: str | None) -> None:
        self.language = language
        self._pattern = _PATTERNS[_family(language)]

    def scan(self, text: str, state: str | None = None) -> Scan:
        """Lex ``text``; ``state`` is a string/comment delimiter still open where it starts."""
        shift = len(state) if state else 0
        source = (state + text) if state else text
        brackets: list[Bracket] = []
        end_state: str | None = None
        comment_start: int | None = None
        for m in self._pattern.finditer(source):
            kind = m.lastgroup
            if kind == "br":
                if m.start() >= shift:
                    brackets.append(Bracket(m.start() - shift, m.group()))
                continue
            if kind == "lc":
                comment_start = max(m.start() - shift, 0)
            if m.end() == len(source):
                end_state = _open_delimiter(m)
        return Scan(brackets, end_state, comment_start)

    @staticmethod
    def carry(state: str | None) -> str | None:
        """The state after a newline: only multi-line strings and comments continue."""
        if state in ('"""', "'''", "/*", "`"):
            return state
        return None

    def code_part(self, line: str, state: str | None = None) -> str:
        """``line`` without its trailing line comment."""
        scan = self.scan(line, state)
        return line if scan.comment_start is None else line[: scan.comment_start]

    def opens_block(self, line: str, state: str | None = None) -> bool:
        """Whether the next lines are expected to be indented deeper than ``line``."""
        if state is not None:
            return False
        scan = self.scan(line)
        if scan.end_state is not None and scan.comment_start is None:
            return False  # the line ends inside a string
        code = line if scan.comment_start is None else line[: scan.comment_start]
        code = code.rstrip()
        return code.endswith(("{", "(", "[", ":", "=>")) and not code.endswith("::")


@dataclass(frozen=True)
class Opener:
    char: str
    indent: int
    """Indentation of the line the opener is on."""


def indent_width(line: str) -> int:
    """Indentation width of ``line``, tabs to the next multiple of 8 (files mixing both)."""
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 8 - width % 8
        else:
            break
    return width


def _line_head(text: str, index: int) -> str:
    return text[text.rfind("\n", 0, index) + 1 : index]


def open_brackets(text: str, brackets: list[Bracket]) -> list[Opener]:
    """Openers ``text`` leaves unclosed (innermost last); unmatched closers are ignored."""
    stack: list[Bracket] = []
    for b in brackets:
        if b.char in OPENERS:
            stack.append(b)
        elif stack and stack[-1].char == OPENER_OF[b.char]:
            stack.pop()
        elif any(o.char == OPENER_OF[b.char] for o in stack):
            # a mismatched closer: close up to its opener, as error recovery would
            while stack and stack.pop().char != OPENER_OF[b.char]:
                pass
    return [Opener(b.char, indent_width(_line_head(text, b.index))) for b in stack]


def closed_by_suffix(
    open_before: list[Opener], suffix: str, brackets: list[Bracket], cursor_indent: str | None
) -> frozenset[int]:
    """Which openers before the cursor the suffix closes, by depth (0 = innermost).

    Closers are matched from the innermost opener outwards, except that a closer starting
    its line (``}`` of a function) skips openers on lines indented deeper than it: those
    (an ``if {`` just typed) are left for the suggestion to close. A closer of another
    kind than the opener it meets (``}`` meeting ``if (``) closes the nearest outer opener
    of its kind, or else something the suggestion will open. ``cursor_indent`` is the
    cursor's line before it when only blanks, else None (the suffix's first line then does
    not start a line).
    """
    closed: set[int] = set()
    depth = 0
    nesting = 0
    for b in brackets:
        if b.char in OPENERS:
            nesting += 1
            continue
        if nesting:
            nesting -= 1
            continue
        head = _line_head(suffix, b.index)
        starts_line = not head.strip()
        if suffix.rfind("\n", 0, b.index) < 0:  # still on the cursor's line
            starts_line = starts_line and cursor_indent is not None
            head = (cursor_indent or "") + head
        if starts_line:
            width = indent_width(head)
            while depth < len(open_before) and open_before[-1 - depth].indent > width:
                depth += 1
        match = depth
        while match < len(open_before) and open_before[-1 - match].char != OPENER_OF[b.char]:
            match += 1
        if match < len(open_before) or depth >= len(open_before):
            closed.add(match)
            depth = match + 1
    return frozenset(closed)


@dataclass
class BracketBalance:
    """A suggestion's brackets, checked against those open before the cursor.

    A suggestion must not close an opener from before the cursor that the text after the
    cursor already closes (``foo(|)`` + ``a, b)``), nor close an opener with the wrong kind
    of closer. It may close outer openers the suffix leaves open.
    """

    open_before: list[Opener]
    closed_after: frozenset[int]
    """Depths (0 = innermost) of the openers before the cursor that the suffix closes."""
    closed_before: int = 0
    new_open: list[tuple[str, int, int]] = field(default_factory=list)
    """Openers the suggestion left unclosed: (char, line number, column)."""

    def copy(self) -> BracketBalance:
        return BracketBalance(
            list(self.open_before), self.closed_after, self.closed_before, list(self.new_open)
        )

    def feed(self, brackets: list[Bracket], line: int) -> int | None:
        """Apply one line's brackets; return the column of the first over-closing one.

        ``} else {`` closes an opener from before the cursor and opens one of the same
        kind: the new one takes its place (closed by the suffix if the old one was).
        """
        reopened: int | None = None
        for i, b in enumerate(brackets):
            if i == reopened:
                continue
            if b.char in OPENERS:
                self.new_open.append((b.char, line, b.index))
                continue
            if self.new_open:
                if self.new_open[-1][0] != OPENER_OF[b.char]:
                    return b.index
                self.new_open.pop()
                continue
            depth = self.closed_before
            if depth in self.closed_after:
                reopened = _reopening(brackets, i)
                if reopened is None:
                    return b.index
                continue
            if depth < len(self.open_before):
                opener = self.open_before[-1 - depth]
                if opener.char != OPENER_OF[b.char]:
                    return b.index
            self.closed_before += 1
        return None


def _reopening(brackets: list[Bracket], i: int) -> int | None:
    """Index of the opener that reopens what ``brackets[i]`` closes (``} else {``), if any.

    It must be of the same kind and left open at the end of the line. Only braces reopen.
    """
    if brackets[i].char != "}":
        return None
    stack: list[int] = []
    for j in range(i + 1, len(brackets)):
        char = brackets[j].char
        if char in OPENERS:
            stack.append(j)
        elif stack and brackets[stack[-1]].char == OPENER_OF[char]:
            stack.pop()
        else:
            return None
    if len(stack) == 1 and brackets[stack[0]].char == OPENER_OF[brackets[i].char]:
        return stack[0]
    return None
