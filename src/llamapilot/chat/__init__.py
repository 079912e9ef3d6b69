"""Chat: conversations rendered with the model's own chat template."""

from llamapilot.chat.template import ChatMessage, ChatTemplate

__all__ = ["ChatMessage", "ChatTemplate"]
