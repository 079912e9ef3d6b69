"""llamapilot's server against llama.cpp's own server, same model, same requests.

    .venv/bin/python -m benchmarks.vs_llama_server --llama-server PATH [--keystrokes 60] [--cold 20]

Both servers run one after the other on loopback with the embedded model, 2 threads, a
4096-token context and one slot, and get the same editor-shaped requests: the window an
editor plugin sends (like llama.vim: the 256 lines above the cursor, the 64 below), 64
tokens at most.

* ``typing``: a real file typed one character at a time, a request per keystroke (no
  debounce), as the latency harness replays it; the first request is cold.
* ``cold``: masked lines at seeded positions across a package's files; each request is a
  different place, so little of the prompt is shared.

llama.cpp's server is asked the way a client of it can ask for this model: ``/infill``
answers 501 for a model without FIM tokens, so ``/completion`` with the prefix as the
prompt, ``cache_prompt`` on; once as is (``llama-server``) and once told to stop at the end
of the line (``llama-server-line``, the least work it can be asked for). llamapilot is asked
through ``/infill`` (its pipeline: template, windows, token healing, stop rules, suggestion
cache). Prints JSON: per target and scenario the p50/p95/mean milliseconds, the cold first
request, the characters suggested, and the ratios of llamapilot's medians to each
llama.cpp variant's (below 1: llamapilot is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.server_load import free_port, start_server, wait_ready
from llamapilot.evals.latency import typing_trace
from llamapilot.evals.metrics import percentile
from llamapilot.evals.nextline import nextline_tasks
from llamapilot.models.locate import embedded_model_path

PREFIX_LINES = 256
SUFFIX_LINES = 64
N_PREDICT = 64


def window(prefix: str, suffix: str) -> tuple[str, str]:
    """What an editor plugin sends: the last lines before the cursor, the first after."""
    before = prefix.split("\n")
    after = suffix.split("\n")
    return "\n".join(before[-PREFIX_LINES:]), "\n".join(after[:SUFFIX_LINES])


def start_llama_server(
    binary: str, model: str, port: int, timeout: float = 120.0
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            binary,
            *("-m", model, "--host", "127.0.0.1", "--port", str(port)),
            *("-c", "4096", "-t", "2", "-tb", "2", "-np", "1", "--no-webui"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return wait_ready(proc, port, timeout, "llama-server")


def ask(client: httpx.Client, target: str, prefix: str, suffix: str) -> str:
    if target == "llamapilot":
        body: dict[str, Any] = {
            "input_prefix": prefix,
            "input_suffix": suffix,
            "n_predict": N_PREDICT,
        }
        resp = client.post("/infill", json=body)
    else:
        body = {"prompt": prefix, "n_predict": N_PREDICT, "cache_prompt": True}
        if target == "llama-server-line":
            body["stop"] = ["\n"]
        resp = client.post("/completion", json=body)
    resp.raise_for_status()
    return str(resp.json().get("content", ""))


def scenarios(keystrokes: int, cold: int) -> dict[str, list[tuple[str, str]]]:
    _, trace = typing_trace(chars=keystrokes)
    tasks = nextline_tasks("h11", n=cold, seed=1)
    return {
        "typing": [window(k.prefix, k.suffix) for k in trace],
        "cold": [window(t.prefix, t.suffix) for t in tasks],
    }


def measure(port: int, target: str, work: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
        ask(client, target, "x = 1\n", "")  # load and warm the model, not the scenario
        for name, requests in work.items():
            ms: list[float] = []
            chars = 0
            for prefix, suffix in requests:
                t0 = time.perf_counter()
                text = ask(client, target, prefix, suffix)
                ms.append((time.perf_counter() - t0) * 1000)
                chars += len(text)
            rest = ms[1:] or ms
            out[name] = {
                "n": len(ms),
                "first_ms": round(ms[0], 1),
                "p50_ms": round(statistics.median(rest), 1),
                "p95_ms": round(percentile(rest, 95), 1),
                "mean_ms": round(statistics.fmean(rest), 1),
                "mean_chars": round(chars / len(ms), 1),
            }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llama-server", default=os.environ.get("LLAMA_SERVER") or "llama-server")
    ap.add_argument("--keystrokes", type=int, default=60)
    ap.add_argument("--cold", type=int, default=20)
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args(argv)
    binary = shutil.which(args.llama_server) or args.llama_server
    if not Path(binary).exists():
        print(f"llama-server not found: {args.llama_server} (--llama-server PATH)", file=sys.stderr)
        return 2
    model = str(embedded_model_path())
    work = scenarios(args.keystrokes, args.cold)
    results: dict[str, Any] = {"model": model, "n_predict": N_PREDICT, "targets": {}}
    with tempfile.TemporaryDirectory() as data_dir:
        for target in ("llamapilot", "llama-server", "llama-server-line"):
            port = free_port()
            if target == "llamapilot":
                proc = start_server(port, data_dir, {"LLAMAPILOT_AUDIT": "false"})
            else:
                proc = start_llama_server(binary, model, port)
            try:
                results["targets"][target] = measure(port, target, work)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    ours = results["targets"]["llamapilot"]
    results["ratio_p50"] = {
        f"{scenario} vs {other}": round(ours[scenario]["p50_ms"] / theirs[scenario]["p50_ms"], 3)
        for other, theirs in results["targets"].items()
        if other != "llamapilot"
        for scenario in work
    }
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
