"""The language server (``llamapilot lsp``): inline completion and completion items for
every LSP editor, over the completion core.

Handlers in :mod:`~llamapilot.lsp.server` stay thin over the modules beside it: positions,
documents (incremental sync, recent edits), context, settings, suggest (requests and LSP
items), records (inspect, accept/reject) and runner (threads, cancellation, superseding).
"""
