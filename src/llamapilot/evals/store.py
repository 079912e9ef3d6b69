"""A run's results on disk: ``meta.json`` plus one JSONL file per benchmark, one record per
task, appended as each task finishes — so an interrupted run resumes where it stopped."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from llamapilot.errors import InputError

T = TypeVar("T")


@dataclass
class RunStore:
    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    def results_path(self, bench: str) -> Path:
        return self.root / f"{bench}.jsonl"

    def meta_path(self, bench: str) -> Path:
        return self.root / f"{bench}.meta.json"

    def load(self, bench: str) -> list[dict[str, Any]]:
        """The finished records (a last line cut short by a crash is ignored)."""
        path = self.results_path(bench)
        if not path.is_file():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def done(self, bench: str) -> set[str]:
        return {r["task_id"] for r in self.load(bench)}

    def begin(self, bench: str, meta: dict[str, Any]) -> None:
        """Record what is being run; a rerun must evaluate the same thing."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.meta_path(bench)
        if path.is_file():
            old = json.loads(path.read_text(encoding="utf-8"))
            keys = ("backend", "model", "model_sha256", "base_url", "samples", "candidates")
            diff = [k for k in keys if k in old and k in meta and old[k] != meta[k]]
            if diff and self.load(bench):
                raise InputError(
                    f"{self.root} holds a {bench} run of a different setup ({', '.join(diff)} "
                    "differ); use another --out directory"
                )
            meta = {**old, **meta, "started": old.get("started")}
        else:
            meta = {**meta, "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    def meta(self, bench: str) -> dict[str, Any]:
        path = self.meta_path(bench)
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def append(self, bench: str, record: dict[str, Any]) -> None:
        with self.results_path(bench).open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()

    def benches(self) -> list[str]:
        return sorted(p.name[: -len(".meta.json")] for p in self.root.glob("*.meta.json"))


def progress(items: Iterable[T], total: int, desc: str, enabled: bool = True) -> Iterator[T]:
    """A progress bar on stderr (tqdm), or the plain items when disabled."""
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, unit="task", dynamic_ncols=True)
