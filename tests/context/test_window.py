"""Document windows: budgets, line boundaries, and a start that is stable while typing."""

from __future__ import annotations

from llamapilot.context.window import ANCHOR_LINES, make_window


def _doc(n: int) -> str:
    return "".join(f"line_{i:04d} = {i}\n" for i in range(n))


def test_small_documents_are_kept_whole() -> None:
    w = make_window("a = 1\nb = ", "2\nc = 3\n", prefix_chars=1000, suffix_chars=1000)
    assert (w.prefix, w.suffix) == ("a = 1\nb = ", "2\nc = 3\n")
    assert w.prefix_start_line == 0 and w.cursor_line == 1


def test_prefix_window_starts_at_a_line_and_fits_the_budget() -> None:
    text = _doc(500)
    w = make_window(text, "", prefix_chars=2000, suffix_chars=100)
    assert len(w.prefix) <= 2000
    assert w.prefix.startswith("line_")
    assert w.prefix_start_line % ANCHOR_LINES == 0
    assert text.split("\n")[w.prefix_start_line] == w.prefix.split("\n")[0]


def test_window_start_does_not_move_on_every_keystroke() -> None:
    text = _doc(500)
    starts = set()
    for extra in range(1, 8):  # the user types more lines
        prefix = text + "".join(f"new_{j} = {j}\n" for j in range(extra))
        starts.add(make_window(prefix, "", prefix_chars=2000, suffix_chars=0).prefix_start_line)
    assert len(starts) <= 2


def test_suffix_window_ends_at_a_line_end() -> None:
    w = make_window("x = ", "1\n" + _doc(100), prefix_chars=100, suffix_chars=60)
    assert w.suffix.startswith("1\n")
    assert len(w.suffix) <= 60
    assert all(line.startswith("line_") for line in w.suffix.split("\n")[1:])
