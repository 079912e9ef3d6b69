"""Asking the model in its own chat template, through the completion service.

Used where an instruction beats a continuation — e.g. writing a function from its
docstring, where a small instruct model answers far better when asked than when left to
continue the file. The conversation is rendered with the model's chat template and
generated on the service's backend, one request at a time like every completion.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llamapilot.completion.repetition import looping
from llamapilot.engine.base import GenerationParams, PromptStats, TokenEvent, TopLogprob
from llamapilot.errors import InputError

if TYPE_CHECKING:
    from llamapilot.chat.template import ChatMessage
    from llamapilot.completion.service import CompletionService

_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:```|\Z)", re.S)


@dataclass
class ChatReply:
    text: str
    tokens: list[TokenEvent]
    prompt: str
    stop_reason: str

    @property
    def confidence(self) -> float:
        """Geometric mean of the tokens' probabilities, 0..1 (0 for no tokens)."""
        if not self.tokens:
            return 0.0
        return math.exp(sum(t.logprob for t in self.tokens) / len(self.tokens))


def ask(
    service: CompletionService,
    messages: Sequence[ChatMessage],
    *,
    max_tokens: int = 256,
    temperature: float = 0.0,
    top_p: float = 1.0,
    seed: int | None = None,
    n_top: int = 0,
    should_stop: Callable[[str], bool] | None = None,
    cancel: threading.Event | None = None,
) -> ChatReply:
    """The assistant's answer to ``messages``. Generation also ends when the model loops
    (see :mod:`llamapilot.completion.repetition`; the loop is cut from the answer) or
    when ``should_stop(text so far)`` says so."""
    if max_tokens < 1:
        raise InputError("max_tokens must be at least 1", param="max_tokens")
    prompt = service.chat_template.render(messages)
    params = GenerationParams(
        max_tokens=max_tokens, temperature=temperature, top_p=top_p, seed=seed, n_top=n_top
    )
    return _answer(service, prompt, [], params, should_stop, cancel)


def branch(
    service: CompletionService,
    reply: ChatReply,
    at: int,
    token: TopLogprob,
    *,
    max_tokens: int = 256,
    n_top: int = 0,
    should_stop: Callable[[str], bool] | None = None,
    cancel: threading.Event | None = None,
) -> ChatReply:
    """The answer had the model taken ``token`` (one of the alternatives it reported)
    instead of ``reply.tokens[at]``, and gone on greedily. The shared start is not
    evaluated again (the backend reuses its cached state), so a branch costs only its
    own new tokens."""
    if not 0 <= at < len(reply.tokens) or token.id < 0:
        raise InputError(f"no branch at token {at} with token id {token.id}", param="at")
    head = [*reply.tokens[:at], TokenEvent(token.id, token.text, token.logprob)]
    params = GenerationParams(max_tokens=max(1, max_tokens - len(head)), n_top=n_top)
    return _answer(service, reply.prompt, head, params, should_stop, cancel)


def branch_points(reply: ChatReply, start: int = 0) -> list[tuple[float, int, TopLogprob]]:
    """Where a greedy answer was least sure, from character ``start`` on: ``(margin, index,
    runner-up)`` with the margin in log-probability between the chosen token and the
    runner-up, smallest first. Needs the reply's alternatives (``n_top`` of 2 or more);
    runner-ups that are control tokens are left out."""
    points: list[tuple[float, int, TopLogprob]] = []
    offset = 0
    for i, event in enumerate(reply.tokens):
        if offset >= start and len(event.top) >= 2:
            second = event.top[1]
            if second.id >= 0 and second.id != event.id and "<|" not in second.text:
                points.append((event.logprob - second.logprob, i, second))
        offset += len(event.text)
    points.sort(key=lambda p: (p[0], p[1]))
    return points


def _answer(
    service: CompletionService,
    prompt: str,
    head: list[TokenEvent],
    params: GenerationParams,
    should_stop: Callable[[str], bool] | None,
    cancel: threading.Event | None,
) -> ChatReply:
    """Generate the answer to a rendered ``prompt`` whose first tokens are ``head``."""
    template = service.chat_template
    add_bos = not (template.bos_token and prompt.startswith(template.bos_token))
    tokens = service.backend.tokenize(prompt, special=True, add_bos=add_bos)
    tokens += [e.id for e in head]
    head_text = "".join(e.text for e in head)

    def stop(text: str) -> bool:
        text = head_text + text
        return looping(text) >= 0 or (should_stop is not None and should_stop(text))

    params.stop_tokens = template.stop_strings
    stats = PromptStats()
    with service.lock:
        events = head + list(
            service.backend.generate(tokens, params, should_stop=stop, cancel=cancel, stats=stats)
        )
    text = "".join(e.text for e in events)
    loop = looping(text)
    if loop >= 0:
        text = text[:loop]
        kept, used = [], 0
        for e in events:
            if used + len(e.text) > loop:
                break
            kept.append(e)
            used += len(e.text)
        events = kept
    return ChatReply(text, events, prompt, stats.stop_reason)


def code_blocks(text: str) -> list[str]:
    """The contents of the fenced code blocks in ``text`` (an unclosed last one too)."""
    return _FENCE.findall(text)


def closed_fences(text: str) -> int:
    """How many fenced blocks ``text`` has closed (a stop rule for "answer in one block")."""
    return text.count("```") // 2
