"""Write a function's body from its signature and docstring, checked against its examples.

A small model's single greedy answer is often wrong, but among a handful of other answers
one is often right. Candidates come from strategies taken in turn:

* ``ask`` puts the function to the model in its chat template and asks for the code (an
  instruct model's best mode; the answer's function becomes the body, see
  :mod:`llamapilot.completion.function_body`);
* ``continue`` lets the completion pipeline continue the file after the docstring (the
  editor's own path);
* ``tests`` asks in the shape of instruction-tuning sets: the function described in
  words, its docstring examples shown as asserts to pass;
* ``fork`` branches the greedy ``ask`` answer where the model hesitated most (the smallest
  gap between its best and second-best token inside the code), takes the second-best
  token and goes on greedily. A near miss is often one token away from a right answer, and
  a branch costs only its own new tokens (the shared start stays in the KV cache).

The first candidate of each strategy is greedy, later ``ask``/``continue``/``tests`` ones
are sampled. The docstring usually says how to tell a right one: ``>>> f(2)`` followed by
``4``, or ``f(2) == 4``, ``f(2) ➞ 4``, ``f(2) -> 4``, ``f(2) # returns 4``. Candidates are run
against those examples in the sandbox and the one passing most is kept; ties, and docstrings
without examples, go to the candidate the model was most confident about (the mean
log-probability of its tokens). Only the examples written in the docstring are used.
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llamapilot.chat.ask import ChatReply, ask, branch, branch_points, closed_fences, code_blocks
from llamapilot.completion.examples import (
    RESULT_MARK,
    Example,
    description,
    examples_program,
    parse_examples,
)
from llamapilot.completion.function_body import body_from_answer
from llamapilot.completion.imports import with_missing_imports
from llamapilot.completion.types import CompletionRequest, CompletionResult
from llamapilot.errors import InputError

if TYPE_CHECKING:
    from llamapilot.completion.service import CompletionService
    from llamapilot.engine.base import TopLogprob
    from llamapilot.evals.sandbox import Sandbox

FUNCTION_STOPS: tuple[str, ...] = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "```")
"""Where a function body ends (a new top-level statement, or the end of the code block)."""

_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)[ \t]*\(", re.M)


KNOWN_STRATEGIES: tuple[str, ...] = ("ask", "continue", "tests", "fork")
STRATEGIES: tuple[str, ...] = KNOWN_STRATEGIES
"""The default, all of them in this order: candidate ``i`` comes from
``STRATEGIES[i % len(STRATEGIES)]``."""
ASK_INSTRUCTION = "Complete the following Python function. Answer with the code only.\n\n"
ASK_CONTEXT_CHARS = 4000
"""Up to this much of the file goes into the question (more: its imports and the function)."""
TESTS_SHOWN = 3
"""How many docstring examples the ``tests`` question shows as asserts."""


@dataclass
class Candidate:
    text: str
    confidence: float
    strategy: str = "continue"
    passed: int = 0
    """Docstring examples this candidate passes."""
    runs: bool = False
    """The function defines (and its examples run) without a syntax error or crash."""
    error: str = ""
    result: CompletionResult | ChatReply | None = field(default=None, repr=False)


@dataclass
class WrittenFunction:
    """The chosen body and how it was chosen."""

    text: str
    name: str
    examples: list[Example]
    candidates: list[Candidate]
    chosen: int
    reason: str
    """``examples`` (passes the most examples), ``confidence`` (no examples told them
    apart), or ``only`` (a single candidate)."""

    @property
    def passes_examples(self) -> bool:
        c = self.candidates[self.chosen]
        return bool(self.examples) and c.passed == len(self.examples)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``llamapilot write --json`` and the native HTTP API."""
        return {
            "text": self.text,
            "name": self.name,
            "examples": [{"call": e.call, "expected": e.expected} for e in self.examples],
            "passes_examples": self.passes_examples,
            "chosen": self.chosen,
            "reason": self.reason,
            "candidates": [
                {
                    "text": c.text,
                    "strategy": c.strategy,
                    "confidence": round(c.confidence, 6),
                    "examples_passed": c.passed,
                    "runs": c.runs,
                    "error": c.error,
                }
                for c in self.candidates
            ],
        }


def _last_def(prefix: str) -> re.Match[str]:
    """The ``def`` line of the last function in ``prefix``."""
    matches = list(_DEF.finditer(prefix))
    if not matches:
        raise InputError("no function definition before the cursor", param="prefix")
    return matches[-1]


def function_at_end(prefix: str) -> tuple[str, str]:
    """The name and docstring of the last function defined in ``prefix``."""
    m = _last_def(prefix)
    rest = prefix[m.end() :]
    doc = ""
    q = re.search(r'("""|\'\'\')', rest)
    if q:
        end = rest.find(q.group(1), q.end())
        doc = rest[q.end() : end if end >= 0 else len(rest)]
    return m.group(1), doc


def score_candidate(
    sandbox: Sandbox, prefix: str, cand: Candidate, examples: list[Example], timeout: float
) -> None:
    """Fill in ``cand.passed`` / ``cand.runs`` by running it in the sandbox."""
    try:
        with warnings.catch_warnings():  # the model's odd code is not the user's concern
            warnings.simplefilter("ignore", SyntaxWarning)
            compile(prefix + cand.text, "<candidate>", "exec")
    except (SyntaxError, ValueError) as exc:
        cand.error = f"syntax: {exc}"
        return
    res = sandbox.run(examples_program(prefix, cand.text, examples), timeout=timeout)
    for line in res.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            flags = json.loads(line[len(RESULT_MARK) :])
            cand.passed, cand.runs = sum(flags), True
            return
    cand.error = (
        res.status if res.status == "timeout" else (res.stderr.strip()[-300:] or res.status)
    )


def question(prefix: str) -> str:
    """What ``ask`` asks: the file (or its imports and the last function) in a code block."""
    code = prefix
    if len(code) > ASK_CONTEXT_CHARS:
        imports = [
            ln for ln in prefix.split("\n") if ln.startswith(("import ", "from ")) and ln.strip()
        ]
        m = _last_def(prefix)
        start = prefix.rfind("\n", 0, m.start()) + 1
        code = "\n".join(imports) + "\n\n\n" + prefix[start:]
    return f"{ASK_INSTRUCTION}```python\n{code.rstrip()}\n```"


def signature(prefix: str) -> str:
    """``name(args) -> type`` of the last function in ``prefix``, on one line."""
    header = prefix[_last_def(prefix).start() :]
    end = re.search(r":[ \t]*(?:#[^\n]*)?\n", header)
    header = header[: end.start()] if end else header.split("\n", 1)[0]
    header = re.sub(r"\s+", " ", header).strip()
    return re.sub(r"^(?:async )?def ", "", header).replace("( ", "(").replace(" )", ")")


def question_with_tests(prefix: str) -> str:
    """What ``tests`` asks: the function described in words, with its docstring examples as
    asserts to pass (the shape of many instruction-tuning sets), and the file's imports."""
    name, doc = function_at_end(prefix)
    text = f"Write a Python function `{signature(prefix)}`. {description(doc, name)}".rstrip()
    examples = parse_examples(doc, name)[:TESTS_SHOWN]
    if examples:
        asserts = "\n".join(f"assert {e.call} == {e.expected}" for e in examples)
        text += f"\nYour code should pass these tests:\n\n```python\n{asserts}\n```"
    imports = [ln for ln in prefix.split("\n") if ln.startswith(("import ", "from "))]
    if imports:
        text += "\nYou may use:\n```python\n" + "\n".join(imports) + "\n```"
    return text


_MORE_CODE = ("def ", "async def ", "class ", "@", "import ", "from ", ")", "]", "}")


def answer_done(text: str, name: str) -> bool:
    """Whether a chat answer has given all the code it will: its code block closed, or,
    after ``def name``, a top-level line that starts something else (``print(...)``,
    ``# Example usage``, ``if __name__ ...``): the function is complete, the rest is not
    needed."""
    if closed_fences(text) >= 1:
        return True
    start = text.find("```")
    if start < 0:
        return False
    lines = text[start:].split("\n")[1:-1]  # the code so far, without the unfinished line
    seen = False
    for line in lines:
        if not seen:
            seen = bool(re.match(rf"(async\s+)?def\s+{re.escape(name)}\b", line))
        elif line.strip() and not line[0].isspace() and not line.startswith(_MORE_CODE):
            return True
    return False


def draft(
    service: CompletionService,
    prefix: str,
    name: str,
    strategy: str,
    *,
    temperature: float,
    top_p: float,
    seed: int | None,
    max_tokens: int,
    cancel: threading.Event | None = None,
) -> Candidate:
    """One candidate body by ``strategy`` (see the module docstring)."""
    if strategy in ("ask", "tests"):
        from llamapilot.chat.template import ChatMessage

        text = question(prefix) if strategy == "ask" else question_with_tests(prefix)
        reply = ask(
            service,
            [ChatMessage("user", text)],
            max_tokens=max_tokens,
            temperature=temperature,
            top_p=top_p,
            seed=seed,
            n_top=2 if temperature == 0 else 0,  # the runner-ups are where ``fork`` branches
            should_stop=lambda text: answer_done(text, name),
            cancel=cancel,
        )
        return _from_reply(reply, name, prefix, strategy)
    if strategy == "continue":
        request = CompletionRequest(
            prefix=prefix,
            language="python",
            multiline=True,
            max_tokens=max_tokens,
            max_lines=200,
            temperature=temperature,
            top_p=top_p,
            seed=seed,
            stop=list(FUNCTION_STOPS),
        )
        result = service.complete(request, cancel=cancel)
        return Candidate(result.text.rstrip(), result.confidence, "continue", result=result)
    check_strategies([strategy])
    raise InputError(  # fork: it branches an earlier answer, see write_function
        f"draft makes ask, continue and tests candidates, not {strategy}", param="strategies"
    )


def check_strategies(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as a tuple, or an :class:`InputError` naming the first unknown one."""
    if not names:
        raise InputError("at least one strategy is needed", param="strategies")
    for name in names:
        if name not in KNOWN_STRATEGIES:
            raise InputError(
                f"unknown strategy {name} (known: {', '.join(KNOWN_STRATEGIES)})",
                param="strategies",
            )
    return tuple(names)


def _from_reply(reply: ChatReply, name: str, prefix: str, strategy: str) -> Candidate:
    blocks = code_blocks(reply.text) or [reply.text]
    body = body_from_answer(max(blocks, key=len), name, prefix)
    return Candidate(body or "", reply.confidence, strategy, result=reply)


def _fork(
    service: CompletionService,
    made: list[Candidate],
    k: int,
    name: str,
    prefix: str,
    max_tokens: int,
    cancel: threading.Event | None,
) -> Candidate | None:
    """The ``k``-th branch of the greedy ``ask`` answer (None if there is none)."""
    base = next(
        (c.result for c in made if c.strategy == "ask" and isinstance(c.result, ChatReply)),
        None,
    )
    points = fork_points(base) if base is not None else []
    if base is None or k >= len(points):
        return None
    at, token = points[k]
    reply = branch(
        service,
        base,
        at,
        token,
        max_tokens=max_tokens,
        should_stop=lambda text: answer_done(text, name),
        cancel=cancel,
    )
    return _from_reply(reply, name, prefix, "fork")


def fork_points(reply: ChatReply) -> list[tuple[int, TopLogprob]]:
    """Where ``fork`` branches a greedy answer: inside its code, least sure token first."""
    start = reply.text.find("```")
    start = reply.text.find("\n", start) + 1 if start >= 0 else 0
    return [(at, token) for _, at, token in branch_points(reply, start)]


def write_function(
    service: CompletionService,
    prefix: str,
    *,
    candidates: int = 8,
    strategies: tuple[str, ...] = STRATEGIES,
    sandbox: Sandbox | None = None,
    temperature: float = 0.7,
    top_p: float = 0.95,
    max_tokens: int = 320,
    seed: int = 0,
    timeout: float = 5.0,
    stop_early: bool = True,
    on_candidate: Callable[[Candidate], None] | None = None,
    cancel: threading.Event | None = None,
) -> WrittenFunction:
    """Write the body of the function whose signature and docstring end ``prefix``.

    Candidate ``i`` comes from ``strategies[i % len(strategies)]``; each strategy's first
    candidate is greedy, later ones are sampled with ``temperature`` and seeds
    ``seed+1, seed+2, ...``; ``fork`` candidates take the greedy ``ask`` answer's branch
    points in order (a sampled ``ask`` answer when there is no branch left). With
    ``stop_early`` generation stops at the first candidate that passes every example.
    Missing standard-library imports are added to each candidate (see
    :mod:`llamapilot.completion.imports`). ``sandbox`` defaults to a new :class:`Sandbox`.
    Setting ``cancel`` stops drafting; the best candidate so far is returned (at least one
    is made).
    """
    if candidates < 1:
        raise InputError("candidates must be at least 1", param="candidates")
    strategies = check_strategies(strategies)
    if sandbox is None:
        from llamapilot.evals.sandbox import Sandbox

        sandbox = Sandbox(timeout=timeout)
    name, doc = function_at_end(prefix)
    examples = parse_examples(doc, name)
    made: list[Candidate] = []
    by_text: dict[str, Candidate] = {}
    forks = 0
    for i in range(candidates):
        if i and cancel is not None and cancel.is_set():
            break
        strategy = strategies[i % len(strategies)]
        greedy = i < len(strategies)
        cand = None
        if strategy == "fork":
            cand = _fork(service, made, forks, name, prefix, max_tokens, cancel)
            forks += 1
            if cand is None:  # nothing (left) to branch from: sample an answer
                strategy, greedy = "ask", False
        if cand is None:
            cand = draft(
                service,
                prefix,
                name,
                strategy,
                temperature=0.0 if greedy else temperature,
                top_p=1.0 if greedy else top_p,
                seed=None if greedy else seed + i,
                max_tokens=max_tokens,
                cancel=cancel,
            )
        cand.text = with_missing_imports(prefix, cand.text) if cand.text.strip() else ""
        prev = by_text.get(cand.text)
        if prev is not None:  # same code as before: same score, no need to run it again
            cand.passed, cand.runs, cand.error = prev.passed, prev.runs, prev.error
        elif not cand.text.strip():
            cand.error = "no code"
        else:
            score_candidate(sandbox, prefix, cand, examples, timeout)
            by_text[cand.text] = cand
        made.append(cand)
        if on_candidate is not None:
            on_candidate(cand)
        if stop_early and examples and cand.passed == len(examples):
            break
    best = max(
        range(len(made)),
        key=lambda j: (made[j].passed, made[j].runs, bool(made[j].text), made[j].confidence),
    )
    if len(made) == 1:
        reason = "only"
    elif made[best].passed > min(c.passed for c in made):
        reason = "examples"
    else:
        reason = "confidence"
    return WrittenFunction(made[best].text, name, examples, made, best, reason)
