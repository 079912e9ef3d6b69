"""Secrets never reach the index; the index survives kill -9 and concurrent writers."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llamapilot.index.workspace import WorkspaceIndex

from .helpers import indexed_paths, many_files, write

AWS_KEY = "AKIAQWERTYUIOPASDFGH"
OPENAI_KEY = "sk-proj-Zx8Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8L"
DB_PASSWORD = "Tr0ub4dor&3horse"
SSH_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"


def _all_index_bytes(workspace: Path) -> bytes:
    folder = workspace / ".llamapilot"
    return b"".join(p.read_bytes() for p in folder.iterdir() if p.is_file())


def test_secret_files_are_skipped_and_secret_strings_redacted(workspace: Path) -> None:
    write(
        workspace,
        {
            ".env": f"AWS_ACCESS_KEY_ID={AWS_KEY}\nOPENAI_API_KEY={OPENAI_KEY}\n",
            ".env.production": f"DB_PASSWORD={DB_PASSWORD}\n",
            "deploy/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\n"
            f"{SSH_BODY}\n-----END OPENSSH PRIVATE KEY-----\n",
            "certs/server.pem": "-----BEGIN PRIVATE KEY-----\n"
            f"{SSH_BODY}\n-----END PRIVATE KEY-----\n",
            "keys.py": 'KEY = """-----BEGIN RSA PRIVATE KEY-----\n'
            f'{SSH_BODY}\n-----END RSA PRIVATE KEY-----"""\n',
            "settings.py": textwrap.dedent(
                f"""\
                import os

                aws_access_key_id = "{AWS_KEY}"
                client = make_client(api_key="{OPENAI_KEY}")
                DATABASE_URL = "postgres://app:{DB_PASSWORD}@db:5432/app"
                password = os.environ["DB_PASSWORD"]


                def connect():
                    return client
                """
            ),
        },
    )
    with WorkspaceIndex(workspace) as index:
        stats = index.build()
        assert indexed_paths(index) == {"settings.py"}
        assert stats.skipped["secret"] == 5
        text = "\n".join(index.lines("settings.py"))
        assert text.count("<redacted>") == 3
        assert "def connect():" in text  # the code itself is kept, lines in place
        assert index.definitions(["connect"])[0].start_line == 9
        assert index.search(f"{AWS_KEY} {OPENAI_KEY}") == []
    raw = _all_index_bytes(workspace)
    for secret in (AWS_KEY, OPENAI_KEY, DB_PASSWORD, SSH_BODY):
        assert raw.count(secret.encode()) == 0, secret


CHILD = """
import sys
from llamapilot.index.workspace import WorkspaceIndex

root = sys.argv[1]
index = WorkspaceIndex(root)
real = index._index_one
count = 0

def counting(*args, **kwargs):
    global count
    count += 1
    if count == int(sys.argv[2]):
        print("midway", flush=True)
    return real(*args, **kwargs)

index._index_one = counting
stats = index.build()
print("done", stats.added, flush=True)
"""


@pytest.mark.slow
def test_killed_mid_index_the_index_still_opens(workspace: Path) -> None:
    many_files(workspace, 600)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(workspace), "300"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "midway"  # inside a write transaction
    child.send_signal(signal.SIGKILL)
    child.wait()

    db = workspace / ".llamapilot" / "index.db"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    kept = conn.execute("SELECT count(*) FROM files").fetchone()[0]
    conn.close()
    assert 0 < kept < 600  # the finished batches survived, the open one rolled back
    with WorkspaceIndex(workspace) as index:
        stats = index.build()
        assert stats.unchanged == kept and stats.added == 600 - kept
        assert index.store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
def test_two_processes_index_one_workspace(workspace: Path) -> None:
    many_files(workspace, 400)
    code = (
        "import sys; from llamapilot.index.workspace import WorkspaceIndex\n"
        "s = WorkspaceIndex(sys.argv[1]).build(); print(s.added + s.unchanged)"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(workspace)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    # a reader in this process meanwhile: WAL readers are never blocked
    reads = 0
    with WorkspaceIndex(workspace) as reader:
        while any(p.poll() is None for p in procs):
            reader.search("helper value")
            reads += 1
    outs = [p.communicate() for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err and "BUSY" not in err.upper()
        assert out.strip() == "400"
    assert reads > 0
    with WorkspaceIndex(workspace) as index:
        assert index.counts()["files"] == 400
        assert index.store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
