"""Infilling, next-line and latency benchmarks: tasks, scoring and resumable records."""

from __future__ import annotations

from pathlib import Path

import pytest

from llamapilot.evals import infill, latency, nextline
from llamapilot.evals.humaneval import load_tasks
from llamapilot.evals.sandbox import Sandbox
from llamapilot.evals.store import RunStore


def test_infill_tasks_mask_lines_of_canonical_solutions() -> None:
    tasks = load_tasks()
    single = infill.make_tasks(tasks, "single-line")
    assert len(single) == 1033  # as in InCoder's single-line infilling benchmark
    t = single[0]
    assert t.prefix + t.middle + t.suffix == t.task.prompt + t.task.canonical_solution
    multi = infill.make_tasks(tasks[:1], "multi-line")
    assert all(m.middle.count("\n") >= 2 for m in multi)


class OracleBackend:
    """Answers with the masked text (or nonsense), to check the scoring."""

    name = "oracle"

    def __init__(self, tasks: dict[str, str]) -> None:
        self.answers = tasks

    def describe(self) -> dict:
        return {"backend": "oracle", "model": "none"}

    def infill(self, prefix: str, suffix: str, multiline: bool) -> str:
        return self.answers.get(prefix, "oops(")

    def nextline(self, prefix, suffix, path, extra):  # noqa: ANN001, ANN201
        return self.answers.get(prefix, "")


def test_infill_scores_pass_and_exact_match(tmp_path: Path) -> None:
    picked = infill.sample_tasks("single-line", 3, seed=1)
    answers = {t.prefix: t.middle for t in picked[:2]}
    summary = infill.run(
        OracleBackend(answers),
        RunStore(tmp_path),
        kinds=("single-line",),
        limit=3,
        seed=1,
        sandbox=Sandbox(timeout=10),
        show_progress=False,
    )
    assert summary["single-line"] == {
        "tasks": 3,
        "pass@1": round(2 / 3, 4),
        "exact_match": round(2 / 3, 4),
    }


def legacy_nextline_tasks(n: int) -> list:
    """``benchmarks/tasks.py`` (outside the package) still builds the same tasks."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "tasks.py"
    spec = importlib.util.spec_from_file_location("benchmarks_tasks", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.nextline_tasks(n=n)


def test_nextline_tasks_and_retrieval(tmp_path: Path) -> None:
    tasks = nextline.nextline_tasks(n=4)
    assert [t.task_id for t in tasks] == [t.task_id for t in legacy_nextline_tasks(n=4)]
    snippets = nextline.Retriever("h11")(tasks[0].path, tasks[0].prefix)
    assert snippets and all(s.path != tasks[0].path for s in snippets)
    answers = {tasks[0].prefix: tasks[0].expected}
    summary = nextline.run(OracleBackend(answers), RunStore(tmp_path), limit=4, show_progress=False)
    assert summary["tasks"] == 4 and summary["plain"]["exact_match"] == 0.25


def test_typing_trace_replays_a_real_file() -> None:
    path, trace = latency.typing_trace(chars=10)
    assert path == "h11/_connection.py" and len(trace) == 10
    assert all(len(b.prefix) == len(a.prefix) + 1 for a, b in zip(trace, trace[1:], strict=False))
    assert all(k.suffix == trace[0].suffix for k in trace)


@pytest.mark.slow
def test_latency_in_process_records_cold_and_warm(service, tmp_path: Path) -> None:  # noqa: ANN001
    summary = latency.run(
        latency.CoreTarget(service), RunStore(tmp_path), limit=4, show_progress=False
    )
    assert summary["keystrokes"] == 4
    assert (
        summary["cold_ms"] > 0 and summary["p50_ms"] > 0 and summary["p99_ms"] >= summary["p50_ms"]
    )
