"""Turning a chat answer (a whole function in a code block) into the body of the function
being written, so that it can be inserted after the user's signature and docstring.

What the answer defines beside the function moves into the body: imports become local
imports (unless the file already has them), helper functions, classes and constants become
nested definitions. Test code around it (``print``, ``assert``, ``if __name__ ...``) is left
out. When the answer renamed the parameters, the body starts by binding its names to the
user's.
"""

from __future__ import annotations

import ast
import textwrap

_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
MAX_TRIMMED_LINES = 8
"""An answer cut off mid-statement (max tokens) loses up to this many last lines."""


def parse_answer(code: str) -> ast.Module | None:
    """``code`` parsed, or with its last few lines dropped until it parses (None if not)."""
    lines = code.rstrip().split("\n")
    for cut in range(min(MAX_TRIMMED_LINES, len(lines) - 1) + 1):
        try:
            return ast.parse("\n".join(lines[: len(lines) - cut]))
        except (SyntaxError, ValueError):
            continue
    return None


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    a = fn.args
    return [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]]


def _target_function(prefix: str, name: str) -> tuple[list[str], str] | None:
    """The parameters of the function ``prefix`` ends in, and its body indentation."""
    lines = prefix.rstrip("\n").split("\n")
    indent = next(
        (ln[: len(ln) - len(ln.lstrip())] for ln in reversed(lines) if ln.strip()), "    "
    )
    if not indent:
        indent = "    "
    for stub in (f"{indent}pass\n", f"\n{indent}pass\n"):
        try:
            tree = ast.parse(textwrap.dedent(_from_last_def(prefix) + stub))
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                return _params(node), indent
    return None


def _from_last_def(prefix: str) -> str:
    """``prefix`` from the line of its last ``def`` on (decorators and all above dropped)."""
    lines = prefix.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        stripped = lines[i].lstrip()
        if stripped.startswith(("def ", "async def ")):
            return "\n".join(lines[i:])
    return prefix


def _segment(code_lines: list[str], node: ast.stmt) -> list[str]:
    return code_lines[_segment_start(node) - 1 : node.end_lineno]


def body_from_answer(code: str, name: str, prefix: str) -> str | None:
    """The body to put after ``prefix`` (which ends in ``def name(...)`` and its
    docstring), taken from ``code``, a chat answer's code block; None when ``code`` does not
    define ``name`` or does not parse."""
    tree = parse_answer(code)
    target = _target_function(prefix, name)
    if tree is None or target is None:
        return None
    params, indent = target
    code_lines = code.split("\n")
    fn = next(
        (
            n
            for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name
        ),
        None,
    )
    if fn is None:
        return None
    inside = _string_interiors(tree)
    parts: list[list[tuple[int, str]]] = []  # (line number, text) runs to re-indent
    for node in tree.body:
        if node is fn or not isinstance(node, (*_KEPT, ast.Assign, ast.AnnAssign)):
            continue
        seg = _segment(code_lines, node)
        if isinstance(node, (ast.Import, ast.ImportFrom)) and all(
            line.strip() in prefix for line in seg
        ):
            continue  # the file already imports it
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and (
            not _constant(node) or _assigned_names(node) & {*params, *_params(fn)}
        ):
            continue  # test calls, and sample inputs that would shadow the arguments
        first = _segment_start(node)
        parts.append([(first + i, line) for i, line in enumerate(seg)])
    theirs = _params(fn)
    renames = [f"{t} = {m}" for m, t in zip(params, theirs, strict=False) if m != t]
    stmts = fn.body
    if (
        stmts
        and isinstance(stmts[0], ast.Expr)
        and isinstance(stmts[0].value, ast.Constant)
        and isinstance(stmts[0].value.value, str)
    ):
        stmts = stmts[1:]  # its own copy of the docstring
    if not stmts:
        return None
    out: list[str] = []
    for part in parts:
        out.extend(_reindent(part, part[0][1], indent, inside))
    out.extend(indent + r for r in renames)
    body = [(n, code_lines[n - 1]) for n in range(stmts[0].lineno, (stmts[-1].end_lineno or 0) + 1)]
    out.extend(_reindent(body, body[0][1], indent, inside))
    return "\n".join(out).rstrip()


def _segment_start(node: ast.stmt) -> int:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return node.lineno


def _string_interiors(tree: ast.Module) -> set[int]:
    """Line numbers that lie inside a multi-line string (their text is the string's)."""
    lines: set[int] = set()
    for n in ast.walk(tree):
        end = getattr(n, "end_lineno", None)
        if isinstance(n, (ast.Constant, ast.JoinedStr)) and end and end > n.lineno:
            lines.update(range(n.lineno + 1, end + 1))
    return lines


def _reindent(
    numbered: list[tuple[int, str]], first_line: str, indent: str, inside: set[int]
) -> list[str]:
    """Lines moved from the first line's indentation to ``indent``; lines inside strings
    and blank lines stay as they are."""
    old = first_line[: len(first_line) - len(first_line.lstrip())]
    out = []
    for n, line in numbered:
        if n in inside or not line.strip():
            out.append(line if n in inside else "")
        elif line.startswith(old):
            out.append(indent + line[len(old) :])
        else:
            out.append(indent + line.lstrip())
    return out


def _assigned_names(node: ast.Assign | ast.AnnAssign) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _constant(node: ast.Assign | ast.AnnAssign) -> bool:
    """An assignment of a literal value (a table, a constant) — not a test call."""
    value = node.value
    if value is None:
        return False
    return not any(isinstance(n, (ast.Call, ast.Await)) for n in ast.walk(value))
