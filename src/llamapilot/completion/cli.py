"""``llamapilot complete``: one suggestion at a cursor, as plain text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from llamapilot.cli import positive_int
from llamapilot.completion.types import CompletionRequest
from llamapilot.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "complete",
        help="suggest a completion at a position in a file",
        description="Suggest a completion at LINE:COLUMN of FILE (1-based, as editors show "
        "them). The text of FILE from the cursor on is the suffix.",
    )
    p.add_argument("file", help="the document; '-' reads it from standard input")
    p.add_argument("--line", "-l", type=positive_int, required=True, help="1-based line")
    p.add_argument("--column", "-c", type=positive_int, required=True, help="1-based column")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--model", help="GGUF model file (default: the embedded model)")
    p.add_argument("--max-tokens", type=positive_int, help="most tokens to generate")
    p.add_argument("--language", help="language of the document (default: from the file name)")
    p.add_argument("--template", help="prompt template name (default: detected from the model)")
    lines = p.add_mutually_exclusive_group()
    lines.add_argument("--multiline", dest="multiline", action="store_true", default=None)
    lines.add_argument("--single-line", dest="multiline", action="store_false")
    p.set_defaults(handler=run_complete)

    w = sub.add_parser(
        "write",
        help="write a Python function's body from its signature and docstring",
        description="Write the body of the Python function at LINE of FILE (1-based; any "
        "line of its signature or docstring) from its docstring. Several candidates are "
        "drafted and run, in a sandbox, against the examples the docstring gives; the one "
        "passing most is printed. The function must have no body yet (or only pass / ...).",
    )
    w.add_argument("file", help="the Python file; '-' reads it from standard input")
    w.add_argument("--line", "-l", type=positive_int, required=True, help="1-based line")
    w.add_argument("--candidates", type=positive_int, default=8, help="drafts to try (8)")
    w.add_argument("--model", help="GGUF model file (default: the embedded model)")
    w.add_argument("--seed", type=int, default=0, help="seed of the sampled drafts")
    shown = w.add_mutually_exclusive_group()
    shown.add_argument("--diff", action="store_true", help="print a unified diff of the file")
    shown.add_argument("--json", action="store_true", help="print every candidate as JSON")
    w.set_defaults(handler=run_write)


def read_document(file: str) -> tuple[str, str | None]:
    """The document's text and its path (None for standard input)."""
    if file == "-":
        data = sys.stdin.buffer.read()
        path = None
    else:
        path = file
        try:
            data = Path(file).read_bytes()
        except FileNotFoundError:
            raise InputError(f"{file}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{file}: is a directory, not a file") from None
        except OSError as exc:
            raise InputError(f"{file}: cannot read: {exc.strerror or exc}") from None
    if b"\0" in data[:8192]:
        raise InputError(f"{file}: looks like a binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not UTF-8 text (byte {exc.start})") from None
    return text.replace("\r\n", "\n"), path


def run_complete(args: argparse.Namespace) -> int:
    from llamapilot.completion.service import CompletionService
    from llamapilot.config import load_settings

    text, path = read_document(args.file)
    request = CompletionRequest.at_position(
        text,
        args.line - 1,
        args.column - 1,
        path=path,
        language=args.language,
        max_tokens=args.max_tokens,
        multiline=args.multiline,
        template=args.template,
    )
    settings = load_settings(model=args.model, template=args.template)
    service = CompletionService.from_settings(settings)
    result = service.complete(request)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(result.text + ("\n" if not result.text.endswith("\n") else ""))
    return 0


def run_write(args: argparse.Namespace) -> int:
    import difflib

    from llamapilot.completion.service import CompletionService
    from llamapilot.completion.synthesis import write_function
    from llamapilot.completion.write import function_slot
    from llamapilot.config import load_settings

    text, path = read_document(args.file)
    slot = function_slot(text, args.line - 1)
    service = CompletionService.from_settings(load_settings(model=args.model))
    written = write_function(service, slot.prefix, candidates=args.candidates, seed=args.seed)
    if args.json:
        json.dump(written.to_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    elif args.diff:
        name = path or "stdin"
        sys.stdout.writelines(
            difflib.unified_diff(
                text.splitlines(keepends=True),
                slot.with_body(written.text).splitlines(keepends=True),
                f"a/{name}",
                f"b/{name}",
            )
        )
    else:
        sys.stdout.write(written.text + "\n")
    return 0 if written.text else 1
