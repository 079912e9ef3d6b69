"""``llamapilot lsp`` on the wire: only protocol messages on stdout, and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

LSP = [sys.executable, "-m", "llamapilot", "lsp"]


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def parse_frames(data: bytes) -> list[dict[str, Any]]:
    """Every message on a stdout stream; fails on any byte outside a message."""
    messages = []
    while data:
        header, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"stray bytes on stdout: {data[:80]!r}"
        fields = dict(line.split(": ", 1) for line in header.decode("ascii").split("\r\n"))
        length = int(fields["Content-Length"])
        messages.append(json.loads(rest[:length]))
        data = rest[length:]
    return messages


def run_server(messages: list[dict[str, Any]], env: dict[str, str]) -> tuple[int, list, str]:
    proc = subprocess.run(
        LSP,
        input=b"".join(frame(m) for m in messages),
        capture_output=True,
        env=env,
        timeout=60,
    )
    return proc.returncode, parse_frames(proc.stdout), proc.stderr.decode()


INIT = {
    "id": 1,
    "method": "initialize",
    "params": {"capabilities": {}, "initializationOptions": {"enabled": False}},
}


def test_session_on_the_wire_is_only_protocol_and_exits_0(lsp_env) -> None:
    code, replies, stderr = run_server(
        [
            {"id": 0, "method": "shutdown"},  # before initialize
            INIT,
            {"method": "initialized", "params": {}},
            {"id": 2, "method": "shutdown"},
            {"id": 3, "method": "workspace/executeCommand", "params": {"command": "x"}},
            {"method": "exit"},
        ],
        lsp_env,
    )
    by_id = {r.get("id"): r for r in replies}
    assert by_id[0]["error"]["code"] == -32002  # ServerNotInitialized
    assert by_id[1]["result"]["serverInfo"]["name"] == "llamapilot"
    assert by_id[2]["result"] is None
    assert by_id[3]["error"]["code"] == -32600  # InvalidRequest after shutdown
    assert code == 0, stderr


def test_exit_without_shutdown_exits_1(lsp_env) -> None:
    code, replies, _ = run_server([INIT, {"method": "exit"}], lsp_env)
    assert code == 1
    assert replies[0]["id"] == 1


def test_native_writes_to_stdout_go_to_stderr() -> None:
    script = (
        "import os\n"
        "from llamapilot.lsp.cli import claim_stdout\n"
        "out = claim_stdout()\n"
        "os.write(1, b'native noise\\n')\n"
        "print('python noise')\n"
        "out.write(b'PROTOCOL'); out.flush()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=60, check=True
    )
    assert proc.stdout == b"PROTOCOL"
    assert b"native noise" in proc.stderr and b"python noise" in proc.stderr
