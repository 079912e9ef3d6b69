"""The workspace index: files, tree-sitter symbols and BM25-searchable chunks in SQLite.

Build one with ``llamapilot index [PATH]``; completions find it by walking up from the file
being edited (see :func:`llamapilot.context.retrieval.attach_workspace_index`).
"""

from llamapilot.index.workspace import (
    IndexStats,
    WorkspaceIndex,
    find_workspace_index,
    index_db_path,
)

__all__ = ["IndexStats", "WorkspaceIndex", "find_workspace_index", "index_db_path"]
