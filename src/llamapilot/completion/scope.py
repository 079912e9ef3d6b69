"""Tree-sitter helpers for post-processing: parse a window, count syntax errors.

Grammars come from the per-language wheels (``tree-sitter-python`` and friends), which ship
compiled grammars and work offline. A language without a grammar gets ``None`` everywhere,
and the caller falls back to indentation and brackets.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Sequence

from tree_sitter import Language, Node, Parser, Tree

# language id -> (module, function returning the grammar)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "javascriptreact": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "typescriptreact": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}

# Text handed to the parser around the cursor: enough for the enclosing definitions.
MAX_PREFIX_LINES = 200
MAX_SUFFIX_LINES = 100


class Grammars:
    """Lazily built tree-sitter parsers, one per language, reused for every parse.

    Not thread-safe (tree-sitter parsers are not); the completion service serializes calls.
    """

    def __init__(self) -> None:
        self._parsers: dict[str, Parser | None] = {}
        self.parses = 0
        """How many parses this registry ran (for tests and diagnostics)."""

    def supports(self, language: str | None) -> bool:
        return self.parser(language) is not None

    def parser(self, language: str | None) -> Parser | None:
        if language is None or language not in _GRAMMARS:
            return None
        if language not in self._parsers:
            self._parsers[language] = _load_parser(language)
        return self._parsers[language]

    def parse(self, language: str | None, text: str) -> Tree | None:
        parser = self.parser(language)
        if parser is None:
            return None
        self.parses += 1
        return parser.parse(text.encode("utf-8"))

    def error_count(self, language: str | None, text: str) -> int | None:
        """ERROR and MISSING nodes in ``text``; None without a grammar."""
        tree = self.parse(language, text)
        return None if tree is None else count_errors(tree.root_node)


def _load_parser(language: str) -> Parser | None:
    module_name, function = _GRAMMARS[language]
    try:
        module = importlib.import_module(module_name)
        return Parser(Language(getattr(module, function)()))
    except (ImportError, AttributeError, ValueError):
        return None


@functools.lru_cache(maxsize=1)
def default_grammars() -> Grammars:
    """A shared registry for callers that do not pass their own (a cache, built on use)."""
    return Grammars()


def count_errors(node: Node) -> int:
    """ERROR and MISSING nodes under ``node``, visiting only subtrees that contain errors."""
    count = 0
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_error or current.is_missing:
            count += 1
        if current.has_error:
            stack.extend(current.children)
    return count


def _tail_lines(text: str, n: int) -> str:
    pos = len(text)
    for _ in range(n):
        pos = text.rfind("\n", 0, pos)
        if pos < 0:
            return text
    return text[pos + 1 :]


def _head_lines(text: str, n: int) -> str:
    pos = -1
    for _ in range(n):
        pos = text.find("\n", pos + 1)
        if pos < 0:
            return text
    return text[:pos]


def most_parseable(
    grammars: Grammars,
    language: str | None,
    prefix: str,
    candidates: Sequence[str],
    suffix: str,
) -> int | None:
    """Index of the candidate that leaves ``prefix + candidate + suffix`` with fewest errors.

    The last (longest) candidate is kept when it parses, and also when the text around the
    cursor does not parse by itself (a window that starts inside a string, unfinished code):
    error counts then say nothing about the candidates. Otherwise candidates are tried from
    the longest down; the first without errors wins, else the fewest errors (ties go to the
    longer). None without a grammar.
    """
    if not candidates or not grammars.supports(language):
        return None
    before = _tail_lines(prefix, MAX_PREFIX_LINES)
    after = _head_lines(suffix, MAX_SUFFIX_LINES)
    last = len(candidates) - 1
    best_errors = grammars.error_count(language, before + candidates[last] + after)
    if not best_errors or grammars.error_count(language, before + after):
        return last
    best_index = last
    for index in range(last - 1, -1, -1):
        errors = grammars.error_count(language, before + candidates[index] + after) or 0
        if errors < best_errors:
            best_index, best_errors = index, errors
        if errors == 0:
            break
    return best_index
