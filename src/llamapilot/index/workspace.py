"""The workspace index: building it, keeping it current, and querying it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from llamapilot.errors import InputError
from llamapilot.index.chunks import chunk_terms, split_chunks, terms
from llamapilot.index.ignore import (
    DEFAULT_IGNORED_DIRS,
    IGNORE_FILES,
    IgnoreRules,
    is_binary,
    is_generated,
    looks_minified,
)
from llamapilot.index.secrets import SECRET_DIRS, holds_private_key, is_secret_file, redact
from llamapilot.index.store import IndexStore
from llamapilot.index.symbols import SymbolExtractor
from llamapilot.languages import language_from_path

INDEX_DIR = ".llamapilot"
INDEX_FILE = "index.db"
MAX_FILE_BYTES = 1_000_000
BATCH_FILES = 64
"""Files per write transaction: a killed run keeps every finished batch."""
PROGRESS_MIN_FILES = 200
TEXT_EXTENSIONS = frozenset({".txt", ".rst", ".cfg", ".ini", ".cmake", ".gradle", ".proto"})
TEXT_NAMES = frozenset({"Makefile", "Dockerfile", "CMakeLists.txt", "Rakefile", "Gemfile"})


@dataclass
class IndexStats:
    files: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": dict(self.skipped),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class SearchHit:
    path: str
    start_line: int
    end_line: int
    text: str
    score: float
    """BM25 relevance (higher is better)."""


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str
    path: str
    start_line: int
    end_line: int
    members: tuple[tuple[str, int], ...] = ()
    """Definitions nested inside (name, line), for outlines of long classes."""


def index_db_path(root: Path, data_dir: Path | None = None) -> Path:
    """Where a workspace's index lives: ``<root>/.llamapilot/index.db``, or, with
    ``data_dir``, a folder in the user's data directory named after the root's path."""
    root = Path(root).resolve()
    if data_dir is None:
        return root / INDEX_DIR / INDEX_FILE
    key = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    return Path(data_dir) / "indexes" / f"{root.name}-{key}" / INDEX_FILE


def find_workspace_index(path: str | os.PathLike[str], data_dir: Path | None = None) -> Path | None:
    """The index of the workspace that holds ``path``: walk up from it to the first folder
    with an index (in the folder, or for that folder in ``data_dir``)."""
    p = Path(path).expanduser().resolve()
    start = p if p.is_dir() else p.parent
    for folder in (start, *start.parents):
        candidates = [index_db_path(folder)]
        if data_dir is not None:
            candidates.append(index_db_path(folder, data_dir))
        for c in candidates:
            if c.is_file():
                return c
    return None


class WorkspaceIndex:
    """An index of one workspace folder. Safe to share between threads; several processes
    may open the same index (one writes at a time, the others wait)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        db_path: Path | None = None,
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise InputError(f"{root}: not a folder", param="path")
        self.db_path = Path(db_path) if db_path else index_db_path(self.root)
        self.max_file_bytes = max_file_bytes
        self._mutex = threading.RLock()
        self._extractor = SymbolExtractor()
        if self.db_path.parent.name == INDEX_DIR and not self.db_path.parent.exists():
            self.db_path.parent.mkdir(mode=0o700)
            (self.db_path.parent / ".gitignore").write_text("*\n")
        self.store = IndexStore(self.db_path)
        self._content_cache: dict[str, tuple[str, list[str]]] = {}
        self._writes = 0
        if self.store.conn.execute("SELECT 1 FROM meta WHERE key = 'root'").fetchone() is None:
            with self.store.writer() as conn:
                conn.execute(
                    "INSERT INTO meta VALUES ('root', ?) ON CONFLICT(key) DO NOTHING",
                    (str(self.root),),
                )

    @classmethod
    def open(cls, db_path: Path) -> WorkspaceIndex:
        """Open an existing index (its root is recorded inside)."""
        store = IndexStore(db_path)
        try:
            row = store.conn.execute("SELECT value FROM meta WHERE key = 'root'").fetchone()
        finally:
            store.close()
        if row is None:
            raise InputError(f"{db_path}: not a llamapilot index", param="path")
        return cls(row[0], db_path)

    def generation(self) -> tuple[int, int]:
        """Changes whenever this process or another one changed the index."""
        with self._mutex:
            return self._writes, self.store.conn.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        with self._mutex:
            self.store.close()

    def __enter__(self) -> WorkspaceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- paths --------------------------------------------------------------------------
    def relative(self, path: str | os.PathLike[str]) -> str | None:
        """``path`` as a '/'-separated path relative to the root, or None if outside it.
        Relative paths are taken from the current folder, else from the root."""
        p = Path(path).expanduser()
        cands = [p] if p.is_absolute() else [Path.cwd() / p, self.root / p]
        cands.sort(key=lambda c: not c.exists())  # an existing file wins
        for cand in cands:
            try:
                rel = cand.resolve().relative_to(self.root)
            except (ValueError, OSError):
                continue
            if str(rel) != ".":
                return rel.as_posix()
        return None

    # --- building -----------------------------------------------------------------------
    def _walk(self, stats: IndexStats) -> list[tuple[str, Path]]:
        rules = IgnoreRules()
        found: list[tuple[str, Path]] = []
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            d = Path(dirpath)
            rel_dir = d.relative_to(self.root).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir
            for name in IGNORE_FILES:
                if name in filenames:
                    with contextlib.suppress(OSError):
                        rules.add(rel_dir, (d / name).read_text(encoding="utf-8", errors="replace"))
            keep = []
            for name in sorted(dirnames):
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if name in DEFAULT_IGNORED_DIRS or name in SECRET_DIRS:
                    continue
                if (d / name).is_symlink() or rules.ignored(rel, True):
                    continue
                keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if name in IGNORE_FILES:
                    continue
                if rules.ignored(rel, False):
                    stats.skip("ignored")
                    continue
                if (d / name).is_symlink():
                    stats.skip("symlink")
                    continue
                found.append((rel, d / name))
        return found

    def _rules_for(self, rel: str) -> IgnoreRules:
        rules = IgnoreRules()
        parts = PurePosixPath(rel).parts[:-1]
        for k in range(len(parts) + 1):
            base = "/".join(parts[:k])
            for name in IGNORE_FILES:
                f = self.root / base / name
                if f.is_file():
                    rules.add(base, f.read_text(encoding="utf-8", errors="replace"))
        return rules

    def _read(self, rel: str, path: Path, stats: IndexStats) -> tuple[str, str] | None:
        """(redacted text, sha256) of a file worth indexing, else None (reason counted)."""
        name = path.name
        if is_secret_file(rel):
            stats.skip("secret")
            return None
        if (
            language_from_path(name) is None
            and path.suffix.lower() not in TEXT_EXTENSIONS
            and (name not in TEXT_NAMES)
        ):
            stats.skip("not code")
            return None
        try:
            size = path.stat().st_size
            if size > self.max_file_bytes:
                stats.skip("too large")
                return None
            data = path.read_bytes()
        except OSError:
            stats.skip("unreadable")
            return None
        if is_binary(name, data):
            stats.skip("binary")
            return None
        if is_generated(name, data):
            stats.skip("generated")
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            stats.skip("binary")
            return None
        if looks_minified(text):
            stats.skip("generated")
            return None
        if holds_private_key(text):
            stats.skip("secret")
            return None
        return redact(text.replace("\r\n", "\n")), hashlib.sha256(data).hexdigest()

    def build(self, *, progress: bool | None = None) -> IndexStats:
        """Index the workspace: new and changed files (by mtime and size, then by hash) are
        read; removed, newly ignored and unreadable files leave the index."""
        t0 = time.perf_counter()
        stats = IndexStats()
        with self._mutex, self.store.lock():
            files = self._walk(stats)
            stats.files = len(files)
            known = {
                r["path"]: (r["id"], r["size"], r["mtime_ns"], r["sha256"])
                for r in self.store.conn.execute(
                    "SELECT id, path, size, mtime_ns, sha256 FROM files"
                )
            }
            show = (
                progress
                if progress is not None
                else (len(files) >= PROGRESS_MIN_FILES and sys.stderr.isatty())
            )
            bar = _progress(len(files), show)
            seen: set[str] = set()
            try:
                for i in range(0, len(files), BATCH_FILES):
                    with self.store.writer() as conn:
                        for rel, path in files[i : i + BATCH_FILES]:
                            if self._index_one(conn, rel, path, known.get(rel), stats):
                                seen.add(rel)
                            bar.update(1)
            finally:
                bar.close()
            gone = [rel for rel in known if rel not in seen]
            with self.store.writer() as conn:
                for rel in gone:
                    self._delete(conn, known[rel][0])
                stats.removed = len(gone)
            self._content_cache.clear()
            self._writes += 1
        stats.seconds = time.perf_counter() - t0
        return stats

    def update_file(self, path: str | os.PathLike[str]) -> bool:
        """Bring one file up to date (after a save): re-index it if it changed, drop it if it
        is gone or not indexable. Returns whether the index changed."""
        rel = self.relative(path)
        if rel is None:
            return False
        stats = IndexStats()
        with self._mutex, self.store.writer() as conn:
            row = conn.execute(
                "SELECT id, size, mtime_ns, sha256 FROM files WHERE path = ?", (rel,)
            ).fetchone()
            known = tuple(row) if row else None
            full = self.root / rel
            indexable = (
                full.is_file()
                and not full.is_symlink()
                and not any(p in DEFAULT_IGNORED_DIRS or p in SECRET_DIRS for p in rel.split("/"))
                and not self._rules_for(rel).path_ignored(rel)
            )
            if indexable and self._index_one(conn, rel, full, known, stats):
                changed = bool(stats.added or stats.updated)
            elif known:
                self._delete(conn, known[0])
                changed = True
            else:
                changed = False
            self._content_cache.pop(rel, None)
            self._writes += 1
        return changed

    def _index_one(self, conn, rel: str, path: Path, known, stats: IndexStats) -> bool:  # type: ignore[no-untyped-def]
        """Index one file if needed; False if it must not be in the index."""
        try:
            st = path.stat()
        except OSError:
            stats.skip("unreadable")
            return False
        if known and known[1] == st.st_size and known[2] == st.st_mtime_ns:
            stats.unchanged += 1
            return True
        read = self._read(rel, path, stats)
        if read is None:
            return False
        text, digest = read
        if known and known[3] == digest:
            conn.execute(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?",
                (st.st_size, st.st_mtime_ns, known[0]),
            )
            stats.unchanged += 1
            return True
        if known:
            self._delete(conn, known[0])
            stats.updated += 1
        else:
            stats.added += 1
        language = language_from_path(rel)
        file_id = conn.execute(
            "INSERT INTO files (path, language, size, mtime_ns, sha256, content, indexed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rel, language, st.st_size, st.st_mtime_ns, digest, text, time.time()),
        ).lastrowid
        conn.executemany(
            "INSERT INTO symbols (file_id, name, kind, role, start_line, end_line) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (file_id, s.name, s.kind, s.role, s.start_line, s.end_line)
                for s in self._extractor.extract(text, language)
            ],
        )
        chunks = split_chunks(text)
        stem = " ".join(terms(PurePosixPath(rel).stem))
        for chunk, body in zip(chunks, chunk_terms(text, chunks), strict=True):
            cid = conn.execute(
                "INSERT INTO chunks (file_id, start_line, end_line) VALUES (?, ?, ?)",
                (file_id, chunk.start_line, chunk.end_line),
            ).lastrowid
            conn.execute(
                "INSERT INTO chunks_fts (rowid, terms) VALUES (?, ?)", (cid, body + " " + stem)
            )
        return True

    @staticmethod
    def _delete(conn, file_id: int) -> None:  # type: ignore[no-untyped-def]
        conn.execute(
            "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE file_id = ?)",
            (file_id,),
        )
        conn.execute("DELETE FROM files WHERE id = ?", (file_id,))

    # --- queries ------------------------------------------------------------------------
    def lines(self, rel: str) -> list[str]:
        """The indexed (redacted) lines of a file; [] if it is not in the index."""
        with self._mutex:
            row = self.store.conn.execute(
                "SELECT sha256, content FROM files WHERE path = ?", (rel,)
            ).fetchone()
            if row is None:
                return []
            cached = self._content_cache.get(rel)
            if cached and cached[0] == row[0]:
                return cached[1]
            lines = row[1].split("\n")
            if len(self._content_cache) > 256:
                self._content_cache.clear()
            self._content_cache[rel] = (row[0], lines)
            return lines

    def text(self, rel: str, start_line: int, end_line: int) -> str:
        return "\n".join(self.lines(rel)[start_line - 1 : end_line])

    def search(
        self, query: str, *, limit: int = 10, exclude: str | None = None, max_terms: int = 64
    ) -> list[SearchHit]:
        """Chunks ranked by BM25 against the identifiers of ``query``."""
        qterms: list[str] = []
        for t in terms(query):
            if t not in qterms:
                qterms.append(t)
        qterms = qterms[-max_terms:]
        if not qterms:
            return []
        match = " OR ".join(f'"{t}"' for t in qterms)
        with self._mutex:
            rows = self.store.conn.execute(
                "SELECT f.path, c.start_line, c.end_line, bm25(chunks_fts) AS score "
                "FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
                "JOIN files f ON f.id = c.file_id "
                "WHERE chunks_fts MATCH ? AND f.path IS NOT ? ORDER BY score LIMIT ?",
                (match, exclude, limit),
            ).fetchall()
            return [
                SearchHit(r[0], r[1], r[2], self.text(r[0], r[1], r[2]), -float(r[3])) for r in rows
            ]

    def definitions(self, names: list[str], *, exclude: str | None = None) -> list[Definition]:
        """Definitions of any of ``names`` (outside the file ``exclude``)."""
        if not names:
            return []
        out: list[Definition] = []
        with self._mutex:
            conn = self.store.conn
            for i in range(0, len(names), 500):
                part = names[i : i + 500]
                marks = ",".join("?" * len(part))
                rows = conn.execute(
                    "SELECT s.name, s.kind, s.start_line, s.end_line, f.path, s.file_id "
                    "FROM symbols s JOIN files f ON f.id = s.file_id "
                    f"WHERE s.role = 'definition' AND s.name IN ({marks}) AND f.path IS NOT ? "
                    "ORDER BY f.path, s.start_line",
                    (*part, exclude),
                ).fetchall()
                for r in rows:
                    members: tuple[tuple[str, int], ...] = ()
                    if r[3] - r[2] > 12:
                        members = tuple(
                            (m[0], m[1])
                            for m in conn.execute(
                                "SELECT name, start_line FROM symbols WHERE file_id = ? AND "
                                "role = 'definition' AND start_line > ? AND end_line <= ? "
                                "ORDER BY start_line",
                                (r[5], r[2], r[3]),
                            )
                        )
                    out.append(Definition(r[0], r[1], r[4], r[2], r[3], members))
        return out

    def counts(self) -> dict[str, int]:
        with self._mutex:
            c = self.store.conn
            return {
                "files": c.execute("SELECT count(*) FROM files").fetchone()[0],
                "symbols": c.execute("SELECT count(*) FROM symbols").fetchone()[0],
                "chunks": c.execute("SELECT count(*) FROM chunks").fetchone()[0],
            }


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, show: bool):  # type: ignore[no-untyped-def]
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, unit="file", desc="indexing", leave=False)
