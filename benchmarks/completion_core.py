"""Benchmark of the completion core on 50 cursor positions in real code (h11's source).

Reports, in one run and one process:
- the pipeline's own overhead: the pipeline against a bare llama-cpp-python call on the same
  prompt tokens generating the same number of tokens (both cold, both with the KV cache reset);
- cold versus warm latency (the same request again, the KV cache reused);
- next-line exact match and edit similarity of the pipeline versus the bare model (the raw
  file prefix passed straight to llama-cpp-python, greedy, its first non-empty line).

    .venv/bin/python -m benchmarks.completion_core [--n 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import llama_cpp

from benchmarks.metrics import edit_similarity, first_line
from benchmarks.tasks import nextline_tasks
from llamapilot.completion.service import CompletionService
from llamapilot.completion.types import CompletionRequest
from llamapilot.config import Settings
from llamapilot.models.locate import embedded_model_path


def _bare_completion(llm: llama_cpp.Llama, prompt, max_tokens: int, stop=None) -> tuple[str, float]:
    llm.reset()
    t0 = time.perf_counter()
    out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, stop=stop)
    return out["choices"][0]["text"], (time.perf_counter() - t0) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--package", default="h11")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write per-task records and the summary here")
    args = ap.parse_args()

    settings = Settings(n_threads=args.threads, audit=False)
    service = CompletionService.from_settings(settings)
    backend = service.backend
    bare = llama_cpp.Llama(
        model_path=str(embedded_model_path()),
        n_ctx=settings.n_ctx,
        n_batch=settings.n_batch,
        n_threads=args.threads,
        n_threads_batch=args.threads,
        verbose=False,
    )
    tasks = nextline_tasks(args.package, args.n)
    rows = []
    for i, task in enumerate(tasks):
        req = CompletionRequest.at_position(task.text, task.line, task.column, path=task.path)
        backend._llm.reset()  # cold: nothing cached
        cold = service.complete(req)
        service.cache.clear()  # measure the model, not the suggestion cache
        warm = service.complete(req)  # same request again: the KV cache holds the prompt
        typed = (
            service.complete(
                CompletionRequest.at_position(
                    task.text[: len(req.prefix)] + cold.text[:1] + task.text[len(req.prefix) :],
                    task.line,
                    task.column + 1,
                    path=task.path,
                )
            )
            if cold.text[:1] and cold.text[:1] != "\n"
            else None
        )
        prepared = service.prepare(req)
        n = max(1, cold.n_predicted)
        _, bare_same_ms = _bare_completion(bare, prepared.tokens, n)
        # the bare model on the raw file prefix, as a user of llama-cpp-python would call it
        bare_text, _ = _bare_completion(bare, req.prefix[-int(settings.prefix_tokens * 3.2) :], 48)
        ours = first_line(cold.text)
        theirs = first_line(bare_text)
        rows.append(
            {
                "path": task.path,
                "line": task.line + 1,
                "expected": task.expected,
                "pipeline": ours,
                "bare": theirs,
                "pipeline_em": ours == task.expected,
                "bare_em": theirs == task.expected,
                "pipeline_es": edit_similarity(ours, task.expected),
                "bare_es": edit_similarity(theirs, task.expected),
                "bare_empty": theirs == "",
                "prompt_tokens": cold.n_prompt_tokens,
                "predicted": cold.n_predicted,
                "cold_ms": cold.timings.total_ms,
                "warm_ms": warm.timings.total_ms,
                "warm_cached": warm.n_cached_tokens,
                "typed_ms": typed.timings.total_ms if typed else None,
                "typed_from_cache": bool(typed and typed.from_cache),
                "bare_same_prompt_ms": bare_same_ms,
            }
        )
        print(
            f"[{i + 1}/{len(tasks)}] cold {cold.timings.total_ms:7.0f} ms  warm "
            f"{warm.timings.total_ms:5.0f} ms  bare {bare_same_ms:7.0f} ms  "
            f"{'EM' if ours == task.expected else '  '} {ours[:50]!r}",
            flush=True,
        )

    def total(key: str) -> float:
        return sum(r[key] for r in rows)

    def pct(key: str) -> float:
        return 100.0 * sum(bool(r[key]) for r in rows) / len(rows)

    summary = {
        "tasks": len(rows),
        "overhead_ratio_pipeline_vs_bare_same_prompt": total("cold_ms")
        / total("bare_same_prompt_ms"),
        "cold_ms_median": statistics.median(r["cold_ms"] for r in rows),
        "warm_ms_median": statistics.median(r["warm_ms"] for r in rows),
        "warm_over_cold": total("warm_ms") / total("cold_ms"),
        "typing_through_cache_hit_pct": pct("typed_from_cache"),
        "typing_through_ms_median": statistics.median(
            r["typed_ms"] for r in rows if r["typed_ms"] is not None
        )
        if any(r["typed_ms"] is not None for r in rows)
        else None,
        "pipeline_exact_match_pct": pct("pipeline_em"),
        "bare_exact_match_pct": pct("bare_em"),
        "pipeline_edit_similarity": total("pipeline_es") / len(rows),
        "bare_edit_similarity": total("bare_es") / len(rows),
        "bare_empty_first_line_pct": pct("bare_empty"),
        "pipeline_empty_pct": 100.0 * sum(r["pipeline"] == "" for r in rows) / len(rows),
        "mean_prompt_tokens": total("prompt_tokens") / len(rows),
        "mean_predicted_tokens": total("predicted") / len(rows),
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "tasks": rows}, f, indent=1)


if __name__ == "__main__":
    main()
