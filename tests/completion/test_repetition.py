"""The loop guard: what a user would call a stuck model, and what they would not."""

from __future__ import annotations

import pytest

from llamapilot.completion.repetition import looping


def test_counting_loop_within_a_line_drops_the_line() -> None:
    text = "    return " + " and ".join(f"len(set(xs)) == {i}" for i in range(1, 30))
    assert looping(text) == 0


def test_repeated_lines_keep_the_first_copy() -> None:
    head = "x = 0\ny = 1\n"
    text = head + "return x + y\n" * 6
    assert text[: looping(text)] == head + "return x + y\n"


def test_counting_block_keeps_the_first_case() -> None:
    head = "def f(x):\n"
    text = head + "".join(f"    if x == {k}:\n        return {k}\n" for k in range(1, 12))
    assert text[: looping(text)] == head + "    if x == 1:\n        return 1\n"


@pytest.mark.parametrize(
    "text",
    [
        "# " + "-" * 70,
        " " * 120,
        "table = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0",
        # legitimately unrolled code: a few numbered copies are not a loop
        "".join(f"a[{k}] = b[{k}]\n" for k in range(5)),
        "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
        "x = 1\n" * 3,
    ],
)
def test_ordinary_code_is_not_a_loop(text: str) -> None:
    assert looping(text) == -1


def test_service_stops_a_looping_model(service) -> None:
    """The embedded model loops on this HumanEval prompt when greedy; the suggestion keeps
    none of the loop and stops long before max_tokens."""
    from llamapilot.completion.types import CompletionRequest

    prompt = (
        "from typing import List\n\n\n"
        "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
        '    """ Check if in given list of numbers, are any two numbers closer to each other '
        "than\n    given threshold.\n"
        "    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)\n    False\n"
        "    >>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)\n    True\n"
        '    """\n'
    )
    r = service.complete(
        CompletionRequest(prefix=prompt, language="python", multiline=True, max_tokens=384)
    )
    assert r.n_predicted < 200
    assert looping(r.text) == -1
