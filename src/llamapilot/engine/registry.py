"""Backends by name, from the ``llamapilot.backends`` entry-point group.

An entry point names a class with ``from_settings(settings) -> Backend``; the built-in
llama.cpp backend registers the same way a third-party package would.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from llamapilot.errors import UnknownNameError

if TYPE_CHECKING:
    from llamapilot.config import Settings
    from llamapilot.engine.base import Backend

GROUP = "llamapilot.backends"


def backend_names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=GROUP))


def load_backend(settings: Settings) -> Backend:
    """Create the backend named by ``settings.backend`` with its model loaded."""
    for ep in entry_points(group=GROUP):
        if ep.name == settings.backend:
            return ep.load().from_settings(settings)
    known = ", ".join(backend_names()) or "none installed"
    raise UnknownNameError(
        f"unknown backend {settings.backend!r} (known: {known})", param="backend"
    )
