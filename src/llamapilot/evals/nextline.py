"""Next-line completion on real source no one here wrote (an installed PyPI package, ``h11``
by default): exact match and edit similarity of the first line, without and with retrieval
of related code from the package's other files."""

from __future__ import annotations

import importlib.util
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llamapilot.context.snippets import Snippet
from llamapilot.errors import InputError
from llamapilot.evals.metrics import edit_similarity, exact_match
from llamapilot.evals.store import RunStore, progress

if TYPE_CHECKING:
    from llamapilot.evals.backends import EvalBackend

BENCH = "nextline"


@dataclass(frozen=True)
class NextLineTask:
    path: str
    text: str
    """The document with the target line's content masked (the cursor sits after the
    line's indentation)."""
    line: int  # 0-based
    column: int  # 0-based
    expected: str  # the masked line's content, without its indentation

    @property
    def task_id(self) -> str:
        return f"{self.path}:{self.line + 1}"

    @property
    def prefix(self) -> str:
        lines = self.text.split("\n")
        return "\n".join(lines[: self.line]) + "\n" + lines[self.line][: self.column]

    @property
    def suffix(self) -> str:
        lines = self.text.split("\n")
        return lines[self.line][self.column :] + "\n" + "\n".join(lines[self.line + 1 :])


def package_files(package: str) -> list[Path]:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"package {package!r} is not installed", param="package")
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _eligible(lines: list[str], i: int) -> bool:
    s = lines[i].strip()
    if len(s) < 6 or s.startswith(("#", '"""', "'''", "@")):
        return False
    if i < 5:
        return False
    # skip docstring bodies: an odd number of triple quotes before this line
    before = "\n".join(lines[:i])
    return before.count('"""') % 2 == 0 and before.count("'''") % 2 == 0


def nextline_tasks(package: str = "h11", n: int = 50, seed: int = 0) -> list[NextLineTask]:
    """``n`` lines picked deterministically (seeded) so runs compare."""
    rng = random.Random(seed)
    candidates: list[tuple[Path, int]] = []
    files = {p: p.read_text(encoding="utf-8") for p in package_files(package)}
    for p, text in files.items():
        lines = text.split("\n")
        candidates += [(p, i) for i in range(len(lines)) if _eligible(lines, i)]
    picked = rng.sample(candidates, min(n, len(candidates)))
    tasks = []
    for p, i in sorted(picked):
        lines = files[p].split("\n")
        target = lines[i]
        indent = len(target) - len(target.lstrip())
        masked = lines[:i] + [target[:indent]] + lines[i + 1 :]
        tasks.append(
            NextLineTask(
                path=f"{package}/{p.name}",
                text="\n".join(masked),
                line=i,
                column=indent,
                expected=target.strip(),
            )
        )
    return tasks


_IDENT = re.compile(r"[A-Za-z_]\w+")


@dataclass
class Retriever:
    """Chunks of the package's other files ranked by Jaccard similarity of identifiers
    against the lines above the cursor (Copilot's neighbouring-file snippets, simplified)."""

    package: str
    chunk_lines: int = 30
    top: int = 3

    def __post_init__(self) -> None:
        self.chunks: list[tuple[str, int, str, set[str]]] = []
        for p in package_files(self.package):
            lines = p.read_text(encoding="utf-8").split("\n")
            step = self.chunk_lines // 2
            for start in range(0, max(1, len(lines) - step), step):
                body = "\n".join(lines[start : start + self.chunk_lines])
                name = f"{self.package}/{p.name}"
                self.chunks.append((name, start, body, set(_IDENT.findall(body))))

    def __call__(self, path: str, prefix: str) -> list[Snippet]:
        window = set(_IDENT.findall("\n".join(prefix.split("\n")[-self.chunk_lines :])))
        if not window:
            return []
        scored = []
        for name, start, body, idents in self.chunks:
            if name == path:
                continue
            score = len(window & idents) / max(1, len(window | idents))
            scored.append((score, name, start, body))
        scored.sort(key=lambda x: -x[0])
        return [
            Snippet(body, name, start + 1, start + self.chunk_lines, "similar", score)
            for score, name, start, body in scored[: self.top]
            if score > 0
        ]


def run(
    backend: EvalBackend,
    store: RunStore,
    *,
    package: str = "h11",
    limit: int | None = 50,
    seed: int = 0,
    show_progress: bool = True,
) -> dict[str, Any]:
    store.begin(BENCH, {**backend.describe(), "package": package, "limit": limit, "seed": seed})
    done = store.done(BENCH)
    retriever = Retriever(package)
    todo = [t for t in nextline_tasks(package, limit or 10_000, seed) if t.task_id not in done]
    for t in progress(todo, len(todo), f"nextline {backend.name}", show_progress):
        record: dict[str, Any] = {"task_id": t.task_id, "expected": t.expected}
        for mode, extra in (("plain", []), ("retrieval", retriever(t.path, t.prefix))):
            t0 = time.monotonic()
            got = backend.nextline(t.prefix, t.suffix, t.path, extra).strip()
            record[mode] = {
                "completion": got,
                "exact": exact_match(got, t.expected),
                "edit_similarity": round(edit_similarity(got, t.expected), 4),
                "generate_s": round(time.monotonic() - t0, 3),
            }
        store.append(BENCH, record)
    return summarize(store.load(BENCH))


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"tasks": len(records)}
    for mode in ("plain", "retrieval"):
        rs = [r[mode] for r in records if mode in r]
        if rs:
            out[mode] = {
                "exact_match": round(sum(x["exact"] for x in rs) / len(rs), 4),
                "edit_similarity": round(sum(x["edit_similarity"] for x in rs) / len(rs), 4),
            }
    return out
