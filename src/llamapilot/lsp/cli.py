"""``llamapilot lsp``: the language server over stdio."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import BinaryIO

LOG_LEVELS = ("debug", "info", "warning", "error")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lsp",
        help="run the language server (stdio)",
        description="Run llamapilot as a language server on standard input and output: "
        "inline completion and completion items for any LSP editor. Only protocol "
        "messages go to standard output; logs go to standard error or --log-file.",
    )
    p.add_argument("--stdio", action="store_true", help="accepted for editors that pass it")
    p.add_argument("--model", help="GGUF model file (default: the embedded model)")
    p.add_argument("--n-threads", type=int, help="CPU threads for the model")
    p.add_argument("--log-file", help="write logs to this file instead of standard error")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="default: info")
    p.set_defaults(handler=run_lsp)


def claim_stdout() -> BinaryIO:
    """Keep the process's standard output for protocol messages only.

    The real stdout goes on in a private duplicate, returned for the protocol; file
    descriptor 1 then points at stderr, so whatever else writes there — ``print``, or a
    native library such as llama.cpp logging on its own — ends up in stderr instead of
    corrupting the message stream.
    """
    sys.stdout.flush()
    protocol_fd = os.dup(1)  # not inherited by child processes
    os.dup2(2, 1)
    return os.fdopen(protocol_fd, "wb")


def setup_logging(level: str, log_file: str | None) -> None:
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8")
        if log_file
        else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RoutineErrorFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pygls logs every message at info; keep that for --log-level debug
    logging.getLogger("pygls").setLevel(logging.DEBUG if level == "debug" else logging.WARNING)


class RoutineErrorFilter(logging.Filter):
    """Drops pygls's tracebacks for requests ended on purpose: cancelled, superseded
    (which happens at nearly every keystroke) or answered with InvalidParams."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.name.startswith("pygls"):
            from pygls.exceptions import (
                JsonRpcContentModified,
                JsonRpcInvalidParams,
                JsonRpcRequestCancelled,
            )

            routine = (JsonRpcContentModified, JsonRpcInvalidParams, JsonRpcRequestCancelled)
            return not isinstance(record.exc_info[1], routine)
        return True


def run_lsp(args: argparse.Namespace) -> int:
    protocol_out = claim_stdout()
    setup_logging(args.log_level, args.log_file)

    from llamapilot.lsp.runner import Engine
    from llamapilot.lsp.server import create_server, run_stdio

    overrides = {"model": args.model, "n_threads": args.n_threads}
    server = create_server(Engine({k: v for k, v in overrides.items() if v is not None}))
    code = run_stdio(server, sys.stdin.buffer, protocol_out)
    logging.shutdown()
    sys.stderr.flush()
    # pygls reads stdin in a pool thread that may still block in read() if the client
    # keeps the pipe open after ``exit``; the process must end anyway.
    os._exit(code)
