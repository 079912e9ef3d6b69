"""Imports a written function forgot: standard-library modules and a few well-known names
that the code uses but nothing in the file defines or imports (``math.sqrt`` without
``import math``, ``Counter(...)`` without ``from collections import Counter``). A small
model often writes such code; adding the import is what an editor's quick fix would do."""

from __future__ import annotations

import ast
import builtins

MODULES = frozenset(
    {
        "bisect", "collections", "copy", "datetime", "decimal", "fractions", "functools",
        "hashlib", "heapq", "itertools", "json", "math", "operator", "random", "re",
        "statistics", "string", "sys", "typing",
    }
)  # fmt: skip
NAMES = {
    "Counter": "collections",
    "OrderedDict": "collections",
    "defaultdict": "collections",
    "deque": "collections",
    "reduce": "functools",
    "lru_cache": "functools",
    "cache": "functools",
    "md5": "hashlib",
    "sha256": "hashlib",
    "List": "typing",
    "Dict": "typing",
    "Tuple": "typing",
    "Set": "typing",
    "Optional": "typing",
    "Any": "typing",
    "Union": "typing",
}
"""Names imported from a module (``from MODULE import NAME``)."""


def _bound_and_used(tree: ast.AST) -> tuple[set[str], set[str]]:
    bound: set[str] = set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, used


def missing_imports(source: str) -> list[str]:
    """The import statements ``source`` needs (empty if it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    bound, used = _bound_and_used(tree)
    wanted = sorted(used - bound - set(dir(builtins)))
    out = []
    for name in wanted:
        if name in MODULES:
            out.append(f"import {name}")
        elif name in NAMES:
            out.append(f"from {NAMES[name]} import {name}")
    return out


def with_missing_imports(prefix: str, body: str) -> str:
    """``body`` (written after ``prefix``) starting with the imports it lacks, as local
    imports so the change stays inside the function."""
    needed = missing_imports(prefix + body)
    if not needed:
        return body
    first = next((ln for ln in body.split("\n") if ln.strip()), "    ")
    indent = first[: len(first) - len(first.lstrip())] or "    "
    return "".join(f"{indent}{line}\n" for line in needed) + body
