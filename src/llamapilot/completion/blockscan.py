"""Where a generated suggestion ends: a line-by-line scanner and the facts it uses.

:class:`BlockScanner` reads the generated text one line at a time and says, for each line,
whether it belongs to the suggestion. :class:`Surroundings` holds what is known about the
text around the cursor (its line, the next line, the brackets open before it and those the
text after it closes), computed on first use. See :mod:`llamapilot.completion.postprocess`
for the rules as a whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING

from llamapilot.completion.brackets import (
    CLOSERS,
    Bracket,
    BracketBalance,
    Lexer,
    Opener,
    Scan,
    closed_by_suffix,
    indent_width,
    open_brackets,
)

if TYPE_CHECKING:
    from llamapilot.completion.postprocess import ShapeContext

# ---------------------------------------------------------------------------------------
# Text classification

CONTROL_TOKENS = re.compile(
    r"<\|[A-Za-z0-9_]+\|>"
    r"|<(?:fim_\w+|file_sep|repo_name|reponame|gh_stars|issue_\w+|jupyter_\w+|empty_output"
    r"|commit_\w+|EOT|PRE|SUF|MID)>"
    r"|</s>|<｜[^｜\n]{1,40}｜>|\[/(?:CODE|INST)\]|(?m:^)<filename>"
)
CONTROL_HINTS = (">", "]")  # the last character of every control token

_MARKER_LINES = {"<COMPLETION>", "</COMPLETION>", "[CODE]", "<START EDITING HERE>"}

_PREPROCESSED = {"c", "cpp", "csharp", "objective-c", "objective-cpp"}
"""Languages whose ``#`` directives sit at column 0 whatever the nesting."""

_PROSE_LANGUAGES = {"markdown", "plaintext", "text", "restructuredtext", "latex", "tex", "org"}
_CODE_LANGUAGES = {
    "python",
    "javascript",
    "javascriptreact",
    "typescript",
    "typescriptreact",
    "go",
    "rust",
    "java",
    "c",
    "cpp",
    "csharp",
    "kotlin",
    "swift",
    "scala",
    "php",
}

_PROSE_OPENING = re.compile(
    r"(?:here is|here's|here are|sure\b|certainly\b|of course\b|okay\b|below is|"
    r"the (?:completed|missing|following|rest of the) |to (?:complete|fill|finish) |"
    r"i (?:have|hope|will|can)\b|i've|i'll|let me\b|you can\b)",
    re.IGNORECASE,
)
_PROSE_CLOSING = re.compile(
    r"(?:here is|here's|here are|this (?:code|function|method|class|program|script|"
    r"implementation|solution|snippet|will|should|is|example|way|approach|returns|uses|"
    r"creates|defines|checks|assumes)\b|the (?:above|code|function|method|class|program|"
    r"output|result|following|implementation)\b|explanation\b|note\b|notes\b|output:|"
    r"example usage|usage:|in this (?:code|example|function|implementation)\b|"
    r"i (?:have|hope)\b|i've|hope this|let me know|you can\b|feel free|if you\b|"
    r"when you run|it (?:is|works|returns|uses)\b|also,|finally,|first,)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[A-Z][a-z]+[,:]?(?: [\w'’,.:-]+){3,}[.!?:]|[A-Z][a-z]+(?: [\w'’,]+){5,}")
_CODE_CHARS = re.compile(r"[=(){}\[\];<>\"`$|&\\#@]")


def _looks_like_prose(line: str, *, leading: bool, language: str | None) -> bool:
    """A line of English, not code: "Here is the code:", "This function returns ...".

    After code, only lines at column 0 count (an explanation follows the code; an indented
    sentence may be docstring text that a window cut in half makes look like code), and
    any English sentence does in the languages where it cannot be code.
    """
    stripped = line.strip()
    if not ("A" <= stripped[:1] <= "Z") or _CODE_CHARS.search(stripped):
        return False
    if leading:
        return _PROSE_OPENING.match(stripped) is not None
    if line[:1].isspace():
        return False
    if _PROSE_CLOSING.match(stripped):
        return True
    return language in _CODE_LANGUAGES and _SENTENCE.fullmatch(stripped) is not None


def _repeats(line: str, target: str | None) -> bool:
    """Whether ``line`` repeats ``target`` (the first line after the cursor).

    Same text at another indentation is another statement (a nested ``while True:``), and
    nearly equal lines do not count either: neighbours in real code often are
    (``voidcmd('AUTH TLS')`` then ``voidcmd('AUTH SSL')``).
    """
    return target is not None and line.rstrip() == target


def cut_control_tokens(text: str) -> str:
    m = CONTROL_TOKENS.search(text)
    return text if m is None else text[: m.start()]


# ---------------------------------------------------------------------------------------
# The cursor's surroundings

MAX_LEXED_CHARS = 32_000
"""How much text either side of the cursor the bracket lexer reads (whole documents may
come in); the prefix's part starts at a line start."""


def _tail(text: str, n: int) -> str:
    if len(text) <= n:
        return text
    start = text.find("\n", len(text) - n)
    return text[start + 1 :] if start >= 0 else text[-n:]


class Surroundings:
    """Facts about the text around the cursor, computed on first use, once per context."""

    def __init__(self, ctx: ShapeContext) -> None:
        self.ctx = ctx
        self.lexer = Lexer(ctx.language)
        self.line_prefix = ctx.prefix[ctx.prefix.rfind("\n") + 1 :]
        newline = ctx.suffix.find("\n")
        rest = ctx.suffix if newline < 0 else ctx.suffix[:newline]
        self.line_suffix = rest.rstrip("\r")
        self.filters_prose = ctx.language not in _PROSE_LANGUAGES

    @cached_property
    def eol(self) -> str:
        i = self.ctx.prefix.rfind("\n")
        if i > 0:
            return "\r\n" if self.ctx.prefix[i - 1] == "\r" else "\n"
        j = self.ctx.suffix.find("\n")
        return "\r\n" if j > 0 and self.ctx.suffix[j - 1] == "\r" else "\n"

    @cached_property
    def _lexed_prefix(self) -> str:
        return _tail(self.ctx.prefix, MAX_LEXED_CHARS)

    @cached_property
    def _prefix_scan(self) -> Scan:
        return self.lexer.scan(self._lexed_prefix)

    @property
    def cursor_state(self) -> str | None:
        """The string or comment delimiter the cursor is inside of, if any."""
        return self._prefix_scan.end_state

    @cached_property
    def open_before(self) -> list[Opener]:
        return open_brackets(self._lexed_prefix, self._prefix_scan.brackets)

    @cached_property
    def closed_after(self) -> frozenset[int]:
        suffix = self.ctx.suffix[:MAX_LEXED_CHARS]
        brackets = self.lexer.scan(suffix, self.cursor_state).brackets
        blank_lead = None if self.line_prefix.strip() else self.line_prefix
        return closed_by_suffix(self.open_before, suffix, brackets, blank_lead)

    def balance(self) -> BracketBalance:
        return BracketBalance(self.open_before, self.closed_after)

    @cached_property
    def previous_line(self) -> str | None:
        """The last non-blank line before the cursor's line."""
        prefix = self.ctx.prefix
        end = prefix.rfind("\n")
        for _ in range(500):
            if end < 0:
                return None
            start = prefix.rfind("\n", 0, end) + 1
            line = prefix[start:end].rstrip("\r")
            if line.strip():
                return line
            end = start - 1
        return None

    @cached_property
    def next_line(self) -> str | None:
        """The first non-blank line after the cursor's line (right-stripped)."""
        return self._next_line(skip_directives=False)

    @cached_property
    def next_code_line(self) -> str | None:
        """Like :attr:`next_line`, skipping preprocessor directives (for indentation)."""
        if self.ctx.language not in _PREPROCESSED:
            return self.next_line
        return self._next_line(skip_directives=True)

    def is_directive(self, line: str) -> bool:
        return self.ctx.language in _PREPROCESSED and line.lstrip().startswith("#")

    def _next_line(self, *, skip_directives: bool) -> str | None:
        suffix = self.ctx.suffix
        start = suffix.find("\n")
        for _ in range(500):
            if start < 0:
                return None
            end = suffix.find("\n", start + 1)
            line = suffix[start + 1 : len(suffix) if end < 0 else end].rstrip()
            if line.strip() and not (skip_directives and self.is_directive(line)):
                return line
            start = end
        return None

    def enclosing_indent(self, indent: int) -> int:
        """Indentation of the nearest line before the cursor indented less than ``indent``."""
        prefix = self.ctx.prefix
        end = prefix.rfind("\n")
        for _ in range(2000):
            if end < 0:
                break
            start = prefix.rfind("\n", 0, end) + 1
            line = prefix[start:end]
            if line.strip() and indent_width(line) < indent:
                return indent_width(line)
            end = start - 1
        return 0

    @cached_property
    def opener_indent(self) -> int | None:
        """Indentation of the line opening the block the cursor starts, if it starts one."""
        if self.cursor_state is not None:
            return None
        line = self.line_prefix if self.line_prefix.strip() else self.previous_line
        if line is None or not self.lexer.opens_block(line):
            return None
        return indent_width(line)


# ---------------------------------------------------------------------------------------
# The line scanner


class Action(Enum):
    KEEP = "keep"
    SKIP = "skip"
    STOP_BEFORE = "stop before"
    STOP_AFTER = "stop after"


@dataclass(frozen=True)
class Decision:
    action: Action
    cut: int | None = None
    """Keep only ``line[:cut]`` (then stop)."""
    rollback: int | None = None
    """Also drop the lines kept on trial from this line number on."""

    @property
    def stops(self) -> bool:
        return self.action in (Action.STOP_BEFORE, Action.STOP_AFTER)


_KEEP = Decision(Action.KEEP)
_SKIP = Decision(Action.SKIP)
_STOP_BEFORE = Decision(Action.STOP_BEFORE)
_STOP_AFTER = Decision(Action.STOP_AFTER)


_CONTINUATION_WORDS = ("else", "elif", "except", "finally", "catch", "case", "default")
_CONTINUATION = re.compile(r"(?:" + "|".join(_CONTINUATION_WORDS) + r")\b")
_DEFINITION = re.compile(
    r"(?:async\s+)?(?:def|class|function|func|fn|impl|struct|enum|interface|trait|type)\b"
    r"|(?:pub|export|public|private|protected|static)\b"
)
REJOIN_LINES = 4
"""How many lines past the end of its block a suggestion may go, on trial, to reach the
line after the cursor (filling a gap in the middle of code)."""


class BlockScanner:
    """Decides, one generated line at a time, where the suggestion ends.

    Line 0 is the text generated on the cursor's line; its effective content is the
    cursor's line prefix followed by it.
    """

    def __init__(self, ctx: ShapeContext, around: Surroundings) -> None:
        self.around = around
        self.multiline = ctx.multiline
        self.max_lines = max(1, ctx.max_lines) if ctx.multiline else 1
        self.index = 0
        self.started = False
        self.limit = 0
        self.first_indent = 0
        self.first_opens = False
        self.prev_blank = False
        self.floor: int | None = None
        """Set when the text after the cursor goes on deeper than the suggestion's first line:
        the suggestion must then open that block itself, so it may dedent down to here."""
        self.connect_point: int | None = None
        """With ``floor`` set: the last line that opens a block the text after the cursor can
        be the body of. Unless the suggestion reaches that text, it ends there."""
        self.last_line = ""
        self.trial_from: int | None = None
        """First line kept on trial: lines past the block that must reach the suffix."""
        self.trial_lines = 0
        self.kept = 0
        self.state = around.cursor_state
        self.balance = around.balance()
        self.rebase = ""
        """Indentation added to lines after a skipped leading fence (fenced code starts at
        column 0 wherever the cursor is)."""

    # -- public --

    def feed(self, line: str) -> Decision:
        index = self.index
        self.index += 1
        entering = self.state
        scan = self.around.lexer.scan(line, entering)
        self.state = Lexer.carry(scan.end_state)
        if self.started:
            decision = self._after_start(index, line, entering, scan.brackets)
        else:
            decision = self._before_start(index, line, entering, scan.brackets)
            if decision.action is Action.SKIP:
                self.state = entering  # a skipped fence or remark is not code
        if self.floor is not None:
            decision = self._toward_suffix(index, line, entering, decision)
        return decision

    def unfinished(self) -> int | None:
        """When the text ends here: the first line to drop (of a trial, or past the point
        where the suggestion would connect to the text after the cursor)."""
        if self.trial_from is not None:
            return self.trial_from
        return None if self.connect_point is None else self.connect_point + 1

    def _toward_suffix(
        self, index: int, line: str, entering: str | None, decision: Decision
    ) -> Decision:
        """With ``floor`` set, end at the last connection point unless the text is reached."""
        effective = self.effective(index, line)
        if decision.stops:
            reached = _repeats(effective, self.around.next_line)
            if reached or self.connect_point is None or decision.rollback is not None:
                return decision
            return Decision(Action.STOP_BEFORE, rollback=self.connect_point + 1)
        following = self.around.next_code_line
        if decision.action is Action.KEEP and entering is None and following is not None:
            body = indent_width(following)
            indent = indent_width(effective)
            step = self.first_indent - self.floor or body - self.first_indent
            if indent < body <= indent + step and self.around.lexer.opens_block(effective):
                self.connect_point = index  # the text after the cursor can be its body
        return decision

    def ends_before(self, partial: str) -> bool:
        """Whether a line starting with ``partial`` is certainly cut (dedent, fence)."""
        if not (self.started and self.multiline) or self.state is not None:
            return False
        stripped = partial.lstrip()
        if not stripped or stripped[0] in CLOSERS or self.around.is_directive(stripped):
            return False
        if stripped.startswith("```") and self.around.filters_prose:
            return True
        indent = indent_width(self.rebase + partial)
        rejoin = self._rejoin_indent()
        if self.trial_from is not None:
            return rejoin is None or indent < rejoin
        if not self._dedents(indent):
            return False
        if rejoin is None:
            return True
        word = re.match(r"\w*", stripped).group()
        if indent >= rejoin:  # a trial may start, but not at the top level or on a definition
            return indent == 0 or (len(word) < len(stripped) and bool(_DEFINITION.match(stripped)))
        if len(word) == len(stripped):  # the first word is not complete yet
            return not any(k.startswith(word) for k in _CONTINUATION_WORDS)
        return word not in _CONTINUATION_WORDS

    def overcloses(self, partial: str) -> bool:
        """Whether ``partial`` (the line being generated) closes a bracket it must not.

        The suggestion is then cut there whatever the rest of the line is.
        """
        continues_line = self.index == 0 and self.around.line_prefix.strip()
        if not (self.started or continues_line):
            return False  # a line before the code starts may still be skipped (a fence)
        scan = self.around.lexer.scan(partial, self.state)
        cut = self.balance.copy().feed(scan.brackets, self.index)
        if cut is None or partial[cut] == "}":
            return False  # a `}` may still become `} else {` or `}, {`
        # right after a quote and still last, it may be a char literal being generated (')')
        return not (partial[cut - 1] == "'" and cut == len(partial) - 1)

    def effective(self, index: int, line: str) -> str:
        """The line as it would read in the document."""
        if index == 0:
            return self.around.line_prefix + line
        return self.rebase + line if line.strip() else line

    # -- rules --

    def _before_start(
        self, index: int, line: str, entering: str | None, brackets: list[Bracket]
    ) -> Decision:
        around = self.around
        stripped = line.strip()
        if not stripped:
            if index == 0 and around.line_suffix.strip() and not self.multiline:
                return _STOP_BEFORE  # the model broke a line that goes on right of the cursor
            return _SKIP
        fresh = index > 0 or not around.line_prefix.strip()
        if fresh and entering is None:
            if around.filters_prose and stripped.startswith("```"):
                if not around.line_prefix.strip():
                    self.rebase = around.line_prefix
                return _SKIP
            if stripped in _MARKER_LINES:
                return _SKIP
            if around.filters_prose and _looks_like_prose(
                self.effective(index, line), leading=True, language=around.ctx.language
            ):
                return _SKIP
        effective = self.effective(index, line)
        if fresh and _repeats(effective, around.next_line):
            return _STOP_BEFORE
        self.started = True
        if not fresh:  # continuing the cursor's line: the block is what is deeper than it
            self.first_indent = indent_width(around.line_prefix)
            self.limit = self.first_indent + 1
            return self._keep(index, brackets)
        indent = indent_width(effective)
        self.first_indent = indent
        opener = around.opener_indent
        if opener is not None and indent <= opener:
            self.limit = opener + 1
            # an empty block: maybe its closer, nothing past it (the block needs a body)
            if line.lstrip()[:1] not in CLOSERS:
                return _STOP_BEFORE
            return self._dedented(index, line, brackets)
        self.limit = indent
        self.first_opens = around.lexer.opens_block(effective)
        following = around.next_code_line
        if following is not None and indent_width(following) > indent and self.multiline:
            self.floor = around.enclosing_indent(indent)
        self.last_line = effective.rstrip()
        return self._keep(index, brackets)

    def _after_start(
        self, index: int, line: str, entering: str | None, brackets: list[Bracket]
    ) -> Decision:
        if not self.multiline:
            return _STOP_BEFORE
        stripped = line.strip()
        if not stripped:
            self.prev_blank = True
            if self.trial_from is not None:
                return self._trial_keep(index, brackets)
            return self._keep(index, brackets)
        around = self.around
        if entering is None and around.filters_prose and self._leaves_code(index, line):
            return self._rollback() if self.trial_from is not None else _STOP_BEFORE
        effective = self.effective(index, line)
        if _repeats(effective, around.next_line):
            return _STOP_BEFORE
        if self.trial_from is not None:
            return self._on_trial(index, effective, entering, brackets)
        if self._loops(effective):
            return _STOP_BEFORE
        directive = around.is_directive(effective)
        if entering is None and not directive and self._dedents(indent_width(effective)):
            return self._dedented(index, effective, brackets)
        self.prev_blank = False
        self.last_line = effective.rstrip()
        return self._keep(index, brackets)

    def _leaves_code(self, index: int, line: str) -> bool:
        """A fence or an explanation: the model has left the code."""
        stripped = line.strip()
        if stripped.startswith("```") or stripped in _MARKER_LINES:
            return True
        effective = self.effective(index, line)
        return _looks_like_prose(effective, leading=False, language=self.around.ctx.language)

    def _loops(self, effective: str) -> bool:
        """The same statement twice in a row: a small model caught in a loop."""
        line = effective.rstrip()
        return line == self.last_line and sum(ch.isalnum() for ch in line) >= 3

    def _dedents(self, indent: int) -> bool:
        if self.floor is not None:
            return indent < self.floor
        if indent < self.limit:
            return True
        # after a blank line: a new top-level statement, or a sibling of a suggested definition
        sibling_ends = self.first_indent == 0 or (
            self.first_opens and self.around.opener_indent is None
        )
        return self.prev_blank and indent <= self.first_indent and sibling_ends

    def _dedented(self, index: int, line: str, brackets: list[Bracket]) -> Decision:
        """A line outside the block: a needed closing line (``}``, ``});``) stays, and so
        may lines that lead to the text after the cursor (see :meth:`_past_block`)."""
        if line.lstrip()[:1] not in CLOSERS:
            return self._past_block(index, line, brackets)
        cut = self.balance.feed(brackets, index)
        if cut is not None:
            return Decision(Action.STOP_AFTER, cut)
        self.kept += 1
        if self.multiline and self.around.lexer.opens_block(line) and self.kept < self.max_lines:
            self.prev_blank = False  # `} else {`: the statement goes on
            return _KEEP
        return _STOP_AFTER

    def _rejoin_indent(self) -> int | None:
        """Indentation of the line after the cursor when it lies outside the block."""
        following = self.around.next_code_line
        if not self.multiline or following is None:
            return None
        indent = indent_width(following)
        return indent if indent < self.limit else None

    def _past_block(self, index: int, line: str, brackets: list[Bracket]) -> Decision:
        """A line past the block when the text after the cursor continues outside it.

        When the suggestion fills a gap in the middle of code, the gap may go on after the
        block: an ``else:`` whose body is the text after the cursor is kept as the last
        line; a statement at or deeper than the level of the text after the cursor starts
        a trial of at most ``REJOIN_LINES`` lines that must reach that text.
        """
        rejoin = self._rejoin_indent()
        if rejoin is None:
            return _STOP_BEFORE
        indent = indent_width(line)
        stripped = line.strip()
        if indent < rejoin:
            continues = _CONTINUATION.match(stripped) and self.around.lexer.opens_block(line)
            if not continues:
                return _STOP_BEFORE
            cut = self.balance.feed(brackets, index)
            return Decision(Action.STOP_AFTER, cut) if cut is not None else _STOP_AFTER
        if indent == 0 or _DEFINITION.match(stripped):
            return _STOP_BEFORE
        self.trial_from = index
        self.trial_lines = 0
        return self._on_trial(index, line, None, brackets)

    def _on_trial(
        self, index: int, effective: str, entering: str | None, brackets: list[Bracket]
    ) -> Decision:
        rejoin = self._rejoin_indent()
        below = rejoin is None or indent_width(effective) < rejoin
        if entering is None and not self.around.is_directive(effective) and below:
            return self._rollback()
        if self._loops(effective):
            return self._rollback()
        self.trial_lines += 1
        if self.trial_lines > REJOIN_LINES:
            return self._rollback()
        self.prev_blank = False
        self.last_line = effective.rstrip()
        return self._trial_keep(index, brackets)

    def _trial_keep(self, index: int, brackets: list[Bracket]) -> Decision:
        if self.balance.feed(brackets, index) is not None:
            return self._rollback()
        self.kept += 1
        return self._rollback() if self.kept >= self.max_lines else _KEEP

    def _rollback(self) -> Decision:
        return Decision(Action.STOP_BEFORE, rollback=self.trial_from)

    def _keep(self, index: int, brackets: list[Bracket]) -> Decision:
        cut = self.balance.feed(brackets, index)
        if cut is not None:
            return Decision(Action.STOP_AFTER, cut)
        self.kept += 1
        return _STOP_AFTER if self.kept >= self.max_lines else _KEEP
