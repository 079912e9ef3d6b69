"""Asking the model in its chat template through the completion service."""

from __future__ import annotations

from llamapilot.chat.ask import ask, closed_fences, code_blocks
from llamapilot.chat.template import ChatMessage


def test_code_blocks_and_fences() -> None:
    text = "Here:\n```python\nx = 1\n```\nand\n```\ny = 2\n"
    assert code_blocks(text) == ["x = 1\n", "y = 2\n"]
    assert closed_fences(text) == 1
    assert code_blocks("no code") == []


def test_ask_answers_in_the_chat_template_and_stops_when_told(service) -> None:  # noqa: ANN001
    question = "Write a Python function that returns the square of x, in one code block."
    reply = ask(
        service,
        [ChatMessage("user", question)],
        max_tokens=200,
        should_stop=lambda text: closed_fences(text) >= 1,
    )
    assert reply.prompt.startswith("<|im_start|>")
    assert question in reply.prompt and reply.prompt.endswith("<|im_start|>assistant\n")
    assert "".join(t.text for t in reply.tokens) == reply.text
    assert 0 < reply.confidence <= 1
    assert closed_fences(reply.text) == 1 and reply.text.rstrip().endswith("```")
    assert "def " in code_blocks(reply.text)[0]


def test_a_branch_keeps_the_start_and_takes_the_runner_up(service) -> None:  # noqa: ANN001
    import pytest

    from llamapilot.chat.ask import branch, branch_points
    from llamapilot.errors import InputError

    question = "Write a Python function that reverses a string, in one code block."
    reply = ask(service, [ChatMessage("user", question)], max_tokens=80, n_top=2)
    points = branch_points(reply)
    assert points, "a greedy answer of 80 tokens has places where the model hesitated"
    margins = [m for m, _, _ in points]
    assert margins == sorted(margins) and margins[0] >= 0  # greedy took the best token
    _, at, runner_up = points[0]
    assert runner_up.id != reply.tokens[at].id

    other = branch(service, reply, at, runner_up, max_tokens=80)
    assert [t.id for t in other.tokens[:at]] == [t.id for t in reply.tokens[:at]]
    assert other.tokens[at].id == runner_up.id
    assert other.text.startswith("".join(t.text for t in reply.tokens[:at]) + runner_up.text)
    assert other.prompt == reply.prompt
    with pytest.raises(InputError):
        branch(service, reply, len(reply.tokens), runner_up)
