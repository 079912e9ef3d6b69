"""``llamapilot write``: a function's body from its docstring, as a user runs it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from llamapilot.completion.synthesis import KNOWN_STRATEGIES
from llamapilot.completion.write import function_slot
from llamapilot.errors import InputError


def run(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "llamapilot", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


FILE = '''import os


def add(a: int, b: int) -> int:
    """Return the sum of a and b.
    >>> add(2, 3)
    5
    >>> add(-1, 1)
    0
    """
    pass


def later():
    return os.sep
'''


def test_slot_is_the_function_around_the_line() -> None:
    for line in (3, 5, 10):  # the def, inside the docstring, the placeholder
        slot = function_slot(FILE, line)
        assert slot.name == "add"
        assert slot.prefix.endswith('    0\n    """\n')
        assert slot.rest.startswith("\n\ndef later():")
    new = function_slot(FILE, 3).with_body("    return a + b")
    assert new == FILE.replace("    pass\n", "    return a + b\n")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (FILE, 14, "later() already has a body"),
        (FILE, 0, "no function definition at line 1"),
        ("def f(:\n", 0, "does not parse"),
        ("def f(): pass\n", 0, "on the line of its definition"),
    ],
)
def test_slot_errors_name_the_problem(text: str, line: int, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        function_slot(text, line)


@pytest.mark.slow
def test_write_prints_a_diff_that_makes_the_examples_pass(tmp_path: Path) -> None:
    path = tmp_path / "calc.py"
    path.write_text(FILE)
    out = run("write", str(path), "--line", "4", "--candidates", "4", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["name"] == "add" and data["passes_examples"]
    assert len(data["examples"]) == 2
    assert {c["strategy"] for c in data["candidates"]} <= set(KNOWN_STRATEGIES)
    diff = run("write", str(path), "--line", "4", "--candidates", "4", "--diff")
    assert diff.returncode == 0, diff.stderr
    assert diff.stdout.startswith(f"--- a/{path}\n+++ b/{path}\n")
    assert "-    pass\n+" in diff.stdout
    assert path.read_text() == FILE  # a diff is proposed, the file is left alone


def test_write_on_a_function_with_a_body_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "calc.py"
    path.write_text(FILE)
    out = run("write", str(path), "--line", "15")
    assert out.returncode == 2
    assert out.stderr.strip() == "llamapilot: error: later() already has a body"
