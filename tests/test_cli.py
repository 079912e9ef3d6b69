"""The ``llamapilot`` command as a whole."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("fastapi", "starlette", "pygls", "llama_cpp", "pydantic_settings", "jinja2")


def test_help_lists_every_front_end_without_importing_them() -> None:
    """``llamapilot --help`` (and so every command's start) does not pay for the web
    framework, the language server or the model runtime it does not use."""
    code = (
        "import sys, contextlib, io\n"
        "from llamapilot.cli import build_parser\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    build_parser().print_help()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "print(buf.getvalue())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded, help_text = out.split("\n", 1)
    assert loaded == "[]"
    for command in ("complete", "serve", "lsp", "index", "eval", "log", "models"):
        assert command in help_text
