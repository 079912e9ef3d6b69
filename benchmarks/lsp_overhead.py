"""Latency the language server adds over a direct call into the completion core.

The same next-line requests (real code from an installed package) go both ways:
- direct: ``CompletionService.complete`` in this process;
- LSP: ``llamapilot lsp`` as a subprocess, driven over stdio by pygls's client —
  ``didOpen``, ``textDocument/inlineCompletion`` (timed, client side), ``didClose``.

Each document is opened alone, so the server adds no context from other documents and
both ways build the same prompt (checked). Each request runs once per way, in the same
order, so the KV cache and the suggestion cache play the same part on both sides. The
server's own core time for each request (from ``llamapilot/inspect``) separates the
protocol's overhead from differences in model speed between the two processes.

    .venv/bin/python -m benchmarks.lsp_overhead [--n 20] [--threads 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks.tasks import nextline_tasks
from llamapilot.completion.service import CompletionService
from llamapilot.completion.types import CompletionRequest
from llamapilot.config import Settings


def direct(tasks: list, settings: Settings, max_tokens: int) -> list[dict[str, Any]]:
    service = CompletionService.from_settings(settings)
    service.complete(CompletionRequest.at_position("x = 1\n", 1, 0, path="warm.py"))
    rows = []
    for task in tasks:
        request = CompletionRequest.at_position(
            task.text, task.line, task.column, path=task.path, max_tokens=max_tokens
        )
        t0 = time.perf_counter()
        result = service.complete(request)
        rows.append(
            {
                "ms": (time.perf_counter() - t0) * 1000,
                "text": result.text,
                "prompt": result.prompt,
                "tokens": result.n_predicted,
            }
        )
    return rows


async def over_lsp(
    tasks: list, root: Path, env: dict[str, str], max_tokens: int
) -> list[dict[str, Any]]:
    client = LanguageClient("lsp-overhead-benchmark", "1")
    await client.start_io(
        sys.executable, "-m", "llamapilot", "lsp", "--log-level", "warning", env=env
    )
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=root.as_uri(),
            initialization_options={"maxTokens": max_tokens},
        )
    )
    client.initialized(types.InitializedParams())

    async def ask(uri: str, text: str, line: int, column: int) -> tuple[float, Any]:
        item = types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
        t0 = time.perf_counter()
        answer = await client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=line, character=column),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Automatic
                ),
            )
        )
        ms = (time.perf_counter() - t0) * 1000
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        return ms, answer

    await ask((root / "warm.py").as_uri(), "x = 1\n", 1, 0)
    rows = []
    for task in tasks:
        ms, answer = await ask((root / task.path).as_uri(), task.text, task.line, task.column)
        info = None
        if answer.items:
            info = await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="llamapilot/inspect", arguments=[])
            )
        rows.append(
            {
                "ms": ms,
                "text": answer.items[0].insert_text if answer.items else "",
                "prompt": info["prompt"] if info else None,
                "server_core_ms": info["timings"]["total_ms"] if info else None,
            }
        )
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return rows


def summarize(direct_rows: list[dict], lsp_rows: list[dict]) -> dict[str, Any]:
    d = [r["ms"] for r in direct_rows]
    lsp = [r["ms"] for r in lsp_rows]
    paired = [b - a for a, b in zip(d, lsp, strict=True)]
    inner = [r["ms"] - r["server_core_ms"] for r in lsp_rows if r["server_core_ms"] is not None]
    checked = [
        (a, b)
        for a, b in zip(direct_rows, lsp_rows, strict=True)
        if b["prompt"] is not None and a["text"]
    ]
    return {
        "n": len(d),
        "direct_ms": {"median": statistics.median(d), "mean": statistics.fmean(d)},
        "lsp_ms": {"median": statistics.median(lsp), "mean": statistics.fmean(lsp)},
        "ratio_median": statistics.median(lsp) / statistics.median(d),
        "added_ms_paired": {"median": statistics.median(paired), "mean": statistics.fmean(paired)},
        "protocol_ms": {
            "median": statistics.median(inner) if inner else None,
            "max": max(inner) if inner else None,
        },
        "same_text": sum(
            a["text"] == b["text"] for a, b in zip(direct_rows, lsp_rows, strict=True)
        ),
        "same_prompt": f"{sum(a['prompt'] == b['prompt'] for a, b in checked)}/{len(checked)}",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--package", default="h11")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--json", help="write the per-request rows and the summary here")
    args = ap.parse_args()

    tasks = nextline_tasks(args.package, args.n)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(n_threads=args.threads, audit=False, data_dir=Path(tmp) / "data")
        direct_rows = direct(tasks, settings, args.max_tokens)
        env = dict(
            os.environ,
            LLAMAPILOT_N_THREADS=str(args.threads),
            LLAMAPILOT_AUDIT="false",
            LLAMAPILOT_DATA_DIR=str(Path(tmp) / "data"),
            LLAMAPILOT_CONFIG=str(Path(tmp) / "absent.toml"),
        )
        lsp_rows = asyncio.run(over_lsp(tasks, Path(tmp), env, args.max_tokens))
    summary = summarize(direct_rows, lsp_rows)
    print(f"{summary['n']} requests, {args.threads} thread(s), max {args.max_tokens} tokens")
    print(
        f"direct core call : median {summary['direct_ms']['median']:8.1f} ms"
        f"   mean {summary['direct_ms']['mean']:8.1f} ms"
    )
    print(
        f"over LSP (stdio) : median {summary['lsp_ms']['median']:8.1f} ms"
        f"   mean {summary['lsp_ms']['mean']:8.1f} ms"
    )
    print(f"ratio (medians)  : {summary['ratio_median']:.3f}")
    print(
        f"added, paired    : median {summary['added_ms_paired']['median']:8.1f} ms"
        f"   mean {summary['added_ms_paired']['mean']:8.1f} ms"
    )
    if summary["protocol_ms"]["median"] is not None:
        print(
            f"round trip minus the server's core time: median "
            f"{summary['protocol_ms']['median']:.1f} ms, max {summary['protocol_ms']['max']:.1f} ms"
        )
    print(f"same suggestion  : {summary['same_text']}/{summary['n']}")
    print(f"same prompt      : {summary['same_prompt']}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"summary": summary, "direct": direct_rows, "lsp": lsp_rows}, indent=1)
        )


if __name__ == "__main__":
    main()
