"""The HTML report: self-contained, and it renders with its figures in a real browser."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from llamapilot.cli import main
from llamapilot.evals.report import COLORS
from llamapilot.evals.store import RunStore


def make_run(root: Path, backend: str, passed: list[int], ms: list[float]) -> Path:
    store = RunStore(root)
    store.begin("humaneval", {"backend": backend, "model": "SmolLM2-135M", "samples": 2})
    for i, c in enumerate(passed):
        store.append("humaneval", {"task_id": f"HumanEval/{i}", "n": 2, "c": c, "samples": []})
    store.begin("latency", {"backend": backend, "model": "SmolLM2-135M"})
    for i, v in enumerate(ms):
        store.append("latency", {"task_id": f"key-{i:04d}", "ms": v, "cold": i == 0})
    store.begin("nextline", {"backend": backend, "model": "SmolLM2-135M"})
    store.append(
        "nextline",
        {
            "task_id": "a.py:3",
            "plain": {"exact": True, "edit_similarity": 1.0},
            "retrieval": {"exact": False, "edit_similarity": 0.5},
        },
    )
    return root


def png_pixels(path: Path) -> set[tuple[int, int, int]]:
    """The distinct RGB colours of a PNG (8-bit RGB/RGBA, non-interlaced), decoded by hand."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours: set[tuple[int, int, int]] = set()
    for y in range(height):
        f, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colours.update(tuple(line[i : i + 3]) for i in range(0, stride, bpp))
        prev = line
    return colours


def test_report_is_self_contained(tmp_path: Path) -> None:
    a = make_run(tmp_path / "pipeline", "pipeline", [2, 1, 0, 0], [900, 120, 130, 150, 400])
    b = make_run(tmp_path / "bare", "bare", [0, 1, 0, 0], [800, 60, 70, 65, 90])
    out = tmp_path / "report.html"
    assert main(["eval", "report", str(a), str(b), "-o", str(out)]) == 0
    page = out.read_text()
    assert "<svg" in page and page.count('class="bar"') >= 4 and 'class="cdf"' in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page and "https://" not in page
    assert "37.5%" in page and "12.5%" in page  # pass@1 of each run in the table


@pytest.mark.slow
def test_report_renders_with_its_figures_in_chromium(tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    a = make_run(tmp_path / "pipeline", "pipeline", [2, 2, 1, 0], [900, 120, 130, 150, 400])
    b = make_run(tmp_path / "bare", "bare", [0, 1, 0, 0], [800, 60, 70, 65, 90])
    out = tmp_path / "report.html"
    main(["eval", "report", str(a), str(b), "-o", str(out)])
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1100,2000",
            f"--screenshot={shot}",
            out.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    colours = png_pixels(shot)
    want = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in COLORS[:2]}
    assert want <= colours  # both runs' bars and lines are drawn
