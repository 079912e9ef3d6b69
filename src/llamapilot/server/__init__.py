"""The HTTP server: OpenAI, llama.cpp-server and native APIs, and the playground page."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # FastAPI takes about a second to import: only when the app is built, not whenever
    # a submodule (such as the ``serve`` command's parser) is imported.
    if name == "create_app":
        from llamapilot.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
