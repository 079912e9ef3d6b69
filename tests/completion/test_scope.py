"""Tree-sitter helpers: lazily built parsers, error counts, picking the lines that parse."""

from __future__ import annotations

import pytest

from llamapilot.completion.scope import Grammars, count_errors, default_grammars, most_parseable

LANGUAGES = {
    "python": "def f(x):\n    return x + 1\n",
    "javascript": "function f(x) {\n  return x + 1;\n}\n",
    "javascriptreact": "const A = () => <div>{x}</div>;\n",
    "typescript": "function f(x: number): number {\n  return x + 1;\n}\n",
    "typescriptreact": "const A = (p: { x: number }) => <div>{p.x}</div>;\n",
    "go": "package main\n\nfunc f(x int) int {\n\treturn x + 1\n}\n",
    "rust": "fn f(x: i32) -> i32 {\n    x + 1\n}\n",
    "java": "class A {\n    int f(int x) {\n        return x + 1;\n    }\n}\n",
    "c": "int f(int x) {\n    return x + 1;\n}\n",
    "cpp": "template <typename T>\nT f(T x) {\n    return x + 1;\n}\n",
}


@pytest.mark.parametrize(("language", "code"), sorted(LANGUAGES.items()))
def test_every_installed_grammar_parses_valid_code_cleanly(language: str, code: str) -> None:
    grammars = Grammars()
    assert grammars.supports(language)
    assert grammars.error_count(language, code) == 0


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "def f(x):\n    return (x +\n"),
        ("javascript", "function f(x) {\n  return x +;\n}\n"),
        ("go", "func f() {\n\tx := \n}\n"),
        ("rust", "fn f() {\n    let x = ;\n}\n"),
    ],
)
def test_broken_code_has_errors(language: str, code: str) -> None:
    assert Grammars().error_count(language, code) > 0


def test_parsers_are_built_once_per_language_and_lazily() -> None:
    grammars = Grammars()
    assert grammars._parsers == {}
    first = grammars.parser("python")
    assert grammars.parser("python") is first
    assert set(grammars._parsers) == {"python"}
    grammars.error_count("rust", "fn main() {}")
    assert set(grammars._parsers) == {"python", "rust"}
    assert grammars.parses == 1


@pytest.mark.parametrize("language", [None, "ruby", "markdown", "no-such-language"])
def test_languages_without_a_grammar_degrade_to_none(language: str | None) -> None:
    grammars = Grammars()
    assert not grammars.supports(language)
    assert grammars.parse(language, "x = 1") is None
    assert grammars.error_count(language, "x = 1") is None
    assert most_parseable(grammars, language, "", ["a", "b"], "") is None
    assert grammars.parses == 0


def test_default_grammars_is_one_shared_cache() -> None:
    assert default_grammars() is default_grammars()


def test_count_errors_counts_missing_nodes() -> None:
    tree = Grammars().parse("javascript", "f(1, 2")
    assert tree is not None
    assert count_errors(tree.root_node) >= 1


PREFIX = "def load(path):\n    "
SUFFIX = "\n\n\ndef save(path):\n    pass\n"


def test_most_parseable_keeps_the_longest_candidate_that_parses() -> None:
    grammars = Grammars()
    candidates = [
        "data = read(path)",
        "data = read(path)\n    return parse(data)",
        "data = read(path)\n    return parse(data,",
    ]
    assert most_parseable(grammars, "python", PREFIX, candidates, SUFFIX) == 1


def test_most_parseable_takes_the_full_candidate_in_one_parse_when_it_parses() -> None:
    grammars = Grammars()
    candidates = ["a = 1", "a = 1\n    return a"]
    assert most_parseable(grammars, "python", PREFIX, candidates, SUFFIX) == 1
    assert grammars.parses == 1


def test_most_parseable_does_not_judge_when_the_context_itself_is_broken() -> None:
    # a window that starts inside a docstring: error counts say nothing about candidates
    prefix = 'of the module.\n"""\n\nimport os\n\n\ndef load(path):\n    '
    grammars = Grammars()
    candidates = ["data = read(path)", "data = read(path)\n    return parse(data,"]
    assert most_parseable(grammars, "python", prefix, candidates, SUFFIX) == 1
