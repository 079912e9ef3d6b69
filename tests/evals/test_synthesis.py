"""Writing a function from its docstring: examples parsed, candidates ranked by them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from llamapilot.completion.examples import Example, parse_examples
from llamapilot.completion.synthesis import function_at_end, write_function
from llamapilot.completion.types import CompletionResult, Timings
from llamapilot.engine.base import ModelInfo, TokenEvent
from llamapilot.evals.sandbox import Sandbox

CONTINUE = ("continue",)
"""The scripted stand-in only continues files; the ``ask`` strategy is tested on the model."""

PREFIX = '''def add_one(xs: list) -> list:
    """Add one to every number.
    >>> add_one([1, 2])
    [2, 3]
    add_one([]) == []
    add_one([0]) ➞ [1]
    """
'''


def test_examples_in_every_common_style() -> None:
    doc = """
    >>> f(1, 2)
    3
    >>> f(
    f(2, 2) == 4
    f("a", 'b') ➞ "ab"
    f(0, 0) -> 0
    f(5, 5) ==> 10
    f(1, 1)   # returns 2
    f(3, 3) should return 6.
    f(x, y) == f(y, x)
    For a = 7 the output should be 8.
    is_x(1) == true
    """
    got = parse_examples(doc, "f")
    assert got == [
        Example("f(1, 2)", "3"),
        Example("f(2, 2)", "4"),
        Example("f(\"a\", 'b')", '"ab"'),
        Example("f(0, 0)", "0"),
        Example("f(5, 5)", "10"),
        Example("f(1, 1)", "2"),
        Example("f(3, 3)", "6"),
        Example("f(7)", "8"),
    ]
    assert parse_examples("is_x(1) == true", "is_x") == [Example("is_x(1)", "True")]


def test_function_at_end_finds_the_last_definition() -> None:
    name, doc = function_at_end("import os\n\ndef helper():\n    pass\n\n" + PREFIX)
    assert name == "add_one"
    assert "add_one([0])" in doc


@dataclass
class ScriptedService:
    """Returns the given bodies in order, with the given confidences (a stand-in for the
    model, so the ranking is checked exactly)."""

    bodies: list[tuple[str, float]]
    calls: list = field(default_factory=list)

    def complete(self, request, cancel=None):  # noqa: ANN001, ANN201
        self.calls.append(request)
        text, conf = self.bodies[len(self.calls) - 1]
        import math

        tok = TokenEvent(0, text, math.log(conf))
        return CompletionResult(text, [tok], "", [], ModelInfo("m", "", "", 0), Timings())


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(timeout=5)


def test_keeps_the_candidate_that_passes_the_examples(sandbox: Sandbox) -> None:
    svc = ScriptedService(
        [
            ("    return xs", 0.9),  # the confident greedy answer is wrong
            ("    return [x + 2 for x in xs]", 0.8),
            ("    return [x + 1 for x in xs]", 0.3),  # right, though less confident
            ("    return []", 0.95),
        ]
    )
    w = write_function(svc, PREFIX, candidates=4, strategies=CONTINUE, sandbox=sandbox)  # type: ignore[arg-type]
    assert w.text == "    return [x + 1 for x in xs]"
    assert w.passes_examples and w.reason == "examples"
    assert len(svc.calls) == 3  # stopped at the first candidate passing every example
    assert svc.calls[0].temperature == 0.0 and svc.calls[1].temperature > 0
    assert svc.calls[1].seed != svc.calls[2].seed


def test_without_examples_the_most_confident_runnable_candidate_wins(sandbox: Sandbox) -> None:
    prefix = 'def answer():\n    """The answer."""\n'
    svc = ScriptedService([("    return (", 0.99), ("    return 41", 0.5), ("    return 42", 0.7)])
    w = write_function(svc, prefix, candidates=3, strategies=CONTINUE, sandbox=sandbox)  # type: ignore[arg-type]
    assert w.text == "    return 42"
    assert w.reason == "confidence" and not w.examples


def test_hostile_candidates_are_contained(sandbox: Sandbox) -> None:
    svc = ScriptedService(
        [
            ("    while True:\n        pass", 0.9),
            ("    import os\n    os.system('rm -rf /')\n    return xs", 0.9),
            ("    return [x + 1 for x in xs]", 0.1),
        ]
    )
    w = write_function(svc, PREFIX, candidates=3, strategies=CONTINUE, sandbox=sandbox, timeout=2)  # type: ignore[arg-type]
    assert w.chosen == 2
    assert w.candidates[0].error == "timeout"


@pytest.mark.slow
def test_real_model_writes_a_function_that_passes_its_examples(service) -> None:  # noqa: ANN001
    prefix = (
        "def add(a: int, b: int) -> int:\n"
        '    """Return the sum of a and b.\n'
        "    >>> add(2, 3)\n    5\n"
        "    >>> add(-1, 1)\n    0\n"
        '    """\n'
    )
    w = write_function(service, prefix, candidates=4, max_tokens=64)
    assert w.passes_examples, [c.text for c in w.candidates]
    assert w.candidates[w.chosen].result is not None
    assert [c.strategy for c in w.candidates][:2] == ["ask", "continue"][: len(w.candidates)]


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["ask", "continue", "tests"])
def test_each_strategy_gives_a_body_that_runs_after_the_docstring(service, strategy) -> None:  # noqa: ANN001
    prefix = (
        "def is_even(n: int) -> bool:\n"
        '    """Whether n is even.\n'
        "    >>> is_even(4)\n    True\n"
        "    >>> is_even(7)\n    False\n"
        '    """\n'
    )
    w = write_function(service, prefix, candidates=3, strategies=(strategy,), max_tokens=96)
    chosen = w.candidates[w.chosen]
    assert chosen.strategy == strategy
    assert w.passes_examples, [c.text for c in w.candidates]
    namespace: dict = {}
    exec(compile(prefix + w.text + "\n", "<written>", "exec"), namespace)
    assert namespace["is_even"](10) is True and namespace["is_even"](3) is False


def test_a_chat_answer_is_done_when_the_function_is() -> None:
    from llamapilot.completion.synthesis import answer_done

    head = "Here it is:\n```python\nimport math\n\nLIMIT = 3\n\ndef f(x):\n    return x\n\n"
    assert not answer_done(head, "f")
    assert not answer_done(head + "def helper(y):\n    return y\n", "f")
    assert answer_done(head + "# Example usage\n", "f")
    assert answer_done(head + "print(f(2))\n", "f")
    assert not answer_done(head + "print(f(2", "f")  # that line is not finished yet
    assert answer_done(head.rstrip() + "\n```", "f")
    assert not answer_done("Sure.\n```python\nx = 1\nprint(x)\n", "f")  # no f yet


def test_examples_in_input_output_and_prose_styles() -> None:
    doc = """
    >>> f([1, 2]) == 3
    f(abc) => False
    f(7) # => 'Yes'
    f(2) = 4
    Example 1:
        Input: arr = [-3, -4, 5], k = 3
        Output: [-4, -3, 5]
    Example 2:
        Input: [4,2,3]
        Explanation: none
        Output: 24 # the sum
    For s = "abcde", c = "ae", the result should be ('bcd',False)
    For N = 1000, the sum of digits will be 1 the output should be "1".
    f(n) = 1 + n / 2, if n is even.
    """
    assert parse_examples(doc, "f") == [
        Example("f([1, 2])", "3"),
        Example("f('abc')", "False"),
        Example("f(7)", "'Yes'"),
        Example("f(2)", "4"),
        Example("f([-3, -4, 5], 3)", "[-4, -3, 5]"),
        Example("f([4,2,3])", "24"),
        Example('f("abcde", "ae")', "('bcd',False)"),
        Example("f(1000)", '"1"'),
    ]


def test_the_tests_question_describes_the_function_and_shows_its_examples() -> None:
    from llamapilot.completion.examples import description
    from llamapilot.completion.synthesis import question_with_tests, signature

    prefix = "from typing import List\nimport math\n\n\ndef helper():\n    pass\n\n\n" + PREFIX
    assert signature(prefix) == "add_one(xs: list) -> list"
    assert signature("def f(\n    a: int,\n    b: str = ':',\n) -> None:  # note\n") == (
        "f(a: int, b: str = ':',) -> None"
    )
    doc = function_at_end(prefix)[1]
    assert description(doc, "add_one") == "Add one to every number."
    assert description("Sum.\n\n    For example:\n    f(1) == 1", "f") == "Sum."
    q = question_with_tests(prefix)
    assert q.startswith("Write a Python function `add_one(xs: list) -> list`. Add one to every")
    assert "assert add_one([1, 2]) == [2, 3]\nassert add_one([]) == []\n" in q
    assert "from typing import List\nimport math" in q
    assert "helper" not in q


@pytest.mark.slow
def test_fork_branches_the_greedy_answer_where_the_model_hesitated(service) -> None:  # noqa: ANN001
    prefix = (
        "def count_words(text: str) -> int:\n"
        '    """Count the words in text, separated by spaces.\n'
        '    >>> count_words("a bb  ccc")\n    3\n'
        '    """\n'
    )
    w = write_function(
        service, prefix, candidates=4, strategies=("ask", "fork"), stop_early=False, max_tokens=96
    )
    assert [c.strategy for c in w.candidates] == ["ask", "fork", "ask", "fork"]
    base = w.candidates[0].result
    forks = [w.candidates[1], w.candidates[3]]
    for fork in forks:
        tokens = fork.result.tokens  # type: ignore[union-attr]
        shared = 0
        while tokens[shared].id == base.tokens[shared].id:  # type: ignore[union-attr]
            shared += 1
        assert 0 < shared < len(base.tokens)  # type: ignore[union-attr]
    assert forks[0].result.text != forks[1].result.text  # type: ignore[union-attr]
