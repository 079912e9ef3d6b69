"""Post-processing: what a user sees of what the model generated at the cursor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from llamapilot.completion.postprocess import (
    ShapeContext,
    StopDetector,
    decide_multiline,
    finalize,
)
from llamapilot.completion.scope import Grammars

FIXTURES = Path(__file__).parent.parent / "fixtures" / "postprocess"
CURSOR = "█"
NEWLINE = "⏎"  # at the end of a section: the text ends with a newline


@dataclass(frozen=True)
class Case:
    name: str
    language: str | None
    prefix: str
    suffix: str
    generated: str
    expected: str
    multiline: bool | None
    decided: bool | None
    max_lines: int
    stops_after: str | None

    def context(self) -> ShapeContext:
        if self.decided is not None:
            multiline = decide_multiline(self.prefix, self.suffix, self.language)
        else:
            assert self.multiline is not None, f"{self.name}: give `decided` or `multiline`"
            multiline = self.multiline
        return ShapeContext(self.prefix, self.suffix, self.language, multiline, self.max_lines)


def _bool(value: str) -> bool:
    return {"true": True, "false": False}[value.strip()]


def _parse_case(name: str, body: str, source: str) -> Case:
    header, *chunks = body.split("\n=== ")
    fields = dict(line.split(":", 1) for line in header.strip().splitlines() if line.strip())
    fields = {k.strip(): v.split("#")[0].strip() for k, v in fields.items()}
    sections: dict[str, str] = {}
    for chunk in chunks:
        title, _, text = chunk.partition("\n")
        text = text.rstrip("\n")
        sections[title.strip()] = text[:-1] + "\n" if text.endswith(NEWLINE) else text
    document = sections["document"]
    assert document.count(CURSOR) == 1, f"{source}: {name}: one cursor mark"
    prefix, suffix = document.split(CURSOR)
    language = fields.get("language", "none")
    return Case(
        name=name,
        language=None if language == "none" else language,
        prefix=prefix,
        suffix=suffix,
        generated=sections["generated"],
        expected=sections["expected"],
        multiline=_bool(fields["multiline"]) if "multiline" in fields else None,
        decided=_bool(fields["decided"]) if "decided" in fields else None,
        max_lines=int(fields.get("max_lines", "16")),
        stops_after=sections.get("stream stops after"),
    )


def load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(FIXTURES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for block in text.split("##### ")[1:]:
            name, _, body = block.partition("\n")
            cases.append(_parse_case(f"{path.stem}: {name.strip()}", body, path.name))
    return cases


CASES = load_cases()


def stream(generated: str, ctx: ShapeContext) -> str | None:
    """Feed ``generated`` a character at a time; the text so far when the detector stops."""
    detector = StopDetector(ctx)
    for end in range(1, len(generated) + 1):
        if detector(generated[:end]):
            return generated[:end]
    return None


@pytest.fixture(scope="module")
def grammars() -> Grammars:
    return Grammars()


def test_fixtures_cover_the_main_languages() -> None:
    languages = {c.language for c in CASES}
    assert {"python", "javascript", "typescript", "go", "rust"} <= languages
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case, grammars: Grammars) -> None:
    ctx = case.context()
    if case.decided is not None:
        assert ctx.multiline is case.decided, "decide_multiline"
    assert finalize(case.generated, ctx, grammars=grammars) == case.expected
    stopped = stream(case.generated, ctx)
    if case.stops_after is not None:
        assert stopped == (None if case.stops_after == "never" else case.stops_after)
    if stopped is not None:
        # stopping the stream early never changes what the user gets
        assert finalize(stopped, ctx, grammars=grammars) == case.expected


@pytest.mark.parametrize(
    ("prefix", "suffix", "language", "multiline"),
    [
        ("x = foo(", ")\n", "python", False),
        ("x = foo(", "\n", "python", False),
        ("def f(x):", "\n", "python", True),
        ("def f(x):\n    ", "\n", "python", True),
        ("def f(x):\n", "", "python", True),
        ("def f(x):  # compute:", "\n", "python", False),
        ("def f(x):  # compute\n    ", "\n", "python", True),
        ("# Example:", "\n", "python", False),
        ("    x = 1\n    ", "\n    return x\n", "python", False),
        ("    total = 0\n    ", "\n    return total\n", "python", False),
        ('def f():\n    """Return the answer.\n    ', '\n    """\n', "python", False),
        ('def f():\n    """Return the answer."""\n    ', "\n\n\ndef g():\n", "python", True),
        ("@app.route('/')\n", "\n", "python", True),
        ("    # sort by name, newest first\n    ", "\n\n\ndef g():\n", "python", True),
        ("    # sort by name\n    ", "\n    rows.sort()\n", "python", False),
        ('print("hello ', '")\n', "python", False),
        ("function f(a) {", "\n}\n", "javascript", True),
        ("function f(a) {\n  ", "\n}\n", "javascript", True),
        ("function f(a) {\n  ", "  }\n", "javascript", False),
        ("const add = (a, b) =>", "\n", "javascript", True),
        ("// loop over the items {", "\n", "javascript", False),
        ("const s = `line {", "\n", "javascript", False),
        ("func main() {\n\t", "\n}\n", "go", True),
        ("\tif err != nil {", "\n", "go", True),
        ("fn main() {\n    let x = 1;\n    ", "\n}\n", "rust", False),
        ("match x {\n    ", "\n}\n", "rust", True),
        ("", "", "python", False),
        ("x", "", None, False),
        ("int main(void) {\n", "\n}\n", "c", True),
        ("int main(void) {\n", "}\n", "c", False),
    ],
)
def test_decide_multiline(prefix: str, suffix: str, language: str | None, multiline: bool) -> None:
    assert decide_multiline(prefix, suffix, language) is multiline


@pytest.mark.parametrize(
    ("generated", "expected"),
    [
        ("", ""),
        ("   ", ""),
        ("\n\n", ""),
        ("<|im_end|>", ""),
        ("return x<|im_end|>\nmore", "return x"),
        ("return x<|endoftext|>", "return x"),
        ("return x   \n", "return x"),
    ],
)
def test_empty_and_remnants(generated: str, expected: str) -> None:
    ctx = ShapeContext("def f(x):\n    ", "\n", "python", multiline=True)
    assert finalize(generated, ctx) == expected


def test_trailing_whitespace_and_newline_are_stripped() -> None:
    ctx = ShapeContext("def f(x):\n    ", "\n", "python", multiline=True)
    out = finalize("y = x  \n    return y \t\n\n", ctx)
    assert out == "y = x\n    return y"


def test_windows_line_endings_are_kept() -> None:
    ctx = ShapeContext("def f(x):\r\n    ", "\r\n\r\ndef g():\r\n    pass\r\n", "python", True)
    assert finalize("y = x\r\n    return y\r\n\r\ndef h():", ctx) == "y = x\r\n    return y"


def test_unknown_language_uses_indentation_only() -> None:
    grammars = Grammars()
    prefix = "def total(xs)\n  sum = 0\n  xs.each do |x|\n    "
    ctx = ShapeContext(prefix, "\n  end\n  sum\nend\n", "ruby", multiline=True)
    out = finalize("sum += x\n    puts x\n  end\n  sum\nend\n", ctx, grammars=grammars)
    assert out == "sum += x\n    puts x"
    assert grammars.parses == 0


def test_language_none_still_shapes_the_block() -> None:
    ctx = ShapeContext("if (ready) {\n    ", "\n}\n", None, multiline=True)
    assert finalize("start();\n    wait();\n}\n\nother();", ctx) == "start();\n    wait();"


def test_stop_detector_works_per_line_not_per_token(grammars: Grammars) -> None:
    prefix = "def mean(values):\n    "
    ctx = ShapeContext(prefix, "\n\n\ndef median(values):\n    pass\n", "python", True)
    generated = (
        "if not values:\n"
        "        return 0.0\n"
        "\n"
        "    total = sum(values)\n"
        "    return total / len(values)\n"
        "\n"
        "\n"
        "def mode(values):\n"
    )
    detector = StopDetector(ctx)
    calls = 0
    for end in range(1, len(generated) + 1):
        calls += 1
        if detector(generated[:end]):
            break
    # one call per character, but only complete lines are scanned; no parsing while streaming
    assert calls == generated.index("def mode") + 1
    assert detector.lines_scanned == 7
    before = grammars.parses
    out = finalize(generated[:calls], ctx, grammars=grammars)
    assert out == "if not values:\n        return 0.0\n\n    total = sum(values)\n" + (
        "    return total / len(values)"
    )
    assert grammars.parses - before <= 2


def test_stop_detector_keeps_saying_stop() -> None:
    ctx = ShapeContext("x = foo(", ")\n", "python", multiline=False)
    detector = StopDetector(ctx)
    assert not detector("a, ")
    assert detector("a, b)")
    assert detector("a, b) + 1")


def test_stop_detector_stops_on_control_tokens() -> None:
    ctx = ShapeContext("def f(x):\n    ", "\n", "python", multiline=True)
    detector = StopDetector(ctx)
    assert not detector("return x")
    assert not detector("return x<|im")
    assert detector("return x<|im_end|>")


def test_max_lines_is_at_least_one() -> None:
    ctx = ShapeContext("def f(x):\n    ", "\n", "python", multiline=True, max_lines=0)
    assert finalize("a = 1\n    b = 2\n", ctx) == "a = 1"


def test_parsing_picks_the_lines_that_parse(grammars: Grammars) -> None:
    # the model ran out of tokens inside a statement: the cut-off line is dropped
    prefix = "def load(path):\n    "
    ctx = ShapeContext(prefix, "\n\n\ndef save(path, data):\n    pass\n", "python", True)
    generated = "with open(path) as f:\n        data = json.load(f)\n    return validate(data,"
    assert finalize(generated, ctx, grammars=grammars) == (
        "with open(path) as f:\n        data = json.load(f)"
    )
