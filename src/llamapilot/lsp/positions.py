"""LSP positions ↔ code-point offsets.

An LSP ``character`` counts code units of the negotiated position encoding: UTF-16 unless
client and server agreed on another (``utf-8`` or ``utf-32``). Python strings index code
points, so a character outside the Basic Multilingual Plane (an emoji) is one code point
but two UTF-16 units and four UTF-8 bytes.
"""

from __future__ import annotations

from llamapilot.errors import InputError

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"
ENCODINGS = (UTF8, UTF16, UTF32)


def _units(ch: str, encoding: str) -> int:
    cp = ord(ch)
    if encoding == UTF16:
        return 2 if cp > 0xFFFF else 1
    if encoding == UTF8:
        return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4
    return 1


def check_encoding(encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise InputError(f"unknown position encoding {encoding!r}", param="positionEncoding")
    return encoding


def units_to_code_points(line: str, character: int, encoding: str = UTF16) -> int:
    """The code-point column of ``character`` code units into ``line``.

    A position past the end of the line means the end of the line (as the LSP
    specification says); one inside a surrogate pair or a UTF-8 sequence snaps back to
    the start of that character.
    """
    if character < 0:
        raise InputError(f"negative character offset {character}", param="character")
    if encoding == UTF32:
        return min(character, len(line))
    used = 0
    for i, ch in enumerate(line):
        step = _units(ch, encoding)
        if used + step > character:
            return i
        used += step
    return len(line)


def code_points_to_units(line: str, column: int, encoding: str = UTF16) -> int:
    """How many code units of ``encoding`` the first ``column`` code points of ``line`` take."""
    column = max(0, min(column, len(line)))
    if encoding == UTF32:
        return column
    return sum(_units(ch, encoding) for ch in line[:column])


def line_starts(text: str) -> list[int]:
    """Offsets at which each line of ``text`` starts (lines end at ``\\n``)."""
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def line_text(text: str, starts: list[int], line: int) -> str:
    """The text of ``line`` without its line ending (``\\r`` of ``\\r\\n`` stripped too)."""
    end = starts[line + 1] - 1 if line + 1 < len(starts) else len(text)
    return text[starts[line] : end].rstrip("\r")


def position_to_offset(
    text: str, line: int, character: int, encoding: str = UTF16, starts: list[int] | None = None
) -> int:
    """The code-point offset into ``text`` of an LSP position.

    A line past the end of the document means the end of the document.
    """
    if line < 0:
        raise InputError(f"negative line {line}", param="line")
    starts = starts if starts is not None else line_starts(text)
    if line >= len(starts):
        return len(text)
    return starts[line] + units_to_code_points(line_text(text, starts, line), character, encoding)


def offset_to_position(
    text: str, offset: int, encoding: str = UTF16, starts: list[int] | None = None
) -> tuple[int, int]:
    """The LSP ``(line, character)`` of a code-point offset into ``text``."""
    import bisect

    starts = starts if starts is not None else line_starts(text)
    offset = max(0, min(offset, len(text)))
    line = bisect.bisect_right(starts, offset) - 1
    column = offset - starts[line]
    return line, code_points_to_units(line_text(text, starts, line), column, encoding)
