"""The audit log: every prompt and suggestion, in a SQLite file the user owns.

One row per completion in ``completions``. The file is created mode 0600 (its folder 0700
when llamapilot creates it), runs in WAL mode with a busy timeout so several processes
(editor, server, CLI) can write to it, and deleted rows are overwritten (``secure_delete``)
so a purge leaves no prompt text behind. Secret-looking strings are redacted before storing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llamapilot.audit.migrations import applied, migrate
from llamapilot.completion.types import CompletionRequest, CompletionResult
from llamapilot.errors import InputError, LlamapilotError
from llamapilot.languages import language_from_path, normalize_language
from llamapilot.redact import REDACTED, apply_spans, merge_spans, secret_spans
from llamapilot.sqlite_wal import enable_wal

if TYPE_CHECKING:
    from llamapilot.config import Settings

FILE_NAME = "audit.db"
BUSY_TIMEOUT_S = 30.0
OUTCOMES = ("accepted", "rejected")


class AuditLogError(LlamapilotError):
    """The audit log file cannot be opened or written."""


@dataclass(frozen=True)
class AuditRecord:
    """One logged completion, as stored (secrets already redacted)."""

    id: int
    created_at: str
    model_name: str | None
    model_path: str | None
    model_sha256: str | None
    template: str | None
    prompt: str
    forced_prefix: str
    sources_json: str
    text: str
    raw_text: str
    tokens_json: str
    confidence: float | None
    prompt_ms: float | None
    predict_ms: float | None
    total_ms: float | None
    n_prompt_tokens: int | None
    n_cached_tokens: int | None
    n_predicted: int | None
    stop_reason: str | None
    multiline: int | None
    from_cache: int
    path: str | None
    language: str | None
    cursor_line: int | None
    redactions: int
    outcome: str | None
    outcome_at: str | None

    @property
    def sources(self) -> list[dict[str, Any]]:
        return json.loads(self.sources_json)

    @property
    def tokens(self) -> list[dict[str, Any]]:
        return json.loads(self.tokens_json)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, shaped like :meth:`CompletionResult.to_dict` where the two overlap."""
        return {
            "id": self.id,
            "created_at": self.created_at,
            "outcome": self.outcome,
            "outcome_at": self.outcome_at,
            "path": self.path,
            "language": self.language,
            "cursor_line": self.cursor_line,
            "text": self.text,
            "raw_text": self.raw_text,
            "forced_prefix": self.forced_prefix,
            "prompt": self.prompt,
            "sources": self.sources,
            "tokens": self.tokens,
            "confidence": self.confidence,
            "model": {
                "name": self.model_name,
                "path": self.model_path,
                "sha256": self.model_sha256,
            },
            "template": self.template,
            "multiline": None if self.multiline is None else bool(self.multiline),
            "timings": {
                "prompt_ms": self.prompt_ms,
                "predict_ms": self.predict_ms,
                "total_ms": self.total_ms,
            },
            "usage": {
                "prompt_tokens": self.n_prompt_tokens,
                "cached_tokens": self.n_cached_tokens,
                "completion_tokens": self.n_predicted,
            },
            "stop_reason": self.stop_reason,
            "from_cache": bool(self.from_cache),
            "redactions": self.redactions,
        }


_COLUMNS = ", ".join(f.name for f in fields(AuditRecord))


def audit_path(settings: Settings) -> Path:
    """Where the audit log lives: ``<data_dir>/audit.db``."""
    return Path(settings.data_dir).expanduser() / FILE_NAME


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _create_private_file(path: Path) -> None:
    """Create the folder (0700) and the file (0600) before SQLite opens it, so the log is
    never readable by others, not even for a moment."""
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(parent, 0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:  # never leave the log readable by group or others
            os.fchmod(fd, mode & 0o700)
    finally:
        os.close(fd)


class AuditLog:
    """The audit log file. Thread-safe; several processes may write to one file."""

    def __init__(self, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            _create_private_file(self.path)
            # isolation_level=None: we issue transactions ourselves; timeout is SQLite's
            # busy timeout, so a writer waits for another process instead of failing
            self._db = sqlite3.connect(
                str(self.path), timeout=busy_timeout, isolation_level=None,
                check_same_thread=False,
            )  # fmt: skip
            enable_wal(self._db, busy_timeout)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA secure_delete=ON")
            migrate(self._db)
        except (OSError, sqlite3.Error) as exc:
            raise AuditLogError(f"cannot open the audit log {self.path}: {exc}") from exc

    # --- opening --------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings) -> AuditLog | None:
        """The log at ``settings.data_dir``, or None when ``settings.audit`` is off
        (then nothing is created)."""
        if not settings.audit:
            return None
        return cls(audit_path(settings))

    @classmethod
    def existing(cls, path: Path) -> AuditLog | None:
        """The log at ``path`` if the file exists (for reading and purging), else None."""
        return cls(path) if Path(path).exists() else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------
    def record(self, request: CompletionRequest, result: CompletionResult) -> int:
        """Store one completion; returns its record id (for :meth:`set_outcome`)."""
        row = _row(request, result)
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._lock:
            try:
                cur = self._db.execute(
                    f"INSERT INTO completions ({names}) VALUES ({marks})", tuple(row.values())
                )
            except sqlite3.Error as exc:
                raise AuditLogError(f"cannot write to the audit log {self.path}: {exc}") from exc
        rid = cur.lastrowid
        if rid is None:  # pragma: no cover - INSERT always sets it
            raise AuditLogError("the audit log returned no record id")
        return rid

    def set_outcome(self, record_id: int, outcome: str | None) -> bool:
        """Mark a suggestion ``"accepted"`` or ``"rejected"`` (None clears it).

        Returns False when there is no such record (e.g. the log was purged since).
        """
        if outcome is not None and outcome not in OUTCOMES:
            raise InputError(
                f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}", param="outcome"
            )
        with self._lock:
            try:
                cur = self._db.execute(
                    "UPDATE completions SET outcome = ?, outcome_at = ? WHERE id = ?",
                    (outcome, None if outcome is None else _now(), int(record_id)),
                )
            except sqlite3.Error as exc:
                raise AuditLogError(f"cannot write to the audit log {self.path}: {exc}") from exc
        return cur.rowcount > 0

    def purge(self) -> int:
        """Delete every record and shrink the file, leaving none of their text in it (or in
        its write-ahead log). Returns how many records were deleted. Record ids are not
        reused afterwards."""
        with self._lock:
            try:
                n = self._db.execute("DELETE FROM completions").rowcount
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                self._db.execute("VACUUM")
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                raise AuditLogError(f"cannot purge the audit log {self.path}: {exc}") from exc
        return n

    # --- reading --------------------------------------------------------------------
    def _select(self, where: str, params: tuple[Any, ...]) -> list[AuditRecord]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM completions {where}", params
            ).fetchall()
        return [AuditRecord(*r) for r in rows]

    def get(self, record_id: int) -> AuditRecord | None:
        found = self._select("WHERE id = ?", (int(record_id),))
        return found[0] if found else None

    def recent(self, n: int = 20) -> list[AuditRecord]:
        """The ``n`` newest records, newest first."""
        return self._select("ORDER BY id DESC LIMIT ?", (max(0, int(n)),))

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM completions").fetchone()[0])

    def migrations(self) -> list[str]:
        """Names of the schema migrations applied to this file."""
        with self._lock:
            return applied(self._db)

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: ``"ok"`` for a sound file."""
        with self._lock:
            rows = self._db.execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(r[0]) for r in rows)


def _row(request: CompletionRequest, result: CompletionResult) -> dict[str, Any]:
    """The columns for one completion, with secret-looking strings redacted.

    The prompt and what follows it are redacted as one text, so a secret cut by the prompt's
    token boundary, or split across generated tokens, is still caught."""
    head = [result.prompt, result.forced_prefix]
    start = "".join(head)
    token_texts = [t.text for t in result.tokens]
    raw_spans = secret_spans(start + result.raw_text)

    def spans_for(tail: str) -> list[tuple[int, int]]:
        # text and tokens are usually a prefix of raw_text: then one scan serves all
        return raw_spans if result.raw_text.startswith(tail) else secret_spans(start + tail)

    text_spans = spans_for(result.text)
    token_spans = spans_for("".join(token_texts))
    prompt, forced = apply_spans(head, merge_spans([*raw_spans, *text_spans, *token_spans]))
    raw = apply_spans([*head, result.raw_text], raw_spans)[2]
    text = apply_spans([*head, result.text], text_spans)[2]
    token_texts = apply_spans([*head, *token_texts], token_spans)[2:]
    tokens = []
    for tok, shown in zip(result.tokens, token_texts, strict=True):
        clean = shown == tok.text
        tokens.append(
            {
                "text": shown,
                "logprob": round(tok.logprob, 6),
                # alternatives inside a secret could spell it out: drop them
                "top": [{"text": a.text, "logprob": round(a.logprob, 6)} for a in tok.top]
                if clean
                else [],
            }
        )
    n_redacted = len(raw_spans)
    language = normalize_language(request.language) or language_from_path(request.path)
    t = result.timings
    info = result.model
    return {
        "created_at": _now(),
        "model_name": info.name,
        "model_path": info.path,
        "model_sha256": info.sha256,
        "template": result.template,
        "prompt": prompt,
        "forced_prefix": forced,
        "sources_json": json.dumps([s.source() for s in result.sources], ensure_ascii=False),
        "text": text,
        "raw_text": raw,
        "tokens_json": json.dumps(tokens, ensure_ascii=False),
        "confidence": round(result.confidence, 6),
        "prompt_ms": round(t.prompt_ms, 3),
        "predict_ms": round(t.predict_ms, 3),
        "total_ms": round(t.total_ms, 3),
        "n_prompt_tokens": result.n_prompt_tokens,
        "n_cached_tokens": result.n_cached_tokens,
        "n_predicted": result.n_predicted,
        "stop_reason": result.stop_reason,
        "multiline": int(result.multiline),
        "from_cache": int(bool(getattr(result, "from_cache", False))),
        "path": request.path,
        "language": language,
        "cursor_line": request.cursor_line,
        "redactions": n_redacted,
    }


__all__ = ["REDACTED", "AuditLog", "AuditLogError", "AuditRecord", "audit_path"]
