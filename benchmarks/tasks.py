"""Next-line tasks from real source that no one here wrote: an installed PyPI package.

The task builder lives in :mod:`llamapilot.evals.nextline` (``llamapilot eval nextline``
uses it); this module keeps the benchmarks' import path working.
"""

from __future__ import annotations

from llamapilot.evals.nextline import NextLineTask, nextline_tasks, package_files

__all__ = ["NextLineTask", "nextline_tasks", "package_files"]
