"""Helpers for index tests: small workspaces written on disk."""

from __future__ import annotations

from pathlib import Path


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)


def indexed_paths(index) -> set[str]:  # type: ignore[no-untyped-def]
    return {r[0] for r in index.store.conn.execute("SELECT path FROM files")}


def many_files(root: Path, n: int) -> None:
    """``n`` small Python modules that import each other."""
    for i in range(n):
        p = root / f"pkg{i // 100}" / f"mod{i}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(
            f"from pkg0.mod{max(0, i - 1)} import helper_{max(0, i - 1)}\n\n\n"
            f"def helper_{i}(value: int) -> int:\n"
            f'    """Add {i} to value."""\n'
            f"    return helper_{max(0, i - 1)}(value) + {i}\n"
            + "".join(f"\nCONSTANT_{i}_{k} = {k}\n" for k in range(20))
        )
