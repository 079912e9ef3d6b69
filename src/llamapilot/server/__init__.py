"""The HTTP server: OpenAI, llama.cpp-server and native APIs, and the playground page."""

from llamapilot.server.app import create_app

__all__ = ["create_app"]
