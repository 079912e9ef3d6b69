"""Post-processing: turn what the model generated at the cursor into a usable suggestion.

Three entry points share one line-by-line scanner (``_BlockScanner``), so the stream stops
where :func:`finalize` would cut anyway:

* :func:`decide_multiline` — one line or a block, from the text around the cursor;
* :class:`StopDetector` — called after every token; True once the suggestion is complete;
* :func:`finalize` — the text shown.

Rules, in the order they apply to each generated line:

1. chat/FIM control tokens (``<|im_end|>``, ``<file_sep>``, ...) end the text;
2. before the first content line: blank lines, markdown fences and chatty openers
   ("Here is the code:") are skipped; a first line that repeats the line after the cursor
   ends everything (the user already has it);
3. single-line mode ends after the first content line — when the cursor ends a complete
   line, that is the next line, shown with its leading newline;
4. the block the suggestion starts is bounded by indentation: a line indented less than the
   first line (or not deeper than the line that opened the block, or, when continuing the
   cursor's line, not deeper than that line) ends it; a dedented closing line (``}``,
   ``});``, ``} else {``) is kept when the brackets say it is needed;
5. a blank line followed by a new top-level statement, or by a sibling after a suggested
   definition, ends it; so do a line repeating the first line after the cursor, a fence,
   an explanation in prose and ``max_lines``;
6. brackets: a closer that would close something the suffix already closes (``foo(|)`` +
   ``a, b)``) or that does not match its opener cuts the suggestion right there;
7. what still duplicates the text right of the cursor on its line is trimmed;
8. multi-line: openers the suggestion leaves open at line ends get their closing lines, and
   with a tree-sitter grammar the longest run of lines whose insertion gives the fewest
   syntax errors is kept.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

from llamapilot.completion.brackets import (
    CLOSER_OF,
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
from llamapilot.completion.scope import Grammars, default_grammars, most_parseable


@dataclass(frozen=True)
class ShapeContext:
    prefix: str
    """Document text before the cursor (may be a window that starts at a line start)."""
    suffix: str
    """Document text after the cursor (may be a window that ends at a line end)."""
    language: str | None
    multiline: bool
    max_lines: int = 16


# ---------------------------------------------------------------------------------------
# Text classification

_CONTROL_TOKENS = re.compile(
    r"<\|[A-Za-z0-9_]+\|>"
    r"|<(?:fim_\w+|file_sep|repo_name|reponame|gh_stars|issue_\w+|jupyter_\w+|empty_output"
    r"|commit_\w+|EOT|PRE|SUF|MID)>"
    r"|</s>|<｜[^｜\n]{1,40}｜>|\[/(?:CODE|INST)\]|(?m:^)<filename>"
)
_CONTROL_HINTS = (">", "]")  # the last character of every control token

_MARKER_LINES = {"<COMPLETION>", "</COMPLETION>", "[CODE]", "<START EDITING HERE>"}

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


_indent = indent_width


def _looks_like_prose(stripped: str, *, leading: bool, language: str | None) -> bool:
    """A line of English, not code: "Here is the code:", "This function returns ..."."""
    if not ("A" <= stripped[:1] <= "Z") or _CODE_CHARS.search(stripped):
        return False
    phrases = _PROSE_OPENING if leading else _PROSE_CLOSING
    if phrases.match(stripped):
        return True
    return language in _CODE_LANGUAGES and _SENTENCE.fullmatch(stripped) is not None


def _repeats(line: str, target: str | None) -> bool:
    """Whether ``line`` repeats ``target`` (the first line after the cursor).

    Exact for short lines (``}`` only matches at the same indentation); for lines with
    some substance, also the same line with a different ending (a small model often
    rewrites the next line slightly). Similar lines that differ early (``"--input"`` then
    ``"--output"``) are different statements and do not count.
    """
    if target is None:
        return False
    line = line.rstrip()
    if line == target:
        return True
    a, b = line.strip(), target.strip()
    if len(b) < 6 or not any(ch.isalnum() for ch in b):
        return False
    if a == b:
        return True
    if min(len(a), len(b)) < 12:
        return False
    common = len(os.path.commonprefix([a, b]))
    return common >= 0.8 * max(len(a), len(b))


def _cut_control_tokens(text: str) -> str:
    m = _CONTROL_TOKENS.search(text)
    return text if m is None else text[: m.start()]


# ---------------------------------------------------------------------------------------
# The cursor's surroundings

_MAX_LEXED_CHARS = 32_000
"""How much text either side of the cursor the bracket lexer reads (whole documents may
come in); the prefix's part starts at a line start."""


def _tail(text: str, n: int) -> str:
    if len(text) <= n:
        return text
    start = text.find("\n", len(text) - n)
    return text[start + 1 :] if start >= 0 else text[-n:]


class _Surroundings:
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
        return _tail(self.ctx.prefix, _MAX_LEXED_CHARS)

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
        suffix = self.ctx.suffix[:_MAX_LEXED_CHARS]
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
        suffix = self.ctx.suffix
        start = suffix.find("\n")
        for _ in range(500):
            if start < 0:
                return None
            end = suffix.find("\n", start + 1)
            line = suffix[start + 1 : len(suffix) if end < 0 else end].rstrip()
            if line.strip():
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
            if line.strip() and _indent(line) < indent:
                return _indent(line)
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
        return _indent(line)


# ---------------------------------------------------------------------------------------
# The line scanner


class _Action(Enum):
    KEEP = "keep"
    SKIP = "skip"
    STOP_BEFORE = "stop before"
    STOP_AFTER = "stop after"


@dataclass(frozen=True)
class _Decision:
    action: _Action
    cut: int | None = None
    """Keep only ``line[:cut]`` (then stop)."""

    @property
    def stops(self) -> bool:
        return self.action in (_Action.STOP_BEFORE, _Action.STOP_AFTER)


_KEEP = _Decision(_Action.KEEP)
_SKIP = _Decision(_Action.SKIP)
_STOP_BEFORE = _Decision(_Action.STOP_BEFORE)
_STOP_AFTER = _Decision(_Action.STOP_AFTER)


class _BlockScanner:
    """Decides, one generated line at a time, where the suggestion ends.

    Line 0 is the text generated on the cursor's line; its effective content is the
    cursor's line prefix followed by it.
    """

    def __init__(self, ctx: ShapeContext, around: _Surroundings) -> None:
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
        self.last_line = ""
        self.kept = 0
        self.state = around.cursor_state
        self.balance = around.balance()
        self.rebase = ""
        """Indentation added to lines after a skipped leading fence (fenced code starts at
        column 0 wherever the cursor is)."""

    # -- public --

    def feed(self, line: str) -> _Decision:
        index = self.index
        self.index += 1
        entering = self.state
        scan = self.around.lexer.scan(line, entering)
        self.state = Lexer.carry(scan.end_state)
        if self.started:
            return self._after_start(index, line, entering, scan.brackets)
        decision = self._before_start(index, line, entering, scan.brackets)
        if decision.action is _Action.SKIP:
            self.state = entering  # a skipped fence or remark is not code
        return decision

    def ends_before(self, partial: str) -> bool:
        """Whether a line starting with ``partial`` is certainly cut (dedent, fence)."""
        if not (self.started and self.multiline) or self.state is not None:
            return False
        stripped = partial.lstrip()
        if not stripped or stripped[0] in CLOSERS:
            return False
        if stripped.startswith("```") and self.around.filters_prose:
            return True
        return self._dedents(_indent(self.rebase + partial))

    def overcloses(self, partial: str) -> bool:
        """Whether ``partial`` (the line being generated) closes a bracket it must not.

        The suggestion is then cut there whatever the rest of the line is.
        """
        if not (self.started or self.index == 0):
            return False  # a line before the code starts may still be skipped
        scan = self.around.lexer.scan(partial, self.state)
        cut = self.balance.copy().feed(scan.brackets, self.index)
        # right after a quote and still last, it may be a char literal being generated ('}')
        return cut is not None and not (partial[cut - 1 : cut] == "'" and cut == len(partial) - 1)

    def effective(self, index: int, line: str) -> str:
        """The line as it would read in the document."""
        if index == 0:
            return self.around.line_prefix + line
        return self.rebase + line if line.strip() else line

    # -- rules --

    def _before_start(
        self, index: int, line: str, entering: str | None, brackets: list[Bracket]
    ) -> _Decision:
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
                stripped, leading=True, language=around.ctx.language
            ):
                return _SKIP
        effective = self.effective(index, line)
        if fresh and _repeats(effective, around.next_line):
            return _STOP_BEFORE
        self.started = True
        if not fresh:  # continuing the cursor's line: the block is what is deeper than it
            self.first_indent = _indent(around.line_prefix)
            self.limit = self.first_indent + 1
            return self._keep(index, brackets)
        indent = _indent(effective)
        self.first_indent = indent
        opener = around.opener_indent
        if opener is not None and indent <= opener:
            self.limit = opener + 1
            return self._dedented(index, line, brackets)  # an empty block: maybe its closer
        self.limit = indent
        self.first_opens = around.lexer.opens_block(effective)
        following = around.next_line
        if following is not None and _indent(following) > indent and self.multiline:
            self.floor = around.enclosing_indent(indent)
        self.last_line = effective.rstrip()
        return self._keep(index, brackets)

    def _after_start(
        self, index: int, line: str, entering: str | None, brackets: list[Bracket]
    ) -> _Decision:
        if not self.multiline:
            return _STOP_BEFORE
        stripped = line.strip()
        if not stripped:
            self.prev_blank = True
            return self._keep(index, brackets)
        around = self.around
        if entering is None and around.filters_prose:
            if stripped.startswith("```") or stripped in _MARKER_LINES:
                return _STOP_BEFORE
            if _looks_like_prose(stripped, leading=False, language=around.ctx.language):
                return _STOP_BEFORE
        effective = self.effective(index, line)
        if _repeats(effective, around.next_line) or self._loops(effective):
            return _STOP_BEFORE
        if entering is None and self._dedents(_indent(effective)):
            return self._dedented(index, effective, brackets)
        self.prev_blank = False
        self.last_line = effective.rstrip()
        return self._keep(index, brackets)

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

    def _dedented(self, index: int, line: str, brackets: list[Bracket]) -> _Decision:
        """A line outside the block: only a needed closing line (``}``, ``});``) stays."""
        if line.lstrip()[:1] not in CLOSERS:
            return _STOP_BEFORE
        cut = self.balance.feed(brackets, index)
        if cut is not None:
            return _Decision(_Action.STOP_AFTER, cut)
        self.kept += 1
        if self.multiline and self.around.lexer.opens_block(line) and self.kept < self.max_lines:
            self.prev_blank = False  # `} else {`: the statement goes on
            return _KEEP
        return _STOP_AFTER

    def _keep(self, index: int, brackets: list[Bracket]) -> _Decision:
        cut = self.balance.feed(brackets, index)
        if cut is not None:
            return _Decision(_Action.STOP_AFTER, cut)
        self.kept += 1
        return _STOP_AFTER if self.kept >= self.max_lines else _KEEP


# ---------------------------------------------------------------------------------------
# Public API


def decide_multiline(prefix: str, suffix: str, language: str | None) -> bool:
    """Whether to ask for a block (True) or a single line (False) at this cursor.

    Single line: text right of the cursor, the cursor inside a string or comment, or
    mid-line. A block: at the end of a line that opens one (``def f():``, ``{``), or on an
    empty line after such a line or a decorator, or after a comment or docstring where
    the enclosing block ends.
    """
    around = _Surroundings(ShapeContext(prefix, suffix, language, multiline=True))
    if around.line_suffix.strip() or around.cursor_state is not None:
        return False
    lexer = around.lexer
    if around.line_prefix.strip():
        code = lexer.code_part(around.line_prefix).rstrip()
        return code.endswith(("{", ":", "=>")) and lexer.opens_block(around.line_prefix)
    previous = around.previous_line
    if previous is None:
        return False
    if lexer.opens_block(previous):
        return True
    head = previous.strip()
    if head.startswith("@"):
        return True
    describes = lexer.scan(head).comment_start == 0 or head.endswith(('"""', "'''", "*/"))
    if describes:
        following = around.next_line
        return following is None or _indent(following) < _indent(previous)
    return False


class StopDetector:
    """Says when generation can stop: the suggestion :func:`finalize` would show is done.

    Called after every token with all the text generated so far (which only grows). Work
    is done when a line completes; otherwise only the new characters are looked at.
    """

    def __init__(self, ctx: ShapeContext) -> None:
        self._scanner = _BlockScanner(ctx, _Surroundings(ctx))
        self._line_start = 0
        self._seen = 0
        self._probed_line = -1
        self._done = False
        self.lines_scanned = 0
        """Complete lines handed to the scanner (for tests and diagnostics)."""

    def __call__(self, generated: str) -> bool:
        if self._done:
            return True
        new = generated[self._seen :]
        start = max(0, self._seen - 16)
        self._seen = len(generated)
        if any(h in new for h in _CONTROL_HINTS) and _CONTROL_TOKENS.search(generated, start):
            self._done = True
            return True
        while (newline := generated.find("\n", self._line_start)) >= 0:
            line = generated[self._line_start : newline].rstrip("\r")
            self._line_start = newline + 1
            self.lines_scanned += 1
            if self._scanner.feed(line).stops:
                self._done = True
                return True
        partial = generated[self._line_start :]
        if not partial.strip():
            return False
        if self._probed_line != self._line_start:
            if len(partial.strip()) >= 3 or not partial.lstrip().startswith("`"):
                self._probed_line = self._line_start  # enough to know (a fence needs 3)
            if self._scanner.ends_before(partial):
                self._done = True
                return True
        if any(c in new for c in CLOSERS) and self._scanner.overcloses(partial):
            self._done = True
            return True
        return False


def finalize(generated: str, ctx: ShapeContext, *, grammars: Grammars | None = None) -> str:
    """The suggestion to show for ``generated`` (text from the cursor on); "" if none."""
    text = _cut_control_tokens(generated).replace("\r\n", "\n")
    around = _Surroundings(ctx)
    lines = _kept_lines(text, ctx, around)
    if not lines:
        return ""
    if around.line_suffix.strip():
        lines[-1] = _trim_line_overlap(lines[-1], around.line_suffix)
    if ctx.multiline and len(lines) > 1:
        lines = _complete_block(lines, ctx, around, grammars)
    result = "\n".join(lines)
    if not result.strip():
        return ""
    return result.replace("\n", around.eol) if around.eol != "\n" else result


# ---------------------------------------------------------------------------------------
# finalize's steps


def _kept_lines(text: str, ctx: ShapeContext, around: _Surroundings) -> list[str]:
    """The lines the scanner keeps, placed relative to the cursor, trailing blanks dropped."""
    scanner = _BlockScanner(ctx, around)
    kept: list[tuple[int, str]] = []
    for index, line in enumerate(text.split("\n")):
        decision = scanner.feed(line)
        if decision.action is _Action.SKIP:
            continue
        if decision.action is _Action.STOP_BEFORE:
            break
        kept.append((index, line if decision.cut is None else line[: decision.cut]))
        if decision.action is _Action.STOP_AFTER:
            break
    kept = [(index, scanner.effective(index, line) if index else line) for index, line in kept]
    right_of_cursor = bool(around.line_suffix.strip())
    lines = [line.rstrip() for _, line in kept]
    if kept and right_of_cursor:
        lines[-1] = kept[-1][1]  # trailing blanks before the text right of the cursor count
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return []
    if kept[0][0] > 0:  # the first kept line is not the cursor's line
        if around.line_prefix.strip():
            lines.insert(0, "")  # the suggestion starts with a newline
        else:
            lines[0] = _strip_indent(lines[0], around.line_prefix)
    return lines


def _strip_indent(line: str, indentation: str) -> str:
    """``line`` placed after the cursor, which already has ``indentation``."""
    return line[len(indentation) :] if line.startswith(indentation) else line.lstrip()


def _trim_line_overlap(line: str, right: str) -> str:
    """Drop the end of ``line`` that repeats the start of the text right of the cursor.

    Pieces made only of closing brackets are left to the bracket rule, which knows
    whether they are needed (``bar()`` before ``)`` keeps its ``)``).
    """
    right = right.rstrip()
    for k in range(len(right), 0, -1):
        piece = right[:k]
        if not piece.strip() or all(ch in CLOSERS or ch.isspace() for ch in piece):
            continue
        if line.endswith(piece):
            return line[: len(line) - k]
    return line


def _complete_block(
    lines: list[str], ctx: ShapeContext, around: _Surroundings, grammars: Grammars | None
) -> list[str]:
    """Close what the block leaves open and keep the lines that parse best.

    Candidates are the runs of the first k lines that end on a line with content which
    does not open a block (a last line ``for y in a:`` would leave an empty body).
    """
    candidates: list[list[str]] = []
    for k in range(1, len(lines) + 1):
        last = lines[k - 1] if k > 1 else around.line_prefix + lines[0]
        if not last.strip() or around.lexer.opens_block(last):
            continue
        candidate = _close_open_blocks(lines[:k], around)
        if candidate is not None:
            candidates.append(candidate)
    if not candidates:
        return lines
    if ctx.language is None:
        return candidates[-1]
    registry = grammars if grammars is not None else default_grammars()
    texts = ["\n".join(c) for c in candidates]
    best = most_parseable(registry, ctx.language, ctx.prefix, texts, ctx.suffix)
    return candidates[-1 if best is None else best]


def _close_open_blocks(lines: list[str], around: _Surroundings) -> list[str] | None:
    """``lines`` plus closing lines for the openers they leave open at line ends.

    None when an opener is left open in the middle of the last line (a cut-off expression).
    """
    balance = around.balance()
    state = around.cursor_state
    for index, line in enumerate(lines):
        scan = around.lexer.scan(line, state)
        state = Lexer.carry(scan.end_state)
        if balance.feed(scan.brackets, index) is not None:
            return lines
    if not balance.new_open:
        return lines
    closing: list[str] = []
    by_line: dict[int, list[str]] = {}
    for char, line_no, column in balance.new_open:
        code = around.lexer.code_part(lines[line_no]).rstrip()
        at_line_end = column >= len(code) - 1
        if not at_line_end:
            return None if line_no == len(lines) - 1 else lines
        by_line.setdefault(line_no, []).append(char)
    for line_no in sorted(by_line, reverse=True):
        effective = lines[line_no] if line_no else around.line_prefix + lines[0]
        indentation = effective[: len(effective) - len(effective.lstrip())]
        closers = "".join(CLOSER_OF[c] for c in reversed(by_line[line_no]))
        closing.append(indentation + closers)
    return lines + closing
