"""Repository context for completions: a context provider over the workspace index.

For a request it gathers, in this order of priority, until a character budget is full:

1. ``definition``: the definitions (from other files) of the symbols used around the cursor,
   nearest use first, definitions in the files the document imports preferred; long
   definitions shrink to an outline (header and member lines);
2. ``recent``: chunks of recently viewed or edited files (:meth:`remember`) ranked by Jaccard
   similarity of their identifier sets with the code around the cursor;
3. ``similar``: chunks of the workspace ranked by BM25 against that code;

and returns them worst first, so that the best ends up nearest the code in the prompt.

The query is the complete lines around the cursor line, not the line being typed, and the
result for a query is cached, so the snippets — which come first in the prompt — stay the
same while the user types on one line, and the engine reuses its KV cache. When the cursor
moves, snippets kept from the previous request keep their place and new ones follow them.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from llamapilot.completion.types import CompletionRequest
from llamapilot.context.snippets import Snippet
from llamapilot.index.chunks import identifiers, split_chunks, term_set
from llamapilot.index.secrets import redact
from llamapilot.index.workspace import Definition, WorkspaceIndex, find_workspace_index

if TYPE_CHECKING:
    from llamapilot.completion.service import CompletionService

_DEFINES = re.compile(
    r"\b(?:def|class|function|func|fn|struct|enum|interface|type|trait|union|macro_rules!)\s+"
    r"\*?([A-Za-z_]\w*)"
)
_IMPORT_LINE = re.compile(r"^\s*(?:from|import|#\s*include|use|require|using|package)\b|require\(")
_KIND_RANK = {
    "class": 0,
    "interface": 0,
    "type": 0,
    "function": 1,
    "method": 2,
    "macro": 1,
    "module": 3,
    "constant": 2,
    "field": 4,
}
_NAME_USE = re.compile(r"(\.\s*)?\b([A-Za-z_]\w*)")
_MEMBER_KINDS = frozenset({"method", "field"})
SNIPPET_OVERHEAD = 40
"""Characters a template adds around each snippet (path comment, fences)."""


@dataclass
class RetrievalConfig:
    lines_before: int = 24
    """Complete lines before the cursor line that make the query."""
    lines_after: int = 6
    definition_lines: int = 12
    """Lines before the cursor whose names are looked up (nearest first)."""
    definition_share: float = 0.5
    """Most of the budget that definitions may take."""
    recent_share: float = 0.25
    max_definition_lines: int = 14
    max_definitions_per_name: int = 2
    ambiguous_names: int = 4
    """Names defined more often than this are too common to look up (unless imported)."""
    similar_candidates: int = 16
    recent_files: int = 16
    cache_size: int = 64
    best_last: bool = True
    """Order snippets worst first, so the best ends up nearest the code (measured on h11:
    next-line EM 8% best first, 10% best last, 6% without retrieval)."""


@dataclass
class WorkspaceRetriever:
    """The context provider for one workspace index (``Callable[[CompletionRequest],
    list[Snippet]]``); thread-safe."""

    index: WorkspaceIndex
    budget_chars: int
    config: RetrievalConfig = field(default_factory=RetrievalConfig)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _cache: OrderedDict[tuple[object, ...], list[Snippet]] = field(
        default_factory=OrderedDict, repr=False
    )
    _previous: dict[str | None, list[Snippet]] = field(default_factory=dict, repr=False)
    _recent: OrderedDict[str, str] = field(default_factory=OrderedDict, repr=False)

    # --- recent files -------------------------------------------------------------------
    def remember(self, path: str, text: str) -> None:
        """Note a file the user viewed or edited (most recent last)."""
        rel = self.index.relative(path) or path
        with self._lock:
            self._recent.pop(rel, None)
            self._recent[rel] = redact(text)
            while len(self._recent) > self.config.recent_files:
                self._recent.popitem(last=False)

    # --- the provider -------------------------------------------------------------------
    def __call__(self, request: CompletionRequest) -> list[Snippet]:
        rel = self.index.relative(request.path) if request.path else None
        before, after = _query_window(request, self.config)
        with self._lock:
            extra = tuple((e.path, e.start_line, e.end_line, len(e.text)) for e in request.extra)
            key = (rel, before, after, extra, tuple(self._recent), self.index.generation())
            found = self._cache.get(key)
            if found is None:
                found = self._retrieve(request, rel, before, after)
                self._cache[key] = found
                while len(self._cache) > self.config.cache_size:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key)
            ordered = _stable_merge(self._previous.get(rel, []), found)
            self._previous[rel] = ordered
            return list(ordered)

    def _retrieve(
        self, request: CompletionRequest, rel: str | None, before: str, after: str
    ) -> list[Snippet]:
        # the request's own extra context goes first in the service's budget: fit in the rest
        budget = max(0, self.budget_chars - sum(len(e.text) for e in request.extra))
        taken: list[Snippet] = []
        used = 0

        def fits(text: str, limit: int) -> bool:
            return used + len(text) + SNIPPET_OVERHEAD <= limit

        def overlaps(path: str | None, a: int, b: int) -> bool:
            return any(
                s.path == path and a <= s.end_line and s.start_line <= b
                for s in (*taken, *request.extra)
            )

        # 1. definitions of the symbols used around the cursor
        def_limit = int(budget * self.config.definition_share)
        for snip in self._definitions(request, rel, before, after):
            if fits(snip.text, def_limit) and not overlaps(
                snip.path, snip.start_line, snip.end_line
            ):
                taken.append(snip)
                used += len(snip.text) + SNIPPET_OVERHEAD
        query_terms = term_set(before + "\n" + after)
        # 2. recent files by Jaccard similarity
        recent_limit = used + int(budget * self.config.recent_share)
        for snip in self._recent_chunks(rel, query_terms):
            if fits(snip.text, recent_limit) and not overlaps(
                snip.path, snip.start_line, snip.end_line
            ):
                taken.append(snip)
                used += len(snip.text) + SNIPPET_OVERHEAD
        # 3. the workspace by BM25
        hits = self.index.search(
            before + "\n" + after, limit=self.config.similar_candidates, exclude=rel
        )
        for hit in hits:
            text = hit.text.strip("\n")
            if not text.strip() or not fits(text, budget):
                continue
            if overlaps(hit.path, hit.start_line, hit.end_line):
                continue
            taken.append(
                Snippet(
                    text, hit.path, hit.start_line, hit.end_line, "similar", round(hit.score, 3)
                )
            )
            used += len(text) + SNIPPET_OVERHEAD
        return taken[::-1] if self.config.best_last else taken

    def _definitions(
        self, request: CompletionRequest, rel: str | None, before: str, after: str
    ) -> list[Snippet]:
        document = request.prefix + request.suffix
        local = set(_DEFINES.findall(document))
        # names by distance from the cursor: the lines above, nearest first, then below
        names: list[str] = []
        attributes: set[str] = set()  # used only as ``x.name``: a method or a field
        bare: set[str] = set()
        near = before.split("\n")[-self.config.definition_lines :]
        for line in [*reversed(near), *after.split("\n")[:2]]:
            for dot, name in _NAME_USE.findall(line):
                (attributes if dot else bare).add(name)
                if name not in names and name not in local and len(name) > 1:
                    names.append(name)
        if not names:
            return []
        imported, modules = _imports(document)
        by_name: dict[str, list[Definition]] = {}
        for d in self.index.definitions(names, exclude=rel):
            by_name.setdefault(d.name, []).append(d)
        out: list[Snippet] = []
        for rank, name in enumerate(names):
            defs = by_name.get(name)
            if not defs:
                continue
            preferred = [d for d in defs if PurePosixPath(d.path).stem in modules]
            if len(defs) > self.config.ambiguous_names and not preferred and name not in imported:
                continue
            defs.sort(
                key=lambda d: (
                    PurePosixPath(d.path).stem not in modules,
                    _KIND_RANK.get(d.kind, 3),
                    d.path,
                    d.start_line,
                )
            )
            if name not in bare:
                defs = [d for d in defs if d.kind in _MEMBER_KINDS]
            elif name not in attributes:
                defs = [d for d in defs if d.kind not in _MEMBER_KINDS]
            for d in defs[: self.config.max_definitions_per_name]:
                text = self._definition_text(d)
                if text.strip():
                    out.append(
                        Snippet(
                            text,
                            d.path,
                            d.start_line,
                            d.end_line,
                            "definition",
                            round(1.0 / (1 + rank), 3),
                        )
                    )
        return out

    def _definition_text(self, d: Definition) -> str:
        raw = self.index.lines(d.path)[d.start_line - 1 : d.end_line]
        limit = self.config.max_definition_lines
        lines = _without_docstrings(raw)
        if len(lines) <= limit or not d.members:  # short, or a long function: its start
            return "\n".join(lines[:limit])
        # a long class: an outline of the header (up to the line that opens the body) and
        # the first line of each member
        out: list[str] = []
        for line in raw:
            out.append(line)
            if line.rstrip().endswith((":", "{")) or len(out) >= 4:
                break
        for name, line_no in d.members:
            i = line_no - d.start_line
            while i < len(raw) - 1 and raw[i].lstrip().startswith("@") and name not in raw[i]:
                i += 1  # a decorator: show the line that defines the member
            if len(out) < i < len(raw) and raw[i] not in out:
                out.append(raw[i])
                j, depth = i, _depth(raw[i])  # a signature over several lines: all of it
                while depth > 0 and j + 1 < len(raw) and j - i < 8:
                    j += 1
                    out.append(raw[j])
                    depth += _depth(raw[j])
            if len(out) >= limit:
                break
        return "\n".join(out)

    def _recent_chunks(self, rel: str | None, query: set[str]) -> list[Snippet]:
        if not query:
            return []
        scored: list[tuple[float, Snippet]] = []
        for path, text in self._recent.items():
            if path == rel:
                continue
            for chunk in split_chunks(text):
                terms = term_set(chunk.text)
                inter = len(terms & query)
                if not inter:
                    continue
                score = inter / len(terms | query)
                scored.append(
                    (
                        score,
                        Snippet(
                            chunk.text,
                            path,
                            chunk.start_line,
                            chunk.end_line,
                            "recent",
                            round(score, 3),
                        ),
                    )
                )
        scored.sort(key=lambda p: (-p[0], p[1].path or "", p[1].start_line))
        return [s for _, s in scored]


def _depth(line: str) -> int:
    return line.count("(") + line.count("[") - line.count(")") - line.count("]")


def _without_docstrings(lines: list[str]) -> list[str]:
    """Python docstrings cut to their first line: they cost budget and rarely help."""
    out: list[str] = []
    inside: str | None = None
    for line in lines:
        s = line.strip()
        if inside is not None:
            if inside in s:
                inside = None
            continue
        quote = s[:3]
        if quote in ('"""', "'''") and s.count(quote) == 1 and out:
            out.append(line)
            inside = quote
            continue
        out.append(line)
    return out


def _query_window(request: CompletionRequest, config: RetrievalConfig) -> tuple[str, str]:
    """The complete lines before and after the cursor line (the line itself is left out
    so that typing on it does not change the query)."""
    before_lines = request.prefix.split("\n")[:-1][-config.lines_before :]
    after_lines = request.suffix.split("\n")[1 : 1 + config.lines_after]
    return "\n".join(before_lines), "\n".join(after_lines)


def _imports(document: str) -> tuple[set[str], set[str]]:
    """Names imported by the document, and the module names they come from."""
    names: set[str] = set()
    modules: set[str] = set()
    for line in document.split("\n"):
        if not _IMPORT_LINE.search(line):
            continue
        idents = identifiers(line)
        names.update(idents)
        for m in re.findall(r"[\w./\-]+", line):
            for part in re.split(r"[./\\\-]+", m):
                if part:
                    modules.add(part)
    return names, modules


def _stable_merge(previous: list[Snippet], found: list[Snippet]) -> list[Snippet]:
    """``found``, with the snippets also in ``previous`` first and in their old order (and
    as they were), so the start of the prompt stays as it was."""

    def key(s: Snippet) -> tuple[object, ...]:
        return (s.kind, s.path, s.start_line, s.end_line, s.text)

    found_keys = {key(s) for s in found}
    kept = [s for s in previous if key(s) in found_keys]
    kept_keys = {key(s) for s in kept}
    return kept + [s for s in found if key(s) not in kept_keys]


@dataclass
class WorkspaceContext:
    """A context provider that finds the workspace index of each request's file (walking up
    from it) and asks that workspace's retriever; requests without a path use ``default``."""

    budget_chars: int
    data_dir: Path | None = None
    config: RetrievalConfig = field(default_factory=RetrievalConfig)
    default: WorkspaceRetriever | None = None
    _by_db: dict[Path, WorkspaceRetriever] = field(default_factory=dict, repr=False)
    _by_folder: dict[Path, Path | None] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def retriever_for(self, path: str | os.PathLike[str]) -> WorkspaceRetriever | None:
        """The retriever of the workspace holding ``path`` (None without an index)."""
        p = Path(path).expanduser().resolve()
        folder = p if p.is_dir() else p.parent
        with self._lock:
            if folder not in self._by_folder:
                self._by_folder[folder] = find_workspace_index(folder, self.data_dir)
            db = self._by_folder[folder]
            if db is None:
                return None
            if db not in self._by_db:
                self._by_db[db] = WorkspaceRetriever(
                    WorkspaceIndex.open(db), self.budget_chars, self.config
                )
            return self._by_db[db]

    def remember(self, path: str, text: str) -> None:
        r = self.retriever_for(path)
        if r is not None:
            r.remember(path, text)

    def update_file(self, path: str) -> bool:
        """Re-index one saved file in its workspace's index (if it has one)."""
        r = self.retriever_for(path)
        return r.index.update_file(path) if r is not None else False

    def __call__(self, request: CompletionRequest) -> list[Snippet]:
        r = self.retriever_for(request.path) if request.path else self.default
        return r(request) if r is not None else []


def attach_workspace_index(
    service: CompletionService,
    path: str | os.PathLike[str] | None = None,
    *,
    data_dir: Path | None = None,
    config: RetrievalConfig | None = None,
) -> WorkspaceContext:
    """Give ``service`` repository context: every request's file is looked up in the index
    of its workspace (the nearest folder above it with ``.llamapilot/index.db``, or one
    recorded in the data directory). ``path`` (a file or folder) sets the workspace used
    for requests without a path. Calling it again returns the provider already attached."""
    from llamapilot.completion.service import CHARS_PER_TOKEN

    for p in service.context_providers:
        if isinstance(p, WorkspaceContext):
            ctx = p
            break
    else:
        ctx = WorkspaceContext(
            budget_chars=int(service.settings.context_tokens * CHARS_PER_TOKEN),
            data_dir=data_dir if data_dir is not None else service.settings.data_dir,
            config=config or RetrievalConfig(),
        )
        service.context_providers.append(ctx)
    if path is not None and ctx.default is None:
        ctx.default = ctx.retriever_for(path)
    return ctx
