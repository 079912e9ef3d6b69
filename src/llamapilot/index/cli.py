"""``llamapilot index [PATH]`` and ``llamapilot search QUERY``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "index",
        help="index a workspace for repository-aware completions",
        description="Build or update the index of a workspace folder (files, symbols, and "
        "chunks searchable with BM25) in PATH/.llamapilot/index.db. Only changed files are "
        "read again. Respects .gitignore and .llamapilotignore; skips binary, huge, "
        "generated and secret files, and redacts secret-looking strings.",
    )
    p.add_argument("path", nargs="?", default=".", help="workspace folder (default: .)")
    p.add_argument(
        "--in-data-dir",
        action="store_true",
        help="keep the index in the user's data directory instead of PATH/.llamapilot",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: for big trees on a terminal)",
    )
    p.add_argument("--json", action="store_true", help="print the statistics as JSON")
    p.set_defaults(handler=run_index)

    s = sub.add_parser(
        "search",
        help="show what the workspace index finds for a query",
        description="Search the index of the workspace holding --path (found by walking up "
        "from it): definitions of the identifiers in QUERY, then chunks ranked by BM25.",
    )
    s.add_argument("query", help="code or identifiers to look for")
    s.add_argument("--path", default=".", help="a file or folder in the workspace (default: .)")
    s.add_argument("--limit", type=int, default=10, help="most chunks to show (default: 10)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(handler=run_search)


def _data_dir() -> Path:
    from llamapilot.config import load_settings

    return load_settings().data_dir


def run_index(args: argparse.Namespace) -> int:
    from llamapilot.index.workspace import WorkspaceIndex, index_db_path

    root = Path(args.path)
    db = index_db_path(root, _data_dir()) if args.in_data_dir else None
    with WorkspaceIndex(root, db) as index:
        stats = index.build(progress=args.progress)
        counts = index.counts()
        if args.json:
            print(json.dumps({**stats.to_dict(), **counts, "index": str(index.db_path)}))
        else:
            skipped = ", ".join(f"{n} {why}" for why, n in sorted(stats.skipped.items()))
            print(
                f"indexed {counts['files']} files ({stats.added} added, {stats.updated} "
                f"updated, {stats.unchanged} unchanged, {stats.removed} removed"
                f"{'; skipped ' + skipped if skipped else ''}), {counts['symbols']} symbols, "
                f"{counts['chunks']} chunks in {stats.seconds:.2f} s → {index.db_path}"
            )
    return 0


def run_search(args: argparse.Namespace) -> int:
    from llamapilot.errors import InputError
    from llamapilot.index.chunks import identifiers
    from llamapilot.index.workspace import WorkspaceIndex, find_workspace_index

    if args.limit < 1:
        raise InputError("--limit must be at least 1", param="limit")
    db = find_workspace_index(args.path, _data_dir())
    if db is None:
        raise InputError(
            f"no workspace index holds {args.path}; build one with: llamapilot index FOLDER",
            param="path",
        )
    with WorkspaceIndex.open(db) as index:
        names = list(dict.fromkeys(identifiers(args.query)))
        defs = index.definitions(names)
        hits = index.search(args.query, limit=args.limit)
        if args.json:
            print(
                json.dumps(
                    {
                        "index": str(db),
                        "definitions": [
                            {
                                "name": d.name,
                                "kind": d.kind,
                                "path": d.path,
                                "start_line": d.start_line,
                                "end_line": d.end_line,
                            }
                            for d in defs
                        ],
                        "chunks": [
                            {
                                "path": h.path,
                                "start_line": h.start_line,
                                "end_line": h.end_line,
                                "score": round(h.score, 4),
                                "text": h.text,
                            }
                            for h in hits
                        ],
                    },
                    ensure_ascii=False,
                )
            )
            return 0
        out = sys.stdout
        for d in defs:
            out.write(f"{d.path}:{d.start_line}-{d.end_line}  {d.kind} {d.name}\n")
        if defs and hits:
            out.write("\n")
        for h in hits:
            first = next((ln.strip() for ln in h.text.split("\n") if ln.strip()), "")
            out.write(f"{h.path}:{h.start_line}-{h.end_line}  {h.score:.2f}  {first[:80]}\n")
        if not defs and not hits:
            print("no matches", file=sys.stderr)
            return 1
    return 0
