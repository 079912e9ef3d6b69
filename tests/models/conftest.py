"""Fixtures for the model-file tests: the embedded model and tiny synthetic GGUF files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llamapilot.models.gguf import GGUFValueType, TensorSpec, Typed, write_gguf
from llamapilot.models.locate import embedded_model_path

BASE_TOKENS = ["<|endoftext|>", "a", "b", "c", "def", " return"]


@pytest.fixture(scope="session")
def embedded_path() -> Path:
    return embedded_model_path()


def tiny_metadata(tokens: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """Metadata of a tiny llama-style model with ``tokens`` as its vocabulary."""
    tokens = BASE_TOKENS if tokens is None else tokens
    md: dict[str, Any] = {
        "general.architecture": "llama",
        "general.name": "tiny test model",
        "general.file_type": Typed(GGUFValueType.UINT32, 1),
        "llama.context_length": Typed(GGUFValueType.UINT32, 256),
        "llama.embedding_length": Typed(GGUFValueType.UINT32, 8),
        "llama.block_count": Typed(GGUFValueType.UINT32, 1),
        "llama.attention.head_count": Typed(GGUFValueType.UINT32, 2),
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.tokens": Typed(GGUFValueType.STRING, tokens),
        "tokenizer.ggml.token_type": Typed(GGUFValueType.INT32, [1] * len(tokens)),
    }
    md.update(extra)
    return {k: v for k, v in md.items() if v is not None}


def tiny_tensors(n_vocab: int = len(BASE_TOKENS)) -> list[TensorSpec]:
    return [
        TensorSpec("token_embd.weight", (8, n_vocab), "F16"),
        TensorSpec("blk.0.attn_norm.weight", (8,), "F32"),
        TensorSpec("blk.0.ffn_up.weight", (32, 16), "Q4_1"),
    ]


@pytest.fixture
def make_gguf(tmp_path: Path) -> Callable[..., Path]:
    """``make_gguf(name="m.gguf", tokens=None, tensors=None, **metadata)`` -> path."""

    def make(
        name: str = "tiny.gguf",
        tokens: list[str] | None = None,
        tensors: list[TensorSpec] | None = None,
        **extra: Any,
    ) -> Path:
        md = tiny_metadata(tokens, **extra)
        n_vocab = len(tokens) if tokens is not None else len(BASE_TOKENS)
        specs = tiny_tensors(n_vocab) if tensors is None else tensors
        return write_gguf(tmp_path / name, md, specs)

    return make
