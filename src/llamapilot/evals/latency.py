"""Latency: a typing trace through a real file, replayed keystroke by keystroke.

The trace types out a stretch of a real source file (from an installed package) one character
at a time, with the rest of the file after the cursor, and asks for a suggestion after every
keystroke — no debounce, the worst case an editor can produce. Time to suggestion is measured
from sending the request to having the whole answer. *Cold* is a model's first request (an
empty KV cache — against a server, start it fresh); *warm* is every later one.

Two targets: ``--url`` (a running ``llamapilot serve``, through its native
``/v1/llamapilot/complete`` or llama.cpp-style ``/infill`` endpoint) or, without one, the
completion core in this process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from llamapilot.errors import BackendError, InputError
from llamapilot.evals.metrics import percentile
from llamapilot.evals.nextline import package_files
from llamapilot.evals.store import RunStore, progress

BENCH = "latency"


@dataclass(frozen=True)
class Keystroke:
    index: int
    prefix: str
    suffix: str


def typing_trace(
    package: str = "h11", file: str = "_connection.py", start_line: int = 200, chars: int = 120
) -> tuple[str, list[Keystroke]]:
    """Keystrokes typing ``chars`` characters of ``file`` from ``start_line`` (1-based)."""
    paths = [p for p in package_files(package) if p.name == file]
    if not paths:
        raise InputError(f"{package} has no file {file}", param="file")
    text = paths[0].read_text(encoding="utf-8")
    lines = text.split("\n")
    begin = sum(len(line) + 1 for line in lines[: max(0, start_line - 1)])
    end = min(len(text), begin + chars)
    rest = text[end:]
    trace = [Keystroke(i, text[: begin + i], rest) for i in range(1, end - begin + 1)]
    return f"{package}/{file}", trace


@dataclass
class ServerTarget:
    """A running llamapilot server."""

    url: str
    endpoint: str = "native"  # or "infill"
    api_key: str | None = None
    timeout: float = 120.0

    def __post_init__(self) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._client = httpx.Client(
            base_url=self.url.rstrip("/"), headers=headers, timeout=self.timeout
        )

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"backend": f"server:{self.endpoint}", "base_url": self.url}
        try:
            models = self._client.get("/v1/models").json()
            info["model"] = models["data"][0]["id"]
        except Exception:  # noqa: BLE001 - identity is best effort
            info["model"] = "unknown"
        return info

    def suggest(self, path: str, k: Keystroke) -> str:
        import httpx

        if self.endpoint == "infill":
            body: dict[str, Any] = {
                "input_prefix": k.prefix,
                "input_suffix": k.suffix,
                "n_predict": 64,
            }
            route = "/infill"
        else:
            body = {
                "prefix": k.prefix,
                "suffix": k.suffix,
                "path": path,
                "language": "python",
                "session": "latency-trace",
            }
            route = "/v1/llamapilot/complete"
        try:
            resp = self._client.post(route, json=body)
        except httpx.HTTPError as exc:
            raise BackendError(f"{self.url}{route}: {exc}") from None
        if resp.status_code != 200:
            raise BackendError(f"{self.url}{route}: HTTP {resp.status_code}: {resp.text[:200]}")
        data = resp.json()
        return str(data.get("text", data.get("content", "")))


@dataclass
class CoreTarget:
    """The completion core in this process."""

    service: Any

    def describe(self) -> dict[str, Any]:
        info = self.service.backend.info
        return {"backend": "pipeline (in-process)", "model": info.name, "model_sha256": info.sha256}

    def suggest(self, path: str, k: Keystroke) -> str:
        from llamapilot.completion.types import CompletionRequest

        req = CompletionRequest(
            prefix=k.prefix,
            suffix=k.suffix,
            path=path,
            language="python",
            cursor_line=k.prefix.count("\n"),
        )
        return self.service.complete(req).text


def run(
    target: ServerTarget | CoreTarget,
    store: RunStore,
    *,
    limit: int | None = 60,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Replay the trace (``limit`` keystrokes); each keystroke is one record."""
    path, trace = typing_trace(chars=limit or 120)
    store.begin(BENCH, {**target.describe(), "trace": path, "keystrokes": len(trace)})
    done = store.done(BENCH)
    first = not done
    todo = [k for k in trace if f"key-{k.index:04d}" not in done]
    for k in progress(todo, len(todo), "latency", show_progress):
        t0 = time.perf_counter()
        text = target.suggest(path, k)
        ms = (time.perf_counter() - t0) * 1000
        store.append(
            BENCH,
            {
                "task_id": f"key-{k.index:04d}",
                "ms": round(ms, 2),
                "cold": first,
                "chars": len(text),
            },
        )
        first = False
    return summarize(store.load(BENCH))


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    warm = [r["ms"] for r in records if not r.get("cold")]
    cold = [r["ms"] for r in records if r.get("cold")]
    out: dict[str, Any] = {"keystrokes": len(records)}
    if cold:
        out["cold_ms"] = round(cold[0], 1)
    for q in (50, 95, 99):
        if warm:
            out[f"p{q}_ms"] = round(percentile(warm, q), 1)
    return out
