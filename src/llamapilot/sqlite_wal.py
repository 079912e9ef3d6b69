"""Switching a SQLite file to WAL safely when several processes open it at once."""

from __future__ import annotations

import sqlite3
import time


def enable_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the file.

    Changing the journal mode needs a moment with no other connection in a transaction,
    and SQLite can answer SQLITE_BUSY at once instead of calling its busy handler, so a
    process that opens a new file while another is creating it retries until the timeout.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
