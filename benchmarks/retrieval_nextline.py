"""Next-line completion with and without repository retrieval, on a repository no one here
wrote (h11's source: modules that import each other).

The package's source is copied into a temporary workspace and indexed. Each task masks one
line of one file; the request's path is that file in the workspace, and retrieval excludes
the file the cursor is in, so the masked line cannot come back through the index. Reports
exact match (EM) and edit similarity (ES) of the first suggested line, greedy, through the
real CompletionService on the embedded model, plus index build time, incremental update
time and retrieval latency (p50/p95).

    .venv/bin/python -m benchmarks.retrieval_nextline [--n 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.metrics import edit_similarity, first_line
from benchmarks.tasks import nextline_tasks
from llamapilot.completion.service import CompletionService
from llamapilot.completion.types import CompletionRequest
from llamapilot.config import Settings
from llamapilot.context.retrieval import RetrievalConfig, attach_workspace_index
from llamapilot.index.workspace import WorkspaceIndex


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def _clear_suggestion_cache(service: CompletionService) -> None:
    """Each condition must run the model (the cache would answer the second from the first)."""
    cache = getattr(service, "cache", None)
    if cache is not None:
        cache.clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--package", default="h11")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--json", help="write per-task records and the summary here")
    ap.add_argument(
        "--best-first", action="store_true", help="order snippets best first (default: last)"
    )
    ap.add_argument(
        "--baseline-cache",
        help="JSON file of no-retrieval results to reuse (and fill): the baseline does not "
        "depend on retrieval, so variants of retrieval can be compared without re-running it",
    )
    args = ap.parse_args()

    spec = importlib.util.find_spec(args.package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {args.package!r} is not installed")
    src = Path(next(iter(spec.submodule_search_locations)))
    tmp = Path(tempfile.mkdtemp(prefix="llamapilot-bench-"))
    try:
        ws = tmp / "workspace"
        shutil.copytree(src, ws / args.package, ignore=shutil.ignore_patterns("__pycache__"))

        # --- index: build, no-op rebuild, incremental update after an edit -------------
        index = WorkspaceIndex(ws)
        t0 = time.perf_counter()
        build = index.build(progress=False)
        build_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        index.build(progress=False)
        noop_ms = (time.perf_counter() - t0) * 1000
        edited = sorted((ws / args.package).glob("*.py"))[1]
        original = edited.read_text()
        edited.write_text(original + "\n# edited\n")
        t0 = time.perf_counter()
        inc = index.build(progress=False)
        incremental_ms = (time.perf_counter() - t0) * 1000
        edited.write_text(original)
        t0 = time.perf_counter()
        index.update_file(edited)
        update_file_ms = (time.perf_counter() - t0) * 1000
        counts = index.counts()
        index.close()
        print(
            f"index: {counts} built in {build_ms:.0f} ms; no-op rebuild {noop_ms:.0f} ms; "
            f"one edited file {incremental_ms:.0f} ms (updated {inc.updated}); "
            f"update_file {update_file_ms:.1f} ms",
            flush=True,
        )

        settings = Settings(n_threads=args.threads, audit=False, data_dir=tmp / "data")
        service = CompletionService.from_settings(settings)
        ctx = attach_workspace_index(
            service, ws, config=RetrievalConfig(best_last=not args.best_first)
        )
        providers = list(service.context_providers)
        retriever = ctx.retriever_for(ws)
        assert retriever is not None

        tasks = nextline_tasks(args.package, args.n, args.seed)
        cache_file = Path(args.baseline_cache) if args.baseline_cache else None
        baseline_cache: dict[str, dict[str, object]] = (
            json.loads(cache_file.read_text()) if cache_file and cache_file.exists() else {}
        )
        rows = []
        query_ms: list[float] = []
        for i, task in enumerate(tasks):
            path = ws / task.path
            req = CompletionRequest.at_position(
                task.text,
                task.line,
                task.column,
                path=str(path),
                multiline=False,
                max_tokens=args.max_tokens,
            )
            retriever._cache.clear()  # measure an uncached retrieval
            t0 = time.perf_counter()
            snippets = ctx(req)
            query_ms.append((time.perf_counter() - t0) * 1000)
            if any(s.path == task.path for s in snippets):
                raise SystemExit(f"leak: {task.path} retrieved into its own prompt")
            key = f"{task.path}:{task.line}:{settings.n_ctx}:{args.max_tokens}"
            if key not in baseline_cache:
                service.context_providers = []
                _clear_suggestion_cache(service)
                base = service.complete(req)
                baseline_cache[key] = {
                    "text": base.text,
                    "prompt_tokens": base.n_prompt_tokens,
                    "ms": base.timings.total_ms,
                }
                if cache_file:
                    cache_file.write_text(json.dumps(baseline_cache))
            base_row = baseline_cache[key]
            service.context_providers = providers
            _clear_suggestion_cache(service)
            withr = service.complete(req)
            a, b = first_line(str(base_row["text"])), first_line(withr.text)
            used = [s for s in withr.sources if s.kind not in ("prefix", "suffix")]
            rows.append(
                {
                    "path": task.path,
                    "line": task.line + 1,
                    "expected": task.expected,
                    "baseline": a,
                    "retrieval": b,
                    "baseline_em": a == task.expected,
                    "retrieval_em": b == task.expected,
                    "baseline_es": edit_similarity(a, task.expected),
                    "retrieval_es": edit_similarity(b, task.expected),
                    "snippets": [f"{s.kind}:{s.path}:{s.start_line}-{s.end_line}" for s in used],
                    "baseline_prompt_tokens": base_row["prompt_tokens"],
                    "retrieval_prompt_tokens": withr.n_prompt_tokens,
                    "baseline_ms": base_row["ms"],
                    "retrieval_ms": withr.timings.total_ms,
                }
            )
            mark = lambda ok: "EM" if ok else "  "  # noqa: E731
            print(
                f"[{i + 1}/{len(tasks)}] base {mark(a == task.expected)} ret "
                f"{mark(b == task.expected)} ({len(used)} snippets) {task.expected[:40]!r} | "
                f"{a[:30]!r} | {b[:30]!r}",
                flush=True,
            )

        def mean(key: str) -> float:
            return sum(float(r[key]) for r in rows) / len(rows)

        summary = {
            "package": args.package,
            "tasks": len(rows),
            "baseline_exact_match_pct": 100 * mean("baseline_em"),
            "retrieval_exact_match_pct": 100 * mean("retrieval_em"),
            "baseline_edit_similarity": mean("baseline_es"),
            "retrieval_edit_similarity": mean("retrieval_es"),
            "em_gained": sum(r["retrieval_em"] and not r["baseline_em"] for r in rows),
            "em_lost": sum(r["baseline_em"] and not r["retrieval_em"] for r in rows),
            "index_files": counts["files"],
            "index_symbols": counts["symbols"],
            "index_chunks": counts["chunks"],
            "index_build_ms": build_ms,
            "index_noop_rebuild_ms": noop_ms,
            "index_incremental_one_file_ms": incremental_ms,
            "index_update_file_ms": update_file_ms,
            "query_ms_p50": statistics.median(query_ms),
            "query_ms_p95": _pct(query_ms, 0.95),
            "mean_snippets": sum(len(r["snippets"]) for r in rows) / len(rows),
            "baseline_prompt_tokens_mean": mean("baseline_prompt_tokens"),
            "retrieval_prompt_tokens_mean": mean("retrieval_prompt_tokens"),
            "baseline_ms_median": statistics.median(r["baseline_ms"] for r in rows),
            "retrieval_ms_median": statistics.median(r["retrieval_ms"] for r in rows),
            "build_stats": build.to_dict(),
        }
        print(json.dumps(summary, indent=2))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"summary": summary, "tasks": rows}, f, indent=1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
