"""``llamapilot eval humaneval|infill|nextline|latency|report``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from llamapilot.completion.synthesis import check_strategies
from llamapilot.errors import InputError
from llamapilot.evals.backends import BACKENDS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="run benchmarks against a backend and compare runs",
        description="Evaluate llamapilot's pipeline, the bare model or any OpenAI-compatible "
        "server on the same benchmarks. Results go to --out DIR, one record per task; running "
        "again with the same DIR resumes. Generated code runs in a sandbox.",
    )
    p.set_defaults(handler=lambda args: _usage(p))
    evsub = p.add_subparsers(dest="eval_command", metavar="BENCHMARK", parser_class=type(p))

    def common(sp: argparse.ArgumentParser, limit: int | None, backend: bool = True) -> None:
        if backend:
            sp.add_argument(
                "--backend",
                choices=BACKENDS,
                default="pipeline",
                help="what to evaluate (default: pipeline)",
            )
            sp.add_argument("--model", help="GGUF path (local backends) or model name (openai)")
            sp.add_argument(
                "--base-url",
                help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1 (openai backend)",
            )
            sp.add_argument(
                "--api-key-env",
                default="OPENAI_API_KEY",
                help="environment variable holding the API key (openai backend)",
            )
            sp.add_argument(
                "--chat",
                action="store_true",
                help="openai backend: ask /chat/completions for a code block",
            )
            sp.add_argument(
                "--threads",
                type=int,
                default=1,
                help="CPU threads for local models (default 1: on a busy machine "
                "llama.cpp's extra threads mostly wait for each other)",
            )
        sp.add_argument("--limit", type=int, default=limit, help="at most N tasks")
        sp.add_argument("--out", type=Path, required=True, help="results directory")
        sp.add_argument("--no-progress", dest="progress", action="store_false")

    he = evsub.add_parser("humaneval", help="HumanEval pass@k (164 tasks)")
    common(he, None)
    he.add_argument("--samples", type=int, default=1, help="samples per task (pass@k needs k)")
    he.add_argument(
        "--candidates",
        type=int,
        default=8,
        help="pipeline: candidates checked against the docstring's examples",
    )
    he.add_argument(
        "--strategies",
        type=_strategies,
        default=None,
        help="pipeline: comma-separated candidate strategies, taken in turn "
        "(ask, continue, tests, fork; default: all, in that order)",
    )
    he.add_argument("--temperature", type=float, default=0.7, help="for samples after the first")
    he.add_argument("--seed", type=int, default=0)
    he.add_argument("--task", action="append", dest="tasks", help="only this task id")
    he.set_defaults(handler=run_humaneval)

    inf = evsub.add_parser("infill", help="single- and multi-line infilling from HumanEval")
    common(inf, 50)
    inf.add_argument("--kind", choices=("single-line", "multi-line"), action="append")
    inf.add_argument("--seed", type=int, default=0)
    inf.set_defaults(handler=run_infill)

    nl = evsub.add_parser("nextline", help="next-line EM/ES on a real package, ± retrieval")
    common(nl, 50)
    nl.add_argument("--package", default="h11", help="installed package to draw lines from")
    nl.add_argument("--seed", type=int, default=0)
    nl.set_defaults(handler=run_nextline)

    lat = evsub.add_parser("latency", help="typing-trace time to suggestion")
    common(lat, 60)
    lat.add_argument("--url", help="a running `llamapilot serve` (default: the core in-process)")
    lat.add_argument("--endpoint", choices=("native", "infill"), default="native")
    lat.set_defaults(handler=run_latency)

    rep = evsub.add_parser("report", help="HTML report comparing result directories")
    rep.add_argument("dirs", nargs="+", type=Path)
    rep.add_argument("-o", "--output", type=Path, default=Path("report.html"))
    rep.set_defaults(handler=run_report)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _strategies(text: str) -> tuple[str, ...]:
    try:
        return check_strategies([n.strip() for n in text.split(",") if n.strip()])
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _backend(args: argparse.Namespace, **kw: Any):  # noqa: ANN202
    from llamapilot.evals.backends import make_backend

    return make_backend(
        args.backend,
        model=args.model,
        threads=args.threads,
        base_url=args.base_url,
        api_key_env=args.api_key_env,
        chat=args.chat,
        **kw,
    )


def _print_summary(bench: str, summary: dict[str, Any], out: Path) -> None:
    from llamapilot.evals.report import _flatten

    flat = _flatten(summary)
    width = max(len(k) for k in flat) if flat else 0
    print(f"{bench} → {out}")
    for k, v in flat.items():
        shown = (
            f"{100 * v:.1f}%"
            if isinstance(v, float) and ("pass@" in k or "exact" in k or "similarity" in k)
            else v
        )
        print(f"  {k.ljust(width)}  {shown}")


def run_humaneval(args: argparse.Namespace) -> int:
    from llamapilot.evals import humaneval
    from llamapilot.evals.sandbox import Sandbox
    from llamapilot.evals.store import RunStore

    sandbox = Sandbox(timeout=10.0)
    backend = _backend(
        args,
        candidates=args.candidates,
        temperature=args.temperature,
        sandbox=sandbox,
        strategies=args.strategies,
    )
    summary = humaneval.run(
        backend,
        RunStore(args.out),
        limit=args.limit,
        samples=args.samples,
        seed=args.seed,
        sandbox=sandbox,
        task_ids=args.tasks,
        show_progress=args.progress,
    )
    _print_summary("humaneval", summary, args.out)
    return 0


def run_infill(args: argparse.Namespace) -> int:
    from llamapilot.evals import infill
    from llamapilot.evals.store import RunStore

    kinds = tuple(args.kind or ("single-line", "multi-line"))
    summary = infill.run(
        _backend(args),
        RunStore(args.out),
        kinds=kinds,
        limit=args.limit,
        seed=args.seed,
        show_progress=args.progress,
    )
    _print_summary("infill", summary, args.out)
    return 0


def run_nextline(args: argparse.Namespace) -> int:
    from llamapilot.evals import nextline
    from llamapilot.evals.store import RunStore

    summary = nextline.run(
        _backend(args),
        RunStore(args.out),
        package=args.package,
        limit=args.limit,
        seed=args.seed,
        show_progress=args.progress,
    )
    _print_summary("nextline", summary, args.out)
    return 0


def run_latency(args: argparse.Namespace) -> int:
    import os

    from llamapilot.evals import latency
    from llamapilot.evals.store import RunStore

    if args.url:
        target: Any = latency.ServerTarget(
            args.url, args.endpoint, os.environ.get(args.api_key_env)
        )
    else:
        if args.backend != "pipeline":
            raise InputError("latency measures the pipeline, in-process or behind --url")
        from llamapilot.completion.service import CompletionService
        from llamapilot.config import load_settings

        settings = load_settings(model=args.model, n_threads=args.threads, audit=False)
        target = latency.CoreTarget(CompletionService.from_settings(settings))
    summary = latency.run(target, RunStore(args.out), limit=args.limit, show_progress=args.progress)
    _print_summary("latency", summary, args.out)
    return 0


def run_report(args: argparse.Namespace) -> int:
    from llamapilot.evals.report import write_report

    out = write_report(list(args.dirs), args.output)
    print(json.dumps({"report": str(out)}))
    return 0
