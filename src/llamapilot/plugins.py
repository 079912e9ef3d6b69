"""The one hook through which backends and templates are registered: entry points."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any


def load_entry_points(group: str) -> list[Any]:
    """Load every entry point of ``group``; built-ins register the same way as plugins."""
    return [ep.load() for ep in entry_points(group=group)]


def entry_point_names(group: str) -> list[str]:
    return sorted(ep.name for ep in entry_points(group=group))
