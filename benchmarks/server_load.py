"""Load on the HTTP server over loopback: concurrent streaming clients, some of whom hang up.

    .venv/bin/python benchmarks/server_load.py [--clients 32] [--rounds 5] [--max-tokens 8]

Starts ``llamapilot serve`` on a free loopback port with the embedded model, runs ``rounds``
rounds of ``clients`` concurrent streaming ``/v1/completions`` requests, a quarter of which
disconnect at a random token, and prints JSON: per round the wall time, how many streams
completed intact (equal to the same request answered without streaming), how many the server
abandoned, and the server's resident memory. Bounded: small max_tokens, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

PROMPTS = [
    "def add(a, b):\n    return",
    "import os\n\n\ndef list_files(path):\n",
    "class Stack:\n    def __init__(self):\n",
    "for i in range(10):\n    print(",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_server(
    port: int, data_dir: str, extra_env: dict[str, str] | None = None, timeout: float = 180.0
) -> subprocess.Popen[bytes]:
    """``llamapilot serve`` in a child process; returns once ``/health`` says 200."""
    env = {
        **os.environ,
        "LLAMAPILOT_N_THREADS": "2",
        "LLAMAPILOT_DATA_DIR": data_dir,
        "LLAMAPILOT_CONFIG": os.path.join(data_dir, "none.toml"),
        **(extra_env or {}),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "llamapilot", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return wait_ready(proc, port, timeout)


def wait_ready(
    proc: subprocess.Popen[bytes], port: int, timeout: float, what: str = "the server"
) -> subprocess.Popen[bytes]:
    """Return ``proc`` once ``/health`` on ``port`` says 200 (kill it after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{what} did not become ready")
        time.sleep(0.1)


async def _client(
    http: httpx.AsyncClient, prompt: str, max_tokens: int, drop_at: int | None
) -> dict[str, Any]:
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True}
    text, n, done = "", 0, False
    async with http.stream("POST", "/v1/completions", json=body) as r:
        if r.status_code != 200:
            return {"status": r.status_code, "text": "", "done": False, "dropped": False}
        async for line in r.aiter_lines():
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                done = True
                break
            chunk = json.loads(line[6:])
            if "error" in chunk:
                break
            text += chunk["choices"][0]["text"]
            n += 1
            if drop_at is not None and n >= drop_at:
                break  # leaving the block closes the connection mid-stream
    return {"status": 200, "text": text, "done": done, "dropped": drop_at is not None}


async def _round(
    url: str, clients: int, max_tokens: int, rng: random.Random, expected: dict[str, str]
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as http:
        before = (await http.get("/health")).json()
        plan = []
        for i in range(clients):
            drop = rng.randint(1, max(1, max_tokens - 2)) if i % 4 == 0 else None
            plan.append((PROMPTS[i % len(PROMPTS)], drop))
        t0 = time.perf_counter()
        results = await asyncio.gather(*(_client(http, p, max_tokens, d) for p, d in plan))
        wall = time.perf_counter() - t0
        after = (await http.get("/health")).json()
        while after["busy"] or after["waiting"]:  # the dropped streams' generations end
            await asyncio.sleep(0.05)
            after = (await http.get("/health")).json()
    kept = [(r, p) for r, (p, _d) in zip(results, plan, strict=True) if not r["dropped"]]
    return {
        "wall_s": round(wall, 3),
        "completed": sum(r["done"] for r, _ in kept),
        "intact": sum(r["done"] and r["text"] == expected[p] for r, p in kept),
        "kept": len(kept),
        "dropped": clients - len(kept),
        "abandoned_by_server": after["abandoned"] - before["abandoned"],
        "errors": sum(r["status"] != 200 for r in results),
    }


def run_load(
    url: str, pid: int, *, clients: int = 32, rounds: int = 5, max_tokens: int = 8, seed: int = 0
) -> dict[str, Any]:
    expected = {}
    for p in PROMPTS:
        r = httpx.post(
            url + "/v1/completions",
            timeout=600,
            json={"prompt": p, "max_tokens": max_tokens, "temperature": 0},
        )
        expected[p] = r.json()["choices"][0]["text"]
    rng = random.Random(seed)
    out = []
    for _ in range(rounds):
        result = asyncio.run(_round(url, clients, max_tokens, rng, expected))
        result["rss_mb"] = round(rss_kb(pid) / 1024, 1)
        out.append(result)
    health = httpx.get(url + "/health", timeout=10)
    return {
        "clients": clients,
        "rounds": out,
        "health_after": health.status_code,
        "rss_growth_mb": round(out[-1]["rss_mb"] - out[0]["rss_mb"], 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=8)
    args = ap.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        proc = start_server(port, data_dir)
        try:
            report = run_load(
                f"http://127.0.0.1:{port}",
                proc.pid,
                clients=args.clients,
                rounds=args.rounds,
                max_tokens=args.max_tokens,
            )
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
