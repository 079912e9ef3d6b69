"""Context: the document windows and retrieved snippets that feed a prompt."""

from llamapilot.context.snippets import Snippet

__all__ = ["Snippet"]
