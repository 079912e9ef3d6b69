"""Examples written in a docstring, and a program that checks a function against them.

The styles found in real docstrings (and HumanEval's): ``>>> f(2)`` then ``4`` on the next
line, ``>>> f(2) == 4``, ``f(2) == 4``, ``f(2) ➞ 4``, ``f(2) -> 4``, ``f(2) => 4``,
``f(2) = 4``, ``f(2) # returns 4``, ``f(2) # => 4``, ``f(2) should return 4``; ``Input: x =
2, y = 3`` followed by ``Output: 5``; ``For x = 2, y = 3 the output should be 5``. Bare
words as arguments (``is_happy(abc) => False``) are read as strings. An example counts only
when it uses nothing but the function, literals and builtins.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

RESULT_MARK = "@@llamapilot-examples@@"
_ARROWS = (
    "==>",
    "=>",
    "# =>",
    "#=>",
    "➞",
    "->",
    "==",
    "# returns",
    "#returns",
    "should return",
    "returns",
    "=",
)


@dataclass(frozen=True)
class Example:
    """A call written in the docstring and the value it should produce (both source text)."""

    call: str
    expected: str


def _unquoted(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """``(index, char, depth)`` for each character of ``text`` from ``start`` that is not
    inside a quoted string; ``depth`` is the bracket depth after that character."""
    depth, quote, i = 0, "", start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        else:
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            yield i, ch, depth
        i += 1


def _call_end(line: str, start: int) -> int:
    """Index just past the parenthesis closing the one at ``start`` (-1 if unbalanced)."""
    for i, ch, depth in _unquoted(line, start):
        if ch in ")]}" and depth == 0:
            return i + 1
    return -1


def _is_expr(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    return True


_LITERAL_WORDS = {"true": "True", "false": "False", "null": "None", "none": "None"}


def _closed(text: str, name: str) -> bool:
    """Whether ``text`` uses no names but ``name`` and builtins (``f(n)`` is no example)."""

    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return False
    return all(
        n.id == name or hasattr(builtins, n.id) for n in ast.walk(tree) if isinstance(n, ast.Name)
    )


def _clean_expected(text: str) -> str | None:
    text = _without_comment(text).strip().rstrip(",;")
    text = _LITERAL_WORDS.get(text.lower(), text)
    if "=" in text and "==" not in text and not _is_expr(text):
        text = text.rsplit("=", 1)[1].strip()  # "19 - 5 - 6 = 8" → "8"
    for candidate in (text.rstrip("."), text):
        if candidate and _is_expr(candidate):
            return candidate
    return None


def _without_comment(text: str) -> str:
    """``24 # sum of 21 + 3`` → ``24`` (a ``#`` outside quotes starts a comment)."""
    for i, ch, _ in _unquoted(text):
        if ch == "#":
            return text[:i].strip()
    return text


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """``text`` split at ``sep`` outside brackets and quotes."""
    parts, start = [], 0
    for i, ch, depth in _unquoted(text):
        if ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _arguments(text: str) -> str | None:
    """``x = [1, 2], k = 3`` or ``[1, 2], 3`` → ``[1, 2], 3``; None if that is no list of
    values. Parts that are not ``name = value`` after the first assignment end it
    (``N = 1000, the sum of digits will be 1``)."""
    values = []
    for part in split_top_level(text.strip().rstrip(".")):
        m = re.fullmatch(r"([A-Za-z_]\w*)\s*=\s*(.+)", part, re.S)
        value = m.group(2) if m else part
        if not _is_expr(value):
            if values:
                break
            return None
        values.append(value)
    return ", ".join(values) if values else None


def _quote_bare_words(call: str, name: str) -> str:
    """``f(abc)`` → ``f('abc')``: an argument that is a name no one defined is a word."""
    try:
        tree = ast.parse(call, mode="eval")
    except SyntaxError:
        return call
    node = tree.body
    if not isinstance(node, ast.Call):
        return call
    changed = False
    for k, arg in enumerate(node.args):
        if isinstance(arg, ast.Name) and arg.id != name and not hasattr(builtins, arg.id):
            node.args[k] = ast.Constant(arg.id)
            changed = True
    return ast.unparse(tree) if changed else call


_CALL = r"(?<![\w.]){name}\s*\("
_FOR = re.compile(
    r"for\s+(?P<args>.+?)\s*,?\s*(?:the\s+)?(?:result|output)\s+(?:should|will)\s+be\s+"
    r"(?P<out>.+)$",
    re.I,
)


def _calls(name: str) -> re.Pattern[str]:
    """Where a call to ``name`` starts (not ``obj.name(`` or ``other_name(``)."""
    return re.compile(_CALL.format(name=re.escape(name)))


def _inline(line: str, name: str) -> Example | None:
    """``f(2) == 4`` and the other one-line styles."""
    m = _calls(name).search(line)
    if not m:
        return None
    end = _call_end(line, line.index("(", m.start()))
    if end < 0:
        return None
    call, tail = line[m.start() : end], line[end:].strip()
    for arrow in _ARROWS:
        if tail.startswith(arrow):
            expected = _clean_expected(tail[len(arrow) :])
            if expected is not None and _is_expr(call):
                return Example(_quote_bare_words(call, name), expected)
            return None
    return None


def parse_examples(docstring: str, name: str) -> list[Example]:
    """Examples of calls to ``name`` written in a docstring (see the module docstring)."""
    examples: list[Example] = []
    lines = [ln.strip() for ln in docstring.split("\n")]
    calls = _calls(name)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(">>>"):
            call = line[3:].strip()
            out: list[str] = []
            j = i + 1
            while j < len(lines) and lines[j] and not lines[j].startswith(">>>"):
                if calls.search(lines[j]):
                    break  # the next example, in another style
                out.append(lines[j])
                j += 1
            expected = _clean_expected(" ".join(out)) if out else None
            if expected is None and len(out) > 1:
                expected = _clean_expected(out[0])
            if expected is not None and name in call and _is_expr(call):
                examples.append(Example(call, expected))
            elif not out and (found := _inline(call, name)) is not None:
                examples.append(found)  # >>> f(2) == 4
            i = j
            continue
        if calls.search(line):
            found = _inline(line, name)
            if found is not None:
                examples.append(found)
        elif (f := _FOR.match(line)) is not None:
            args, expected = _arguments(f.group("args")), _clean_expected(f.group("out"))
            if args is not None and expected is not None:
                examples.append(Example(f"{name}({args})", expected))
        elif line.lower().startswith("input:"):
            outputs = [ln for ln in lines[i + 1 : i + 4] if ln.lower().startswith("output:")][:1]
            args = _arguments(line[6:])
            expected = _clean_expected(outputs[0][7:]) if outputs else None
            if args is not None and expected is not None:
                examples.append(Example(f"{name}({args})", expected))
        i += 1
    kept: list[Example] = []
    for e in examples:
        if e not in kept and _closed(e.call, name) and _closed(e.expected, name):
            kept.append(e)
    return kept


def examples_program(prefix: str, body: str, examples: list[Example]) -> str:
    """A program that defines the function and prints which examples it passes."""
    cases = json.dumps([[e.call, e.expected] for e in examples])
    return (
        f"{prefix}{body}\n\n"
        "def __llamapilot_check():\n"
        "    import json, math\n"
        "    def same(a, b):\n"
        "        if isinstance(a, float) or isinstance(b, float):\n"
        "            try:\n"
        "                return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)\n"
        "            except TypeError:\n"
        "                return False\n"
        "        return a == b\n"
        "    results = []\n"
        f"    for call, expected in json.loads({cases!r}):\n"
        "        try:\n"
        "            got = eval(call, globals())\n"
        "            try:\n"
        "                ok = same(got, eval(expected, globals()))\n"
        "            except Exception:\n"
        "                ok = repr(got) == expected or str(got) == expected\n"
        "        except Exception:\n"
        "            ok = False\n"
        "        results.append(bool(ok))\n"
        f"    print({RESULT_MARK!r} + json.dumps(results))\n"
        "__llamapilot_check()\n"
    )


_EXAMPLES_HEADING = re.compile(r"(?:for\s+)?(?:examples?|e\.g\.|input\s*:)", re.I)


def description(docstring: str, name: str) -> str:
    """The docstring's prose before its examples, on one line (the task in words)."""
    calls = _calls(name)
    words: list[str] = []
    for line in docstring.split("\n"):
        text = line.strip()
        if text.startswith(">>>") or calls.search(text) or _EXAMPLES_HEADING.match(text):
            break
        if text:
            words.append(text)
    return " ".join(words)
