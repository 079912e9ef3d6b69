"""Model files: GGUF headers, model cards, and where the models are.

Nothing here loads weights: :func:`read_model_card` reads only a file's header.
"""

from __future__ import annotations

from llamapilot.models.card import ModelCard, read_model_card
from llamapilot.models.gguf import GGUFFile, TensorInfo, read_gguf, write_gguf
from llamapilot.models.locate import embedded_model_path, resolve_model_path, sha256_file

__all__ = [
    "GGUFFile",
    "ModelCard",
    "TensorInfo",
    "embedded_model_path",
    "read_gguf",
    "read_model_card",
    "resolve_model_path",
    "sha256_file",
    "write_gguf",
]
