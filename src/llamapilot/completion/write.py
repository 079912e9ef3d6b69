"""Where in a file a function is to be written: the function around a line, the text up to
the end of its docstring, and the file with a written body put in place.

The function must have no body yet beyond its docstring (or a ``pass`` / ``...``
placeholder, which the written body replaces).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from llamapilot.errors import InputError


@dataclass(frozen=True)
class FunctionSlot:
    name: str
    prefix: str
    """The file up to the end of the function's docstring (or signature), with a newline."""
    rest: str
    """The file after the function's placeholder body."""
    body_lines: tuple[int, int]
    """The 0-based lines ``[start, end)`` the body replaces (the placeholder's, or an
    empty range after the docstring)."""

    def with_body(self, body: str) -> str:
        """The whole file with ``body`` as the function's body."""
        return self.prefix + body.rstrip("\n") + "\n" + self.rest


def _is_placeholder(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass):
        return True
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and node.value.value is Ellipsis
    )


def function_slot(text: str, line: int) -> FunctionSlot:
    """The innermost function whose definition spans ``line`` (0-based)."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise InputError(f"the file does not parse (line {exc.lineno}: {exc.msg})") from None
    found: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            spans = first <= line <= (node.end_lineno or node.lineno) - 1
            if spans and (found is None or node.lineno > found.lineno):
                found = node
    if found is None:
        raise InputError(f"no function definition at line {line + 1}", param="line")
    body = list(found.body)
    lines = text.split("\n")
    has_doc = (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    )
    head_end = body[0].end_lineno if has_doc else body[0].lineno - 1
    rest_stmts = body[1:] if has_doc else body
    if not all(_is_placeholder(s) for s in rest_stmts):
        raise InputError(f"{found.name}() already has a body", param="line")
    if body[0].lineno == found.lineno or head_end is None:
        raise InputError(f"{found.name}() has its body on the line of its definition")
    rest_start = (rest_stmts[-1].end_lineno or head_end) if rest_stmts else head_end
    prefix = "\n".join(lines[:head_end]) + "\n"
    rest = "\n".join(lines[rest_start:])
    return FunctionSlot(found.name, prefix, rest, (head_end, rest_start))
