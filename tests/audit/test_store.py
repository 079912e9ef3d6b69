"""The audit log file: schema, modes, outcomes, purge, crashes and concurrent writers."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from llamapilot.audit import AuditLog, AuditSink, attach_audit
from llamapilot.audit.migrations import MIGRATIONS, m001_completions, migrate
from llamapilot.config import Settings
from llamapilot.errors import InputError

from ._writer import fake_pair

WRITER = str(Path(__file__).with_name("_writer.py"))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _file_bytes(db: Path) -> bytes:
    """The database and its WAL and shared-memory files, as they are on disk."""
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def test_off_switch_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(audit=False, data_dir=data)
    assert AuditLog.open(settings) is None

    class Service:  # attach_audit needs only .sinks and .settings
        sinks: list = []

    assert attach_audit(Service(), settings) is None  # type: ignore[arg-type]
    assert Service.sinks == []
    assert not data.exists()


def test_off_switch_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from llamapilot.config import load_settings

    monkeypatch.setenv("LLAMAPILOT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("LLAMAPILOT_AUDIT", "0")
    monkeypatch.setenv("LLAMAPILOT_DATA_DIR", str(tmp_path / "data"))
    assert AuditLog.open(load_settings()) is None
    assert not (tmp_path / "data").exists()


def test_file_is_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    data = tmp_path / "a" / "data"
    old = os.umask(0)
    try:
        log = AuditLog.open(Settings(data_dir=data))
        assert log is not None
        log.record(*fake_pair())
    finally:
        os.umask(old)
    db = data / "audit.db"
    assert log.path == db
    assert _mode(db) == 0o600
    assert _mode(data) == 0o700
    for extra in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        assert extra.exists() and _mode(extra) == 0o600
    log.close()


def test_an_existing_readable_file_is_made_private(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    db.touch()
    db.chmod(0o644)
    AuditLog(db).close()
    assert _mode(db) == 0o600


def test_migrations_are_named_and_applied_once(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    names = [m.__name__ for m in MIGRATIONS]
    with AuditLog(db) as log:
        assert log.migrations() == names
    with AuditLog(db) as log:
        assert log.migrations() == names
        log.record(*fake_pair())
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*), count(DISTINCT name) FROM _migrations").fetchone() == (
        len(names),
        len(names),
    )
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_an_old_file_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    con = sqlite3.connect(db, isolation_level=None)
    assert migrate(con, [m001_completions]) == ["m001_completions"]
    con.close()
    with AuditLog(db) as log:
        assert log.migrations() == [m.__name__ for m in MIGRATIONS]
        rid = log.record(*fake_pair())
        assert log.set_outcome(rid, "accepted")


def test_record_outcome_and_recent(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "audit.db") as log:
        request, result = fake_pair()
        ids = [log.record(request, result) for _ in range(3)]
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert [r.id for r in log.recent(2)] == [ids[2], ids[1]]
        rec = log.get(ids[0])
        assert rec is not None
        assert rec.text == "return a + b" and rec.prompt == request.prefix
        assert [t["text"] for t in rec.tokens] == ["return", " a", " +", " b"]
        assert rec.tokens[1]["logprob"] == pytest.approx(-0.2)
        assert rec.confidence == pytest.approx(result.confidence, abs=1e-6)
        assert rec.sources == [
            {"path": "calc.py", "start_line": 1, "end_line": 2, "kind": "prefix"}
        ]
        assert (rec.language, rec.cursor_line, rec.outcome) == ("python", 1, None)
        assert log.set_outcome(ids[0], "accepted")
        assert log.set_outcome(ids[1], "rejected")
        assert [r.outcome for r in log.recent(3)] == [None, "rejected", "accepted"]
        assert log.get(ids[0]).outcome_at is not None  # type: ignore[union-attr]
        assert log.set_outcome(ids[0], None) and log.get(ids[0]).outcome is None  # type: ignore[union-attr]
        assert not log.set_outcome(10_000, "accepted")
        with pytest.raises(InputError):
            log.set_outcome(ids[0], "maybe")


@pytest.mark.parametrize(
    ("prefix", "forced", "tokens"),
    [
        # the prompt ends inside the key (token-boundary cut), the forced prefix finishes it
        ("KEY = 'AKIAIOSFODNN7EXAMPLE", "7EXAMPLE", ("'\n", "s3 = boto3.client()")),
        # the model writes the key itself, split across tokens
        ("KEY = '", "", ("AKIAIOSFOD", "NN7E", "XAMPLE", "'\n", "s3 = boto3.client()")),
    ],
)
def test_secrets_split_across_tokens_and_the_prompt_cut_are_not_stored(
    tmp_path: Path, prefix: str, forced: str, tokens: tuple[str, ...]
) -> None:
    request, result = fake_pair(prefix="import boto3\n" + prefix, forced=forced, tokens=tokens)
    db = tmp_path / "audit.db"
    with AuditLog(db) as log:
        rec = log.get(log.record(request, result))
    assert rec is not None and rec.redactions == 1
    assert "<redacted>" in rec.prompt + rec.forced_prefix + rec.text
    stored = _file_bytes(db)
    for piece in ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFOD", "7EXAMPLE", "NN7E"):
        assert piece.encode() not in stored
    assert [t["text"] for t in rec.tokens][-2:] == ["'\n", "s3 = boto3.client()"]
    if not forced:
        assert rec.tokens[0]["top"] == []  # alternatives inside a secret are dropped


def test_purge_empties_the_file(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    marker = "UNIQUE_MARKER_TEXT_4711"
    with AuditLog(db) as log:
        for _ in range(20):
            last = log.record(*fake_pair(prefix=f"# {marker}\n" * 50))
        assert marker.encode() in _file_bytes(db)
        assert log.purge() == 20
        assert log.count() == 0 and log.recent(5) == []
        assert marker.encode() not in _file_bytes(db)
        assert log.record(*fake_pair()) > last  # ids are never reused
        assert log.integrity_check() == "ok"


def test_a_failed_write_does_not_fail_the_completion(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db")
    sink = AuditSink(log)
    request, result = fake_pair()
    sink(request, result)
    assert sink.record_id(result) == 1
    assert sink.set_outcome(result, "accepted")
    log.close()  # writes now fail
    sink(*fake_pair())
    assert sink.failures == 1


def _start(db: Path, what: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, WRITER, str(db), what],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_a_killed_writer_leaves_a_sound_file(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    proc = _start(db, "loop")
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    written = [int(proc.stdout.readline()) for _ in range(200)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    with AuditLog(db) as log:
        assert log.count() >= len(written)
        assert log.get(written[-1]) is not None
        assert log.integrity_check() == "ok"


def test_two_processes_write_at_once_without_busy_errors(tmp_path: Path) -> None:
    n = 150
    # Whether two processes' writes interleave is up to the scheduler; every round must be
    # free of errors, and rounds go on until one shows that the writes really overlapped.
    for attempt in range(6):
        db = tmp_path / f"new{attempt}" / "audit.db"  # both create file, folder, schema at once
        procs = [_start(db, str(n)) for _ in range(2)]
        for p in procs:  # release both together
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
            assert out.strip() == "done" and "locked" not in err and "busy" not in err.lower()
        with AuditLog(db) as log:
            assert log.count() == 2 * n
            assert log.migrations() == [m.__name__ for m in MIGRATIONS]
            records = log.recent(2 * n)
            assert {r.outcome for r in records} == {"accepted", "rejected"}
            assert log.integrity_check() == "ok"
            writers = [r.path for r in reversed(records)]
            assert len(set(writers)) == 2
            if sum(a != b for a, b in zip(writers, writers[1:], strict=False)) >= 2:
                return  # the two writers' records interleave
    pytest.fail("in 6 rounds the two writers never overlapped")


def test_a_suggestion_that_differs_from_the_raw_output_is_redacted_too(tmp_path: Path) -> None:
    request, result = fake_pair(prefix="creds = (", tokens=("'AKIAIOSFODNN7EXAMPLE'",))
    result.raw_text = "'AKIAIOSFODNN7EXAMPLE', 'ghp_" + "x1" * 20 + "'\n"
    result.text = "'AKIAIOSFODNN7EXAMPLE')"  # e.g. post-processing closed the bracket
    db = tmp_path / "audit.db"
    with AuditLog(db) as log:
        rec = log.get(log.record(request, result))
    assert rec is not None
    assert rec.text == "'<redacted>')" and rec.redactions == 2
    stored = _file_bytes(db)
    assert b"AKIAIOSFODNN7EXAMPLE" not in stored and b"x1x1x1x1" not in stored
