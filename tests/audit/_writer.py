"""A separate process that writes to an audit log, for the crash and concurrency tests.

Usage: ``python _writer.py DB_PATH loop`` (write until killed, printing each record id) or
``python _writer.py DB_PATH N`` (write N records, mark outcomes, print ``done``). It prints
``ready`` and opens the log only when a line arrives on standard input, so several writers
can start on a new file at the same moment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from llamapilot.completion.types import CompletionRequest, CompletionResult, Timings
from llamapilot.context.snippets import Snippet
from llamapilot.engine.base import ModelInfo, TokenEvent, TopLogprob


def fake_pair(
    prefix: str = "def add(a, b):\n    ",
    tokens: tuple[str, ...] = ("return", " a", " +", " b"),
    forced: str = "",
    path: str = "calc.py",
) -> tuple[CompletionRequest, CompletionResult]:
    """A request and a result shaped like the service's, without loading a model."""
    events = [
        TokenEvent(i, t, -0.1 * (i + 1), (TopLogprob(t, -0.1), TopLogprob(t + "x", -2.5)))
        for i, t in enumerate(tokens)
    ]
    text = "".join(tokens)
    request = CompletionRequest(prefix=prefix, path=path, cursor_line=prefix.count("\n"))
    result = CompletionResult(
        text=text,
        tokens=events,
        prompt=prefix[: len(prefix) - len(forced)],
        forced_prefix=forced,
        sources=[Snippet("", path, 1, prefix.count("\n") + 1, "prefix")],
        model=ModelInfo("fake", "/models/fake.gguf", "0" * 64, 4096),
        timings=Timings(1.5, 2.5, 4.5),
        raw_text=text,
        template="raw",
        n_prompt_tokens=12,
        n_predicted=len(tokens),
        stop_reason="stop",
    )
    return request, result


def main() -> int:
    from llamapilot.audit.store import AuditLog

    path, what = Path(sys.argv[1]), sys.argv[2]
    request, result = fake_pair(path=f"writer-{os.getpid()}.py")
    print("ready", flush=True)
    sys.stdin.readline()
    log = AuditLog(path)
    if what == "loop":
        while True:
            print(log.record(request, result), flush=True)
    for i in range(int(what)):
        rid = log.record(request, result)
        log.set_outcome(rid, "accepted" if i % 2 else "rejected")
        if i % 20 == 0:
            log.recent(5)
    log.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
