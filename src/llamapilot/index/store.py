"""The index's SQLite store: named migrations, WAL, a busy timeout, and one writer at a time.

Readers never block: WAL lets them read while a writer commits. Writers take an exclusive
advisory lock on a file next to the database (released by the kernel even if the process is
killed), and every write transaction starts with ``BEGIN IMMEDIATE`` under a busy timeout, so
two processes working on one workspace wait for each other instead of failing with
``SQLITE_BUSY``. A process killed mid-run loses at most its open transaction.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from llamapilot.errors import LlamapilotError
from llamapilot.sqlite_wal import enable_wal

BUSY_TIMEOUT_MS = 60_000

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "0001_initial",
        """
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,          -- relative to the workspace root, '/'-separated
            language TEXT,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            content TEXT NOT NULL,              -- the text with secret-looking strings redacted
            indexed_at REAL NOT NULL
        );
        CREATE TABLE symbols (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,                 -- function, class, method, constant, call, ...
            role TEXT NOT NULL CHECK (role IN ('definition', 'reference')),
            start_line INTEGER NOT NULL,        -- 1-based, inclusive
            end_line INTEGER NOT NULL
        );
        CREATE INDEX symbols_by_name ON symbols(name, role);
        CREATE INDEX symbols_by_file ON symbols(file_id);
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
            start_line INTEGER NOT NULL,
            end_line INTEGER NOT NULL
        );
        CREATE INDEX chunks_by_file ON chunks(file_id);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE VIRTUAL TABLE chunks_fts USING fts5(terms, tokenize = "unicode61 tokenchars '_'");
        """,
    ),
)


class IndexStoreError(LlamapilotError):
    """The workspace index cannot be opened or written."""


class IndexStore:
    """One connection to an index database (open one per thread)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self.lock_path = self.db_path.with_suffix(".lock")
        self.db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self.conn = sqlite3.connect(
                str(self.db_path),
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._set_wal()
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.conn.execute("PRAGMA foreign_keys = ON")
            with contextlib.suppress(OSError):
                os.chmod(self.db_path, 0o600)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise IndexStoreError(f"cannot open the index {self.db_path}: {exc}") from None

    def _set_wal(self) -> None:
        enable_wal(self.conn, BUSY_TIMEOUT_MS / 1000)

    def _applied(self) -> set[str]:
        try:
            return {r[0] for r in self.conn.execute("SELECT name FROM schema_migrations")}
        except sqlite3.OperationalError:  # a new database
            return set()

    def _migrate(self) -> None:
        # the common case needs no lock: a reader must not wait for a long indexing run
        if self._applied() >= {name for name, _ in MIGRATIONS}:
            return
        with self.writer():
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            done = {r[0] for r in self.conn.execute("SELECT name FROM schema_migrations")}
            for name, sql in MIGRATIONS:
                if name in done:
                    continue
                for statement in _statements(sql):
                    self.conn.execute(statement)
                self.conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time())
                )

    @contextlib.contextmanager
    def writer(self) -> Iterator[sqlite3.Connection]:
        """An exclusive write transaction: the cross-process lock, then ``BEGIN IMMEDIATE``."""
        with self.lock():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """The one-writer lock (re-entrant within this object)."""
        if getattr(self, "_lock_depth", 0):
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _flock(fd)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
        finally:
            os.close(fd)  # closing releases the lock

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _flock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: SQLite's own locking and busy timeout
        return
    fcntl.flock(fd, fcntl.LOCK_EX)


def _statements(sql: str) -> list[str]:
    out = []
    for part in sql.split(";"):
        lines = [ln.split("--")[0] if "'" not in ln else ln for ln in part.splitlines()]
        stmt = "\n".join(lines).strip()
        if stmt:
            out.append(stmt)
    return out
