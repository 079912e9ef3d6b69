"""Post-processing: turn what the model generated at the cursor into a usable suggestion.

Three entry points share one line-by-line scanner
(:class:`~llamapilot.completion.blockscan.BlockScanner`), so the stream stops where
:func:`finalize` would cut anyway:

* :func:`decide_multiline` — one line or a block, from the text around the cursor;
* :class:`StopDetector` — called after every token; True once the suggestion is complete;
* :func:`finalize` — the text shown.

The rules, in the order they apply:

1. chat/FIM control tokens (``<|im_end|>``, ``<file_sep>``, ...) end the text;
2. before the first line of code: blank lines, markdown fences and chatty openers ("Here
   is the code:") are skipped (code after a fence is re-indented to the cursor); a first
   line equal to the line after the cursor ends everything (the user already has it);
3. single-line mode keeps the first line of code — when the cursor ends a complete line,
   that is the next line, shown with its leading newline;
4. the block the suggestion starts is bounded by indentation: it ends at a line indented
   less than its first line (or not deeper than the line that opened the block, or, when
   the suggestion continues the cursor's line, not deeper than that line); a dedented
   closing line (``}``, ``});``, ``} else {``) is kept when the brackets need it; after a
   blank line, a new top-level statement or a sibling of a suggested definition ends it;
5. filling a gap in the middle of code: when the line after the cursor lies outside the
   block, up to ``REJOIN_LINES`` more lines are kept on trial and stay only if they lead
   to that line; an ``else:`` whose body is the text after the cursor is kept; when the
   line after the cursor is deeper than the suggestion, the suggestion must open its
   block, may dedent to the enclosing level, and ends at the last line that can do so
   unless it reaches that line;
6. also ending it: the line after the cursor repeated (same indentation), the same line
   twice in a row, a fence, an explanation in prose, ``max_lines``;
7. brackets: a closer that would close something the text after the cursor already
   closes (``foo(|)`` + ``a, b)``), or that does not match its opener, cuts the suggestion
   right there;
8. what still duplicates the text right of the cursor on its line is trimmed;
9. multi-line: a last line opening an empty block is dropped, openers left open at line
   ends get their closing lines (unless the text after the cursor closes them), a last
   line cut off inside brackets is dropped, and with a tree-sitter grammar (when the text
   around the cursor parses) the longest run of lines without new syntax errors is kept;
10. trailing whitespace and blank lines go; nothing but whitespace gives "".
"""

from __future__ import annotations

from dataclasses import dataclass

from llamapilot.completion.blockscan import (
    CONTROL_HINTS,
    CONTROL_TOKENS,
    MAX_LEXED_CHARS,
    Action,
    BlockScanner,
    Surroundings,
    cut_control_tokens,
)
from llamapilot.completion.brackets import (
    CLOSER_OF,
    CLOSERS,
    BracketBalance,
    Lexer,
    Opener,
    closed_by_suffix,
    indent_width,
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
# Public API


def decide_multiline(prefix: str, suffix: str, language: str | None) -> bool:
    """Whether to ask for a block (True) or a single line (False) at this cursor.

    Single line: text right of the cursor, the cursor inside a string or comment, or
    mid-line. A block: at the end of a line that opens one (``def f():``, ``{``), or on an
    empty line after such a line or a decorator, or after a comment or docstring where
    the enclosing block ends.
    """
    around = Surroundings(ShapeContext(prefix, suffix, language, multiline=True))
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
        return following is None or indent_width(following) < indent_width(previous)
    return False


_PROBED_CHARS = 12
"""How much of a line's text the detector looks at before the line is complete."""


class StopDetector:
    """Says when generation can stop: the suggestion :func:`finalize` would show is done.

    Called after every token with all the text generated so far (which only grows). Work
    is done when a line completes; otherwise only the new characters are looked at.
    """

    def __init__(self, ctx: ShapeContext) -> None:
        self._scanner = BlockScanner(ctx, Surroundings(ctx))
        self._line_start = 0
        self._seen = 0
        self._done = False
        self.lines_scanned = 0
        """Complete lines handed to the scanner (for tests and diagnostics)."""

    def __call__(self, generated: str) -> bool:
        if self._done:
            return True
        new = generated[self._seen :]
        start = max(0, self._seen - 16)
        self._seen = len(generated)
        if any(h in new for h in CONTROL_HINTS) and CONTROL_TOKENS.search(generated, start):
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
        # the start of a line (indentation, first word) can already end the suggestion
        near_start = len(partial) - len(partial.lstrip()) + _PROBED_CHARS >= len(partial)
        if near_start and self._scanner.ends_before(partial):
            self._done = True
            return True
        if any(c in new for c in CLOSERS) and self._scanner.overcloses(partial):
            self._done = True
            return True
        return False


def finalize(generated: str, ctx: ShapeContext, *, grammars: Grammars | None = None) -> str:
    """The suggestion to show for ``generated`` (text from the cursor on); "" if none."""
    text = cut_control_tokens(generated).replace("\r\n", "\n")
    around = Surroundings(ctx)
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


def _kept_lines(text: str, ctx: ShapeContext, around: Surroundings) -> list[str]:
    """The lines the scanner keeps, placed relative to the cursor, trailing blanks dropped."""
    scanner = BlockScanner(ctx, around)
    kept: list[tuple[int, str]] = []
    for index, line in enumerate(text.split("\n")):
        decision = scanner.feed(line)
        if decision.rollback is not None:
            kept = [(i, text) for i, text in kept if i < decision.rollback]
        if decision.action is Action.SKIP:
            continue
        if decision.action is Action.STOP_BEFORE:
            break
        kept.append((index, line if decision.cut is None else line[: decision.cut]))
        if decision.action is Action.STOP_AFTER:
            break
    else:
        end = scanner.unfinished()  # the text ended before reaching what follows the cursor
        if end is not None:
            kept = [(i, text) for i, text in kept if i < end]
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
    lines: list[str], ctx: ShapeContext, around: Surroundings, grammars: Grammars | None
) -> list[str]:
    """Close what the block leaves open and keep the lines that parse best.

    Candidates are the runs of the first k lines that end on a line with content which
    does not open a block (a last line ``for y in a:`` would leave an empty body) unless
    the text after the cursor is that block's body.
    """
    following = around.next_code_line
    candidates: list[list[str]] = []
    for k in range(1, len(lines) + 1):
        last = lines[k - 1] if k > 1 else around.line_prefix + lines[0]
        if not last.strip():
            continue
        has_body = following is not None and indent_width(following) > indent_width(last)
        if around.lexer.opens_block(last) and not has_body:
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


def _close_open_blocks(lines: list[str], around: Surroundings) -> list[str] | None:
    """``lines`` plus closing lines for the openers they leave open at line ends.

    Openers that the text after the cursor closes (the suggestion opened ``if (x) {`` and
    the body follows the cursor) stay open. None when an opener is left open in the middle
    of the last line (a cut-off expression).
    """
    balance = around.balance()
    state = around.cursor_state
    for index, line in enumerate(lines):
        scan = around.lexer.scan(line, state)
        state = Lexer.carry(scan.end_state)
        if balance.feed(scan.brackets, index) is not None:
            return lines
    unclosed = _left_open(lines, balance, around)
    if not unclosed:
        return lines
    by_line: dict[int, list[str]] = {}
    for char, line_no, column in unclosed:
        code = around.lexer.code_part(lines[line_no]).rstrip()
        if column < len(code) - 1:  # not at the end of its line
            return None if line_no == len(lines) - 1 else lines
        by_line.setdefault(line_no, []).append(char)
    closing: list[str] = []
    for line_no in sorted(by_line, reverse=True):
        effective = lines[line_no] if line_no else around.line_prefix + lines[0]
        indentation = effective[: len(effective) - len(effective.lstrip())]
        closers = "".join(CLOSER_OF[c] for c in reversed(by_line[line_no]))
        closing.append(indentation + closers)
    return lines + closing


def _left_open(
    lines: list[str], balance: BracketBalance, around: Surroundings
) -> list[tuple[str, int, int]]:
    """The suggestion's openers that nothing after the cursor closes."""
    if not balance.new_open:
        return []
    remaining = around.open_before[: len(around.open_before) - balance.closed_before]
    opened = []
    for char, line_no, _ in balance.new_open:
        effective = lines[line_no] if line_no else around.line_prefix + lines[0]
        opened.append(Opener(char, indent_width(effective)))
    suffix = around.ctx.suffix[:MAX_LEXED_CHARS]
    state = around.lexer.scan("\n".join(lines), around.cursor_state).end_state
    brackets = around.lexer.scan(suffix, state).brackets
    closed = closed_by_suffix(remaining + opened, suffix, brackets, None)
    count = len(opened)
    return [o for i, o in enumerate(balance.new_open) if count - 1 - i not in closed]
