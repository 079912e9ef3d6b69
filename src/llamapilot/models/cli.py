"""``llamapilot models show``: a model's card, read from its GGUF header."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "models",
        help="inspect model files",
        description="Inspect GGUF model files without loading their weights.",
    )
    p.set_defaults(handler=lambda args: _usage(p))
    models_sub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND", parser_class=type(p))
    show = models_sub.add_parser(
        "show",
        help="show a model's card (architecture, size, quantization, templates, checksum)",
        description="Show the card of a GGUF model read from its header: architecture, "
        "parameter count, quantization, context length, tokenizer, license, chat and FIM "
        "templates, file size and SHA-256.",
    )
    show.add_argument(
        "path",
        nargs="?",
        help="GGUF file (default: the configured model, else the embedded SmolLM2-135M)",
    )
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.add_argument(
        "--no-sha256", dest="sha256", action="store_false", help="skip hashing the file"
    )
    show.set_defaults(handler=run_show)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_show(args: argparse.Namespace) -> int:
    from llamapilot.models.card import read_model_card
    from llamapilot.models.locate import resolve_model_path

    model = args.path
    if model is None:
        from llamapilot.config import load_settings

        model = load_settings().model
    card = read_model_card(resolve_model_path(model), with_sha256=args.sha256)
    if args.json:
        print(json.dumps(card.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(card.format_text())
    return 0
