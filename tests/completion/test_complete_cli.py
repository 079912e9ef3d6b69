"""``llamapilot complete`` as a user runs it: a real process on the embedded model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = "import math\n\n\ndef circle_area(radius):\n    \n"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llamapilot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    p = tmp_path / "geometry.py"
    p.write_text(SAMPLE)
    return p


@pytest.mark.slow
def test_json_contract(sample: Path) -> None:
    proc = run("complete", str(sample), "--line", "5", "--column", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"text", "tokens", "confidence", "prompt", "sources", "model", "timings"} <= set(out)
    assert out["text"].strip()
    assert "".join(t["text"] for t in out["tokens"]) == out["text"]
    for tok in out["tokens"]:
        assert set(tok) == {"text", "logprob", "top"}
        assert tok["logprob"] <= 0
        assert tok["top"] and all({"text", "logprob"} == set(a) for a in tok["top"])
    assert 0 < out["confidence"] <= 1
    assert out["prompt"].endswith("def circle_area(radius):")  # cut back to a token boundary
    prefix = next(s for s in out["sources"] if s["kind"] == "prefix")
    assert prefix["path"] == str(sample) and (prefix["start_line"], prefix["end_line"]) == (1, 5)
    assert out["model"]["name"] and Path(out["model"]["path"]).is_file()
    assert len(out["model"]["sha256"]) == 64
    assert set(out["timings"]) == {"prompt_ms", "predict_ms", "total_ms"}
    assert out["timings"]["total_ms"] >= out["timings"]["predict_ms"] > 0


@pytest.mark.slow
def test_plain_output_is_the_suggestion_only(sample: Path) -> None:
    plain = run("complete", str(sample), "--line", "5", "--column", "5")
    js = run("complete", str(sample), "--line", "5", "--column", "5", "--json")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.rstrip("\n") == json.loads(js.stdout)["text"]


@pytest.mark.slow
def test_document_from_stdin_with_language() -> None:
    proc = run(
        "complete",
        "-",
        "--language",
        "python",
        "--line",
        "5",
        "--column",
        "5",
        "--json",
        stdin=SAMPLE,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert "```python" in out["prompt"]
    assert next(s for s in out["sources"] if s["kind"] == "prefix")["path"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--line", "99", "--column", "1"], "line 99 is outside the document"),
        (["--line", "1", "--column", "80"], "column 80 is outside line 1"),
        (["--line", "0", "--column", "1"], "must be 1 or more"),
        (["--line", "x", "--column", "1"], "not a whole number"),
        (["--line", "1", "--column", "1", "--max-tokens", "-3"], "must be 1 or more"),
        (["--line", "1", "--column", "1", "--bogus"], "unrecognized arguments: --bogus"),
        (["--line", "1", "--column", "1", "--model", "/nonexistent.gguf"], "/nonexistent.gguf"),
        (["--line", "1", "--column", "1", "--template", "nope"], "unknown template 'nope'"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(sample: Path, args: list[str], message: str) -> None:
    proc = run("complete", str(sample), *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_unreadable_files_get_one_line_and_exit_2(tmp_path: Path) -> None:
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"\x00\x01\x02binary")
    latin = tmp_path / "latin.py"
    latin.write_bytes("caf\xe9 = 1\n".encode("latin-1"))
    cases = {
        str(tmp_path / "missing.py"): "no such file",
        str(tmp_path): "is a directory",
        str(binary): "binary file",
        str(latin): "not UTF-8 text",
    }
    for path, message in cases.items():
        proc = run("complete", path, "--line", "1", "--column", "1")
        assert proc.returncode == 2, path
        assert message in proc.stderr and path in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
