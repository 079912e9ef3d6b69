"""HumanEval through the harness: the bare baseline reproduces a plain llama-cpp-python run,
results are resumable, and the pipeline goes through the docstring-checked writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llamapilot.cli import main
from llamapilot.evals import humaneval
from llamapilot.evals.backends import BareBackend, Sample
from llamapilot.evals.humaneval import STOP_SEQUENCES, load_tasks, program
from llamapilot.evals.sandbox import Sandbox
from llamapilot.evals.store import RunStore


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(timeout=10)


def test_data_comes_from_the_package_and_canonical_solutions_pass(sandbox: Sandbox) -> None:
    tasks = load_tasks()
    assert len(tasks) == 164 and tasks[0].task_id == "HumanEval/0"
    for t in tasks[:8]:
        assert sandbox.run(program(t, t.canonical_solution)).passed, t.task_id
    assert not sandbox.run(program(tasks[0], "    return None\n")).passed


@pytest.mark.slow
def test_bare_baseline_equals_plain_llama_cpp_python(
    service,
    core_settings,
    embedded_model,
    sandbox: Sandbox,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    import llama_cpp

    bare = BareBackend(service.backend, max_tokens=64)
    summary = humaneval.run(bare, RunStore(tmp_path), limit=3, sandbox=sandbox, show_progress=False)
    records = RunStore(tmp_path).load("humaneval")
    assert [r["task_id"] for r in records] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]

    plain = llama_cpp.Llama(
        model_path=str(embedded_model),
        n_ctx=core_settings.n_ctx,
        n_threads=core_settings.n_threads,
        verbose=False,
    )
    tasks = load_tasks()[:3]
    expected = []
    for t in tasks:
        out = plain.create_completion(
            t.prompt, max_tokens=64, temperature=0.0, stop=list(STOP_SEQUENCES)
        )
        expected.append(out["choices"][0]["text"])
    del plain
    assert [r["samples"][0]["completion"] for r in records] == expected
    passed = [sandbox.run(program(t, text)).passed for t, text in zip(tasks, expected, strict=True)]
    assert [r["samples"][0]["passed"] for r in records] == passed
    assert summary["pass@1"] == sum(passed) / 3


class CountingBackend:
    name = "counting"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def describe(self) -> dict:
        return {"backend": "counting", "model": "canonical"}

    def humaneval(self, task, n, seed):  # noqa: ANN001, ANN201
        self.seen.append(task.task_id)
        good = Sample(task.canonical_solution)
        return [good if i % 2 == 0 else Sample("    return None\n") for i in range(n)]


def test_rerun_skips_finished_tasks_and_pass_at_k(sandbox: Sandbox, tmp_path: Path) -> None:
    b = CountingBackend()
    humaneval.run(b, RunStore(tmp_path), limit=2, samples=2, sandbox=sandbox, show_progress=False)
    summary = humaneval.run(
        b, RunStore(tmp_path), limit=3, samples=2, sandbox=sandbox, show_progress=False
    )
    assert b.seen == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    assert summary["tasks"] == 3 and summary["pass@1"] == 0.5 and summary["pass@2"] == 1.0
    lines = (tmp_path / "humaneval.jsonl").read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(x)["c"] == 1 for x in lines)


@pytest.mark.slow
def test_cli_pipeline_run_writes_records_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    code = main(
        [
            "eval",
            "humaneval",
            "--backend",
            "pipeline",
            "--limit",
            "1",
            "--candidates",
            "2",
            "--strategies",
            "ask,fork",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    rec = json.loads((out / "humaneval.jsonl").read_text())
    meta = rec["samples"][0]["meta"]
    assert meta["n_examples"] == 2 and 1 <= meta["n_candidates"] <= 2
    assert meta["strategy"] in ("ask", "fork")
    shown = capsys.readouterr().out
    assert "pass@1" in shown and "tasks" in shown
    run_meta = json.loads((out / "humaneval.meta.json").read_text())
    assert run_meta["isolation"] == "namespace" and run_meta["strategies"] == ["ask", "fork"]


def test_cli_names_an_unknown_strategy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["eval", "humaneval", "--strategies", "ask,guess", "--out", "unused"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown strategy guess" in err and "known: ask, continue, tests, fork" in err
