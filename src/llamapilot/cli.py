"""The ``llamapilot`` command: a thin adapter over the core service.

Each front end owns its subcommands in a module with ``register(subparsers)``; the
parser calls ``args.handler(args)``, which returns an exit code. Errors that a user
caused (:class:`LlamapilotError`) print one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from llamapilot import __version__
from llamapilot.errors import LlamapilotError

# Modules that add subcommands. Each has ``register(subparsers) -> None``.
COMMAND_MODULES: tuple[str, ...] = (
    "llamapilot.completion.cli",
    "llamapilot.models.cli",
    "llamapilot.server.cli",
    "llamapilot.lsp.cli",
    "llamapilot.index.cli",
    "llamapilot.evals.cli",
    "llamapilot.audit.cli",
)


def positive_int(value: str) -> int:
    """argparse type: a whole number of 1 or more, with a one-line error otherwise."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {n}")
    return n


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line with exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"llamapilot: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="llamapilot",
        description="An open, transparent, local-first AI coding assistant.",
    )
    parser.add_argument("--version", action="version", version=f"llamapilot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that front end is not built (yet)
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args) or 0)
    except LlamapilotError as exc:
        print(f"llamapilot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
