"""``POST /v1/llamapilot/write-function``: a function's body from its docstring."""

from __future__ import annotations

import httpx

FILE = '''def double(n: int) -> int:
    """Twice n.
    >>> double(2)
    4
    >>> double(0)
    0
    """
    ...
'''


def test_writes_the_function_and_proposes_a_diff(http: httpx.Client) -> None:
    r = http.post("/v1/llamapilot/write-function", json={"text": FILE, "line": 0, "candidates": 4})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["name"] == "double" and data["passes_examples"], data["candidates"]
    namespace: dict = {}
    exec(FILE.replace("    ...\n", data["text"] + "\n"), namespace)
    assert namespace["double"](21) == 42
    assert "-    ...\n" in data["diff"] and data["diff"].startswith("--- a\n+++ b\n")
    chosen = data["candidates"][data["chosen"]]
    assert chosen["text"] == data["text"] and chosen["examples_passed"] == 2


def test_bad_requests_name_what_is_wrong(http: httpx.Client) -> None:
    cases = [
        ({"text": FILE}, "line"),
        ({"text": "x = 1\n", "line": 0}, "line"),
        ({"prefix": "x = 1\n"}, "prefix"),
        ({"text": FILE, "line": 0, "candidates": 0}, "candidates"),
    ]
    for body, param in cases:
        r = http.post("/v1/llamapilot/write-function", json=body)
        assert r.status_code in (400, 422), (body, r.text)  # 422: fails the schema
        error = r.json()["error"]
        assert param in (error.get("param") or "") + error["message"], (body, error)
