"""A bounded load test on loopback: 32 streaming clients, a quarter hanging up mid-stream."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "server_load.py"


def _load_module():
    spec = importlib.util.spec_from_file_location("server_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.slow
def test_32_clients_with_disconnects_over_5_rounds(tmp_path) -> None:
    load = _load_module()
    port = load.free_port()
    proc = load.start_server(port, str(tmp_path))
    try:
        report = load.run_load(
            f"http://127.0.0.1:{port}", proc.pid, clients=32, rounds=5, max_tokens=6
        )
        assert proc.poll() is None, "the server died"
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert report["health_after"] == 200
    for r in report["rounds"]:
        assert r["errors"] == 0, report
        assert r["kept"] == 24 and r["dropped"] == 8
        assert r["intact"] == r["kept"], f"a stream that stayed was cut or changed: {report}"
    # generations of clients that hung up were stopped (some may finish before the server sees
    # the hang-up, the 6-token answers are short)
    assert sum(r["abandoned_by_server"] for r in report["rounds"]) >= 1, report
    assert report["rss_growth_mb"] < 16, f"memory grew: {report}"
