"""A model card: what a GGUF file is, read from its header without loading the weights."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llamapilot.models.gguf import GGML_TYPES, GGUFFile, SkippedArray, read_gguf

# llama_ftype (general.file_type) -> the names llama.cpp's quantize tool uses
FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
    41: "Q2_0",
}
FTYPE_GUESSED = 1024
SMALL_ARRAY = 1024
"""Metadata arrays longer than this are not kept, except the token list."""


def human_count(n: int) -> str:
    """134515008 -> '134.5M'."""
    for limit, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n >= limit:
            return f"{n / limit:.1f}{suffix}"
    return str(n)


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"  # pragma: no cover


@dataclass(frozen=True)
class ModelCard:
    path: str
    name: str
    architecture: str | None
    parameters: int
    quantization: str | None
    context_length: int | None
    embedding_length: int | None
    layers: int | None
    heads: int | None
    kv_heads: int | None
    vocab_size: int | None
    tokenizer: str | None
    license: str | None
    chat_template: str | None
    fim_template: str | None
    """Name of the FIM prompt template the vocabulary supports, or None (prefix-only)."""
    file_size: int
    sha256: str | None
    gguf_version: int
    tensor_count: int

    @property
    def parameters_human(self) -> str:
        return human_count(self.parameters)

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["parameters_human"] = self.parameters_human
        d["has_chat_template"] = self.has_chat_template
        return d

    def format_text(self) -> str:
        """Aligned ``key: value`` lines for people."""

        def opt(v: object, fmt: str = "{}") -> str:
            return "unknown" if v is None else fmt.format(v)

        heads = opt(self.heads)
        if self.heads is not None and self.kv_heads is not None and self.kv_heads != self.heads:
            heads += f" ({self.kv_heads} key/value)"
        chat = f"yes ({len(self.chat_template)} characters)" if self.chat_template else "no"
        rows = [
            ("name", self.name),
            ("path", self.path),
            ("architecture", opt(self.architecture)),
            ("parameters", f"{self.parameters_human} ({self.parameters:,})"),
            ("quantization", opt(self.quantization)),
            ("context length", opt(self.context_length, "{:,}")),
            ("embedding size", opt(self.embedding_length, "{:,}")),
            ("layers", opt(self.layers)),
            ("attention heads", heads),
            ("vocabulary", opt(self.vocab_size, "{:,} tokens")),
            ("tokenizer", opt(self.tokenizer)),
            ("license", opt(self.license)),
            ("chat template", chat),
            ("FIM template", self.fim_template or "none (prefix-only completion)"),
            ("file size", f"{self.file_size:,} bytes ({_human_bytes(self.file_size)})"),
            ("sha256", self.sha256 or "not computed"),
            ("format", f"GGUF v{self.gguf_version}, {self.tensor_count} tensors"),
        ]
        width = max(len(k) for k, _ in rows) + 2
        return "\n".join(f"{k + ':':<{width}}{v}" for k, v in rows)


def _int(value: Any) -> int | None:
    """An integer metadata value; per-layer arrays (some architectures) give their maximum."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return max(value)
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def quantization_of(g: GGUFFile) -> str | None:
    """The llama.cpp name of ``general.file_type``, else the tensor type holding the most
    elements."""
    ftype = _int(g.metadata.get("general.file_type"))
    if ftype is not None and (ftype & ~FTYPE_GUESSED) in FILE_TYPES:
        return FILE_TYPES[ftype & ~FTYPE_GUESSED]
    counts: Counter[int] = Counter()
    for t in g.tensors:
        counts[t.ggml_type] += t.n_elements
    if not counts:
        return None
    type_id, _ = counts.most_common(1)[0]
    entry = GGML_TYPES.get(type_id)
    return entry[0] if entry else None


def card_from_gguf(g: GGUFFile, *, sha256: str | None = None) -> ModelCard:
    from llamapilot.completion.templates import detect_template_name

    md = g.metadata
    arch = _str(md.get("general.architecture"))

    def arch_int(key: str) -> int | None:
        return _int(md.get(f"{arch}.{key}")) if arch else None

    tokens = md.get("tokenizer.ggml.tokens")
    if isinstance(tokens, list):
        vocab_size: int | None = len(tokens)
        token_set = {t for t in tokens if isinstance(t, str)}
    else:
        vocab_size = tokens.count if isinstance(tokens, SkippedArray) else arch_int("vocab_size")
        token_set = set()
    template = md.get("tokenizer.chat_template")
    return ModelCard(
        path=os.path.realpath(g.path),
        name=_str(md.get("general.name")) or g.path.stem,
        architecture=arch,
        parameters=sum(t.n_elements for t in g.tensors),
        quantization=quantization_of(g),
        context_length=arch_int("context_length"),
        embedding_length=arch_int("embedding_length"),
        layers=arch_int("block_count"),
        heads=arch_int("attention.head_count"),
        kv_heads=arch_int("attention.head_count_kv"),
        vocab_size=vocab_size,
        tokenizer=_str(md.get("tokenizer.ggml.model")),
        license=_str(md.get("general.license")),
        chat_template=template if isinstance(template, str) and template else None,
        fim_template=detect_template_name(token_set, md),
        file_size=g.file_size,
        sha256=sha256,
        gguf_version=g.version,
        tensor_count=len(g.tensors),
    )


def read_model_card(path: str | os.PathLike[str], *, with_sha256: bool = True) -> ModelCard:
    """Read a model card from a GGUF file's header; with ``with_sha256`` also hash the file
    (streamed, cached per path, size and modification time).

    Raises :class:`~llamapilot.errors.ModelFileError` for a missing or malformed file.
    """
    from llamapilot.models.locate import sha256_file

    g = read_gguf(Path(path), skip_arrays_over=SMALL_ARRAY, keep={"tokenizer.ggml.tokens"})
    return card_from_gguf(g, sha256=sha256_file(path) if with_sha256 else None)
