"""LSP positions (UTF-16 by default) against Python's code points."""

from __future__ import annotations

import pytest

from llamapilot.errors import InputError
from llamapilot.lsp.positions import (
    code_points_to_units,
    offset_to_position,
    position_to_offset,
    units_to_code_points,
)

LINE = 'x = "😀é" + y'  # the emoji is 2 UTF-16 units and 4 UTF-8 bytes; é 1 and 2


@pytest.mark.parametrize(
    ("encoding", "units", "column"),
    [
        ("utf-16", 5, 5),  # before the emoji
        ("utf-16", 7, 6),  # after the emoji
        ("utf-16", 8, 7),  # after é
        ("utf-8", 9, 6),
        ("utf-8", 11, 7),
        ("utf-32", 6, 6),
    ],
)
def test_units_and_code_points_round_trip(encoding: str, units: int, column: int) -> None:
    assert units_to_code_points(LINE, units, encoding) == column
    assert code_points_to_units(LINE, column, encoding) == units


def test_inside_a_surrogate_pair_snaps_to_the_character_start() -> None:
    assert units_to_code_points(LINE, 6, "utf-16") == 5


def test_past_the_end_of_a_line_means_its_end() -> None:
    assert units_to_code_points(LINE, 999) == len(LINE)
    text = "ab\r\ncd"
    assert position_to_offset(text, 0, 99) == 2  # before the \r
    assert position_to_offset(text, 7, 0) == len(text)


def test_document_offsets() -> None:
    text = "first\n😀 second\nthird"
    offset = position_to_offset(text, 1, 3)  # after "😀 "
    assert text[offset:].startswith("second")
    assert offset_to_position(text, offset) == (1, 3)
    assert offset_to_position(text, len(text)) == (2, 5)


def test_negative_positions_are_input_errors() -> None:
    with pytest.raises(InputError):
        units_to_code_points("abc", -1)
    with pytest.raises(InputError):
        position_to_offset("abc", -1, 0)
