"""A chat answer's function turned into the body under the user's own docstring."""

from __future__ import annotations

from llamapilot.completion.function_body import body_from_answer

PREFIX = '''from typing import List


def shift(xs: List[int], k: int) -> List[int]:
    """Add k to each number.
    >>> shift([1], 2)
    [3]
    """
'''


def run(body: str) -> object:
    namespace: dict = {}
    exec(compile(PREFIX + body + "\n", "<body>", "exec"), namespace)
    return namespace["shift"]


def test_plain_answer_becomes_the_body() -> None:
    answer = "def shift(xs: List[int], k: int) -> List[int]:\n    return [x + k for x in xs]\n"
    assert body_from_answer(answer, "shift", PREFIX) == "    return [x + k for x in xs]"


def test_its_own_docstring_and_test_code_are_left_out() -> None:
    answer = (
        "def shift(xs, k):\n"
        '    """Shift them."""\n'
        "    return [x + k for x in xs]\n\n"
        "print(shift([1, 2], 3))\n"
        "assert shift([1], 2) == [3]\n"
        "if __name__ == '__main__':\n    print('hi')\n"
    )
    assert body_from_answer(answer, "shift", PREFIX) == "    return [x + k for x in xs]"


def test_helpers_imports_and_constants_move_inside() -> None:
    answer = (
        "import math\n"
        "from typing import List\n\n"
        "BASE = 0\n\n"
        "def add(a, b):\n    return a + b + BASE\n\n\n"
        "def shift(xs, k):\n    return [add(x, k) + 0 * math.floor(0.5) for x in xs]\n"
    )
    body = body_from_answer(answer, "shift", PREFIX)
    assert body is not None
    assert "from typing import List" not in body  # the file has it already
    assert body.startswith("    import math\n")
    assert run(body)([1, 2], 3) == [4, 5]


def test_renamed_parameters_are_bound_to_the_users() -> None:
    answer = "def shift(numbers, amount):\n    return [n + amount for n in numbers]\n"
    body = body_from_answer(answer, "shift", PREFIX)
    assert body is not None and "numbers = xs" in body
    assert run(body)([1], 2) == [3]


def test_multiline_strings_keep_their_text() -> None:
    answer = (
        'def shift(xs, k):\n    s = """a\nb"""\n\n    return [x + k + len(s) - 3 for x in xs]\n'
    )
    body = body_from_answer(answer, "shift", PREFIX)
    assert body is not None and '    s = """a\nb"""' in body
    assert run(body)([1], 2) == [3]


def test_an_answer_cut_off_mid_statement_loses_its_broken_end() -> None:
    answer = "def shift(xs, k):\n    out = [x + k for x in xs]\n    return out\n\nprint(shift("
    assert body_from_answer(answer, "shift", PREFIX) == (
        "    out = [x + k for x in xs]\n    return out"
    )


def test_answers_without_the_function_give_nothing() -> None:
    assert body_from_answer("def other(xs):\n    return xs\n", "shift", PREFIX) is None
    assert body_from_answer("Sure! Here is the code.", "shift", PREFIX) is None
    assert (
        body_from_answer('def shift(xs, k):\n    """Only a docstring."""\n', "shift", PREFIX)
        is None
    )


def test_sample_inputs_named_like_the_arguments_stay_out() -> None:
    answer = "xs = [5, 6]\nTABLE = {1: 2}\n\ndef shift(xs, k):\n    return [x + k for x in xs]\n"
    body = body_from_answer(answer, "shift", PREFIX)
    assert body is not None and "[5, 6]" not in body and "TABLE = {1: 2}" in body
    assert run(body)([1], 2) == [3]
