"""Retrieval through the real service and model: another file's definition in the prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from llamapilot.completion.service import CompletionService
from llamapilot.completion.types import CompletionRequest
from llamapilot.config import Settings
from llamapilot.context.retrieval import WorkspaceRetriever, attach_workspace_index
from llamapilot.index.workspace import WorkspaceIndex

from .helpers import write

GEOMETRY = '''\
"""Shapes."""


def hypotenuse_length(side_a: float, side_b: float) -> float:
    """The length of the longest side of a right triangle."""
    return (side_a**2 + side_b**2) ** 0.5


class Unrelated:
    pass
'''

MAIN = """\
from shapes.geometry import hypotenuse_length


def diagonal(width: float, height: float) -> float:
    return hypotenuse_length(
"""


@pytest.mark.slow
def test_definition_from_another_file_reaches_the_prompt(
    workspace: Path, service: CompletionService, core_settings: Settings
) -> None:
    write(workspace, {"shapes/geometry.py": GEOMETRY, "app/main.py": MAIN})
    with WorkspaceIndex(workspace) as index:
        index.build()
    # a service of its own on the session's loaded model, so other tests see no provider
    svc = CompletionService(service.backend, core_settings)
    ctx = attach_workspace_index(svc, workspace / "app")
    assert attach_workspace_index(svc, workspace) is ctx  # attached once
    path = workspace / "app" / "main.py"
    request = CompletionRequest(prefix=MAIN, path=str(path), cursor_line=4, max_tokens=16)
    result = svc.complete(request)

    assert "def hypotenuse_length(side_a: float, side_b: float) -> float:" in result.prompt
    assert "class Unrelated" not in result.prompt
    defs = [s for s in result.to_dict()["sources"] if s["kind"] == "definition"]
    assert defs[0]["path"] == "shapes/geometry.py"
    assert (defs[0]["start_line"], defs[0]["end_line"]) == (4, 6)
    # the file being edited never comes back from the index
    assert all(s["path"] != "app/main.py" for s in result.to_dict()["sources"][:-1])
    assert result.prompt.index("hypotenuse_length(side_a") < result.prompt.index("def diagonal")


def test_snippets_stay_put_while_typing_on_a_line(workspace: Path) -> None:
    write(workspace, {"shapes/geometry.py": GEOMETRY, "app/main.py": MAIN})
    with WorkspaceIndex(workspace) as index:
        index.build()
        retriever = WorkspaceRetriever(index, budget_chars=2000)
        path = str(workspace / "app" / "main.py")
        first = retriever(CompletionRequest(prefix=MAIN, path=path))
        typed = retriever(CompletionRequest(prefix=MAIN + "wid", path=path))
        assert first and typed == first
        # the next line: what stays comes first, in the same order
        moved = retriever(CompletionRequest(prefix=MAIN + "width,\n        ", path=path))
        kept = [s for s in first if s in moved]
        assert kept and moved[: len(kept)] == kept
        # a file the user looked at recently, ranked by Jaccard similarity
        retriever.remember(
            str(workspace / "notes.py"), "def diagonal_of(width, height):\n    pass\n"
        )
        recent = retriever(CompletionRequest(prefix=MAIN, path=path))
        assert any(s.kind == "recent" and s.path == "notes.py" for s in recent)
