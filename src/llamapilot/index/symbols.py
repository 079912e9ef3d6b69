"""Symbol definitions and references from tree-sitter, with the grammars' own tag queries
(the ``tags.scm`` each ``tree-sitter-<language>`` package ships, as Aider's repo map uses)."""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass, field
from typing import Any

# language id -> (grammar module, language function, extra tag modules)
GRAMMARS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "python": ("tree_sitter_python", "language", ()),
    "javascript": ("tree_sitter_javascript", "language", ()),
    "typescript": ("tree_sitter_typescript", "language_typescript", ("tree_sitter_javascript",)),
    "typescriptreact": ("tree_sitter_typescript", "language_tsx", ("tree_sitter_javascript",)),
    "go": ("tree_sitter_go", "language", ()),
    "rust": ("tree_sitter_rust", "language", ()),
    "java": ("tree_sitter_java", "language", ()),
    "c": ("tree_sitter_c", "language", ()),
    "cpp": ("tree_sitter_cpp", "language", ("tree_sitter_c",)),
}

# Definitions the packaged tag queries miss.
EXTRA_QUERIES: dict[str, str] = {
    "python": """
        (class_definition body: (block (expression_statement
            (assignment left: (identifier) @name) @definition.field)))
        (attribute attribute: (identifier) @name) @reference.attribute
    """,
    "go": """
        (type_spec name: (type_identifier) @name) @definition.type
        (const_spec name: (identifier) @name) @definition.constant
    """,
    "java": "(enum_declaration name: (identifier) @name) @definition.class",
}


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str
    role: str  # "definition" or "reference"
    start_line: int  # 1-based, inclusive
    end_line: int


@dataclass
class SymbolExtractor:
    """Parsers and compiled queries per language, made on first use."""

    _cache: dict[str, tuple[Any, list[Any]] | None] = field(default_factory=dict)

    def supports(self, language: str | None) -> bool:
        return language in GRAMMARS

    def _load(self, language: str) -> tuple[Any, list[Any]] | None:
        if language in self._cache:
            return self._cache[language]
        import tree_sitter as ts

        try:
            mod_name, fn, extra = GRAMMARS[language]
            mod = importlib.import_module(mod_name)
            lang = ts.Language(getattr(mod, fn)())
            queries = []
            for source in (mod_name, *extra):
                text = getattr(importlib.import_module(source), "TAGS_QUERY", "")
                if text:
                    # a sibling grammar's query may not fit this grammar: skip it then
                    with contextlib.suppress(Exception):
                        queries.append(ts.Query(lang, text))
            if language in EXTRA_QUERIES:
                queries.append(ts.Query(lang, EXTRA_QUERIES[language]))
            loaded = (ts.Parser(lang), queries)
        except (ImportError, KeyError, AttributeError, ValueError):
            loaded = None
        self._cache[language] = loaded
        return loaded

    def extract(self, text: str, language: str | None) -> list[Symbol]:
        """Definitions and references in ``text``; [] for languages without a grammar."""
        if language not in GRAMMARS:
            return []
        loaded = self._load(language)
        if loaded is None:
            return []
        import tree_sitter as ts

        parser, queries = loaded
        tree = parser.parse(text.encode("utf-8"))
        seen: set[tuple[str, str, int]] = set()
        out: list[Symbol] = []
        for query in queries:
            for _, caps in ts.QueryCursor(query).matches(tree.root_node):
                names = caps.get("name")
                if not names:
                    continue
                name_node = names[0]
                name = name_node.text.decode("utf-8", "replace") if name_node.text else ""
                tag = next((k for k in caps if k.startswith(("definition.", "reference."))), None)
                if tag is None or not name:
                    continue
                role, kind = tag.split(".", 1)
                node = caps[tag][0]
                if role == "definition":
                    node = _definition_node(node)
                    if kind == "function" and _inside_class(node):
                        kind = "method"
                key = (name, role, node.start_point[0])
                if key in seen:
                    continue
                seen.add(key)
                out.append(Symbol(name, kind, role, node.start_point[0] + 1, node.end_point[0] + 1))
        out.sort(key=lambda s: (s.start_line, s.role, s.name))
        return out


def _definition_node(node: Any) -> Any:
    """C/C++ tags capture the declarator; the definition is the enclosing function or
    declaration, and a decorated Python definition starts at its decorators."""
    while node.parent is not None and (
        node.type.endswith("declarator") or node.parent.type == "decorated_definition"
    ):
        node = node.parent
    return node


def _inside_class(node: Any) -> bool:
    p = node.parent
    while p is not None:
        if p.type in ("class_definition", "class_body", "class_declaration", "impl_item"):
            return True
        if p.type in ("function_definition", "function_declaration"):
            return False
        p = p.parent
    return False
