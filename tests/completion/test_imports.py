"""Imports a written function forgot are added as local imports."""

from __future__ import annotations

from llamapilot.completion.imports import missing_imports, with_missing_imports

PREFIX = 'def spread(xs: list) -> float:\n    """Standard deviation of xs."""\n'


def test_modules_and_known_names_the_code_uses_are_imported_inside_the_body() -> None:
    body = "    counts = Counter(xs)\n    return math.sqrt(len(counts))"
    out = with_missing_imports(PREFIX, body)
    assert out == "    from collections import Counter\n    import math\n" + body, out
    namespace: dict = {}
    exec(PREFIX + out, namespace)
    assert namespace["spread"]([1, 1, 2, 2]) == 2**0.5


def test_nothing_is_added_when_the_name_is_imported_defined_or_unknown() -> None:
    unchanged = [
        ("import math\n" + PREFIX, "    return math.pi"),
        (PREFIX, "    math = 3\n    return math"),
        (PREFIX, "    return numpy.std(xs)"),
    ]
    for prefix, body in unchanged:
        assert with_missing_imports(prefix, body) == body
    for bound in ("def re(): pass\nre()", "for re in []: pass\nre", "import re as re\nre"):
        assert missing_imports(bound) == []


def test_code_that_does_not_parse_is_left_alone() -> None:
    assert with_missing_imports(PREFIX, "    return math.sqrt(") == "    return math.sqrt("
