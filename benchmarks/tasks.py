"""Next-line tasks from real source that no one here wrote: an installed PyPI package.

The default corpus is ``h11`` (MIT), a pure-Python HTTP/1.1 library installed as a
dependency of uvicorn. Tasks are picked deterministically (seeded) so runs compare.
"""

from __future__ import annotations

import importlib.util
import random
from dataclasses import dataclass
from pathlib import Path


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
        raise SystemExit(f"package {package!r} is not installed")
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
