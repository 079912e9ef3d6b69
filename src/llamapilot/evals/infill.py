"""HumanEval infilling: single-line and multi-line holes made from the canonical solutions by
masking a line or a block of lines (as InCoder and the FIM paper did); pass@1 (the filled
program passes the task's tests, run in the sandbox) and exact match."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llamapilot.evals.humaneval import Task, load_tasks, program
from llamapilot.evals.metrics import exact_match
from llamapilot.evals.sandbox import Sandbox
from llamapilot.evals.store import RunStore, progress

if TYPE_CHECKING:
    from llamapilot.evals.backends import EvalBackend

BENCH = "infill"


@dataclass(frozen=True)
class InfillTask:
    task_id: str
    kind: str  # "single-line" or "multi-line"
    task: Task
    prefix: str
    """The prompt and the solution's lines before the hole (ends with a newline)."""
    middle: str
    """The masked lines (each with its newline)."""
    suffix: str


def make_tasks(tasks: list[Task], kind: str) -> list[InfillTask]:
    """Every non-blank line (single-line) or every span of 2+ lines starting and ending on a
    non-blank line (multi-line) of each canonical solution."""
    out: list[InfillTask] = []
    for t in tasks:
        lines = t.canonical_solution.splitlines(keepends=True)
        code = [i for i, line in enumerate(lines) if line.strip()]
        spans = (
            [(i, i + 1) for i in code]
            if kind == "single-line"
            else [(i, j + 1) for i in code for j in code if j > i]
        )
        for a, b in spans:
            out.append(
                InfillTask(
                    f"{t.task_id}/{kind}/{a}-{b}",
                    kind,
                    t,
                    t.prompt + "".join(lines[:a]),
                    "".join(lines[a:b]),
                    "".join(lines[b:]),
                )
            )
    return out


def sample_tasks(kind: str, limit: int | None, seed: int = 0) -> list[InfillTask]:
    """All tasks of a kind, or a seeded sample of ``limit`` of them (spread over problems)."""
    all_tasks = make_tasks(load_tasks(), kind)
    if not limit or limit >= len(all_tasks):
        return all_tasks
    picked = random.Random(seed).sample(range(len(all_tasks)), limit)
    return [all_tasks[i] for i in sorted(picked)]


def fit(generated: str, it: InfillTask) -> str:
    """The generated middle as whole lines: one line for single-line holes."""
    if it.kind == "single-line":
        text = generated.split("\n", 1)[0]
        indent = it.middle[: len(it.middle) - len(it.middle.lstrip())]
        if not text.startswith((" ", "\t")):  # a model that skips the indentation
            text = indent + text
        return text + "\n"
    return generated if generated.endswith("\n") else generated + "\n"


def run(
    backend: EvalBackend,
    store: RunStore,
    *,
    kinds: tuple[str, ...] = ("single-line", "multi-line"),
    limit: int | None = 50,
    seed: int = 0,
    sandbox: Sandbox | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """``limit`` holes of each kind (None: all, 1,033 single-line and many multi-line)."""
    sandbox = sandbox or Sandbox(timeout=10.0)
    store.begin(BENCH, {**backend.describe(), "limit": limit, "seed": seed})
    done = store.done(BENCH)
    todo = [it for k in kinds for it in sample_tasks(k, limit, seed) if it.task_id not in done]
    for it in progress(todo, len(todo), f"infill {backend.name}", show_progress):
        t0 = time.monotonic()
        gen = backend.infill(it.prefix, it.suffix, it.kind == "multi-line")
        dt = time.monotonic() - t0
        middle = fit(gen, it)
        r = sandbox.run(program(it.task, it.prefix[len(it.task.prompt) :] + middle + it.suffix))
        store.append(
            BENCH,
            {
                "task_id": it.task_id,
                "kind": it.kind,
                "expected": it.middle,
                "completion": middle,
                "passed": r.passed,
                "exact": exact_match(middle, it.middle),
                "generate_s": round(dt, 3),
            },
        )
    return summarize(store.load(BENCH))


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("single-line", "multi-line"):
        rs = [r for r in records if r["kind"] == kind]
        if rs:
            out[kind] = {
                "tasks": len(rs),
                "pass@1": round(sum(r["passed"] for r in rs) / len(rs), 4),
                "exact_match": round(sum(r["exact"] for r in rs) / len(rs), 4),
            }
    return out
