"""``llamapilot log list|show|purge|path``."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from llamapilot.audit import AuditLog
from llamapilot.audit.cli import register
from llamapilot.errors import LlamapilotError

from ._writer import fake_pair


def run(*argv: str) -> int:
    """Parse and run like ``llamapilot`` does (one-line errors exit 2)."""
    parser = argparse.ArgumentParser(prog="llamapilot")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    try:
        return int(args.handler(args) or 0)
    except LlamapilotError:
        return 2


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LLAMAPILOT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("LLAMAPILOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LLAMAPILOT_AUDIT", raising=False)
    return tmp_path / "data"


def _fill(data: Path, n: int) -> list[int]:
    with AuditLog(data / "audit.db") as log:
        return [log.record(*fake_pair()) for _ in range(n)]


def test_path(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("log", "path") == 0
    assert capsys.readouterr().out.strip() == str(data / "audit.db")
    assert not data.exists()  # asking where it is creates nothing


def test_list_and_show(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = _fill(data, 3)
    assert run("log", "list", "-n", "2") == 0
    out = capsys.readouterr().out
    assert "return a + b" in out and "calc.py:2" in out
    assert len(out.strip().splitlines()) == 3  # header and two rows
    assert run("log", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in listed] == ids[::-1]
    assert run("log", "show", str(ids[0])) == 0
    out = capsys.readouterr().out
    assert "--- prompt" in out and "def add(a, b):" in out and "sha256:" in out
    assert run("log", "show", str(ids[0]), "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == ids[0] and shown["text"] == "return a + b"
    assert shown["tokens"][0]["top"][0]["text"] == "return"
    assert run("log", "show", "999") == 2


def test_reading_when_off_creates_nothing(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLAMAPILOT_AUDIT", "false")
    assert run("log", "list") == 0
    assert "audit is off" in capsys.readouterr().err
    assert run("log", "purge", "--yes") == 0
    assert not data.exists()


def test_purge(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(data, 4)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: no prompt
    assert run("log", "purge") == 2
    with AuditLog(data / "audit.db") as log:
        assert log.count() == 4
    assert run("log", "purge", "--yes") == 0
    assert "deleted 4" in capsys.readouterr().out
    with AuditLog(data / "audit.db") as log:
        assert log.count() == 0
