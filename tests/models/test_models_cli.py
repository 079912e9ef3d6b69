"""``llamapilot models show`` end to end, through the installed command."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from llamapilot.cli import main


def _command() -> list[str]:
    script = Path(sys.executable).with_name("llamapilot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "llamapilot"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment without the user's config file or model setting."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LLAMAPILOT_")}
    clean["LLAMAPILOT_CONFIG"] = str(tmp_path / "no-config.toml")
    return clean


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_command(), *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_show_json_of_the_embedded_model(env: dict[str, str], embedded_path: Path) -> None:
    proc = run("models", "show", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    card = json.loads(proc.stdout)
    assert card["path"] == os.path.realpath(embedded_path)
    assert card["architecture"] == "llama"
    assert card["layers"] == 30
    assert card["context_length"] == 8192
    assert card["vocab_size"] == 49152
    assert card["license"] == "apache-2.0"
    assert card["quantization"] == "Q4_1"
    assert card["parameters_human"] == "134.5M"
    assert card["has_chat_template"] is True
    assert card["fim_template"] is None
    assert len(card["sha256"]) == 64


def test_show_plain_text(env: dict[str, str]) -> None:
    proc = run("models", "show", "--no-sha256", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {}
    for line in proc.stdout.splitlines():
        key, value = line.split(":", 1)
        rows[key] = value.strip()
    assert rows["architecture"] == "llama"
    assert rows["quantization"] == "Q4_1"
    assert rows["layers"] == "30"
    assert rows["license"] == "apache-2.0"
    assert rows["sha256"] == "not computed"
    assert rows["chat template"].startswith("yes")


def test_show_uses_the_configured_model(
    env: dict[str, str], make_gguf: Callable[..., Path], tmp_path: Path
) -> None:
    model = make_gguf("configured.gguf", tokens=["<fim_prefix>", "<fim_suffix>", "<fim_middle>"])
    env["LLAMAPILOT_MODEL"] = str(model)
    proc = run("models", "show", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    card = json.loads(proc.stdout)
    assert card["name"] == "tiny test model"
    assert card["fim_template"] == "starcoder"


def test_a_corrupt_model_exits_2_with_one_line(env: dict[str, str], tmp_path: Path) -> None:
    # one metadata key whose length field claims 2**62 bytes
    bad = tmp_path / "flipped.gguf"
    bad.write_bytes(b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 2**62) + b"general.name")
    proc = run("models", "show", str(bad), env=env)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"llamapilot: error: {bad}: ")
    assert "metadata key 0" in lines[0]


@pytest.mark.parametrize("case", ["missing", "empty", "directory", "truncated", "text"])
def test_bad_paths_exit_2_naming_the_file(
    case: str,
    tmp_path: Path,
    embedded_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLAMAPILOT_CONFIG", str(tmp_path / "no-config.toml"))
    path = tmp_path / f"{case}.gguf"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "directory":
        path.mkdir()
    elif case == "truncated":
        with embedded_path.open("rb") as f:
            path.write_bytes(f.read(12_345))
    elif case == "text":
        path.write_text("not a model\n")
    code = main(["models", "show", str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"llamapilot: error: {path}: ")
    expected = {
        "missing": "no such file",
        "empty": "file is empty",
        "directory": "is a directory",
        "truncated": "truncated",
        "text": "not a GGUF file",
    }[case]
    assert expected in err


def test_models_without_subcommand_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 2
    assert "show" in capsys.readouterr().err
