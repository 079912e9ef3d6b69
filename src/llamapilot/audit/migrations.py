"""Named schema migrations for the audit log, in the style of simonw/llm.

Each migration is a function whose name is recorded in ``_migrations`` once it has run.
New migrations go at the end of :data:`MIGRATIONS`; a released one is never edited or
renamed. Each runs in its own ``BEGIN IMMEDIATE`` transaction, and the applied names are
read again inside it, so two processes opening a new log at once apply each migration once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone

Migration = Callable[[sqlite3.Connection], None]


def m001_completions(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE completions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, even after a purge
            created_at TEXT NOT NULL,              -- UTC, ISO 8601
            model_name TEXT,
            model_path TEXT,
            model_sha256 TEXT,
            template TEXT,
            prompt TEXT NOT NULL,                  -- the exact prompt, secrets redacted
            forced_prefix TEXT NOT NULL DEFAULT '',
            sources_json TEXT NOT NULL DEFAULT '[]',
            text TEXT NOT NULL,                    -- the suggestion shown
            raw_text TEXT NOT NULL DEFAULT '',     -- what the model generated
            tokens_json TEXT NOT NULL DEFAULT '[]',
            confidence REAL,
            prompt_ms REAL,
            predict_ms REAL,
            total_ms REAL,
            n_prompt_tokens INTEGER,
            n_cached_tokens INTEGER,
            n_predicted INTEGER,
            stop_reason TEXT,
            multiline INTEGER,
            from_cache INTEGER NOT NULL DEFAULT 0, -- the rest of an earlier suggestion
            path TEXT,
            language TEXT,
            cursor_line INTEGER,
            redactions INTEGER NOT NULL DEFAULT 0  -- secret-looking strings replaced
        )
        """
    )


def m002_outcome(db: sqlite3.Connection) -> None:
    db.execute(
        "ALTER TABLE completions ADD COLUMN outcome TEXT "
        "CHECK (outcome IS NULL OR outcome IN ('accepted', 'rejected'))"
    )
    db.execute("ALTER TABLE completions ADD COLUMN outcome_at TEXT")


def m003_created_index(db: sqlite3.Connection) -> None:
    db.execute("CREATE INDEX completions_created_at ON completions (created_at)")


MIGRATIONS: list[Migration] = [m001_completions, m002_outcome, m003_created_index]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def applied(db: sqlite3.Connection) -> list[str]:
    """Names of the applied migrations, in the order they ran."""
    return [r[0] for r in db.execute("SELECT name FROM _migrations ORDER BY rowid")]


def migrate(db: sqlite3.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply the migrations not yet applied; returns the names applied now.

    ``db`` must be in autocommit mode (``isolation_level=None``).
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = set(applied(db))
    ran: list[str] = []
    for fn in MIGRATIONS if migrations is None else migrations:
        name = fn.__name__
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                db.execute("COMMIT")  # another process applied it meanwhile
                continue
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, _now()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        ran.append(name)
    return ran
