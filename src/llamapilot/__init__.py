"""llamapilot: an open, transparent, local-first coding assistant."""

__version__ = "0.1.0"
