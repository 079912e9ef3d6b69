"""The GGUF reader: the real embedded model, every value type, and malformed files."""

from __future__ import annotations

import os
import random
import struct
import time
from pathlib import Path

import pytest

from llamapilot.errors import ModelFileError
from llamapilot.models.gguf import (
    GGUFValueType,
    SkippedArray,
    TensorSpec,
    Typed,
    encode_gguf,
    read_gguf,
    write_gguf,
)

from .conftest import tiny_metadata, tiny_tensors

# --- the real model -------------------------------------------------------------------


def test_reads_the_embedded_model_header(embedded_path: Path) -> None:
    g = read_gguf(embedded_path)
    md = g.metadata
    assert g.version == 3
    assert g.file_size == embedded_path.stat().st_size
    assert md["general.architecture"] == "llama"
    assert md["llama.block_count"] == 30
    assert md["llama.context_length"] == 8192
    assert md["llama.embedding_length"] == 576
    assert md["llama.attention.head_count"] == 9
    assert md["llama.attention.head_count_kv"] == 3
    assert md["general.license"] == "apache-2.0"
    assert md["tokenizer.ggml.model"] == "gpt2"
    assert md["tokenizer.ggml.add_bos_token"] is False
    assert "<|im_start|>" in md["tokenizer.chat_template"]
    tokens = md["tokenizer.ggml.tokens"]
    assert len(tokens) == 49152
    assert tokens[:3] == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    assert len(md["tokenizer.ggml.token_type"]) == 49152
    assert all(isinstance(m, str) for m in md["tokenizer.ggml.merges"][:100])

    # 30 blocks of 9 tensors, plus the embeddings and the output norm
    assert len(g.tensors) == 30 * 9 + 2
    embd = next(t for t in g.tensors if t.name == "token_embd.weight")
    assert embd.dims == (576, 49152)
    assert {t.type_name for t in g.tensors} == {"F32", "Q4_1", "Q8_0"}
    assert g.data_offset % g.alignment == 0
    # the last tensor's data ends exactly at the end of the file
    assert max(g.data_offset + t.offset + (t.n_bytes or 0) for t in g.tensors) == g.file_size
    n_params = sum(t.n_elements for t in g.tensors)
    assert 130e6 < n_params < 140e6  # the model's size label says "135M"
    assert md["general.size_label"] == "135M"


def test_token_arrays_parse_fast(embedded_path: Path) -> None:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        read_gguf(embedded_path)
        best = min(best, time.perf_counter() - start)
    assert best < 0.5


def test_big_arrays_can_be_skipped(embedded_path: Path) -> None:
    g = read_gguf(embedded_path, skip_arrays_over=1000, keep={"tokenizer.ggml.tokens"})
    assert len(g.metadata["tokenizer.ggml.tokens"]) == 49152
    merges = g.metadata["tokenizer.ggml.merges"]
    assert merges == SkippedArray(GGUFValueType.STRING, 48900)
    assert g.metadata["general.languages"] == ["en"]


# --- round trip through the writer -----------------------------------------------------


def test_every_value_type_round_trips(tmp_path: Path) -> None:
    T = GGUFValueType
    md = {
        "u8": Typed(T.UINT8, 255),
        "i8": Typed(T.INT8, -128),
        "u16": Typed(T.UINT16, 65535),
        "i16": Typed(T.INT16, -32768),
        "u32": Typed(T.UINT32, 2**32 - 1),
        "i32": -(2**31),
        "f32": 1.5,
        "bool": True,
        "str": "héllo ✓",
        "empty": "",
        "u64": Typed(T.UINT64, 2**64 - 1),
        "i64": Typed(T.INT64, -(2**63)),
        "f64": Typed(T.FLOAT64, 0.1),
        "ints": [1, 2, 3],
        "bools": [True, False],
        "strs": ["a", "", "ü"],
        "no items": Typed(T.STRING, []),
        "nested": Typed(T.ARRAY, [Typed(T.INT8, [1, -1]), Typed(T.STRING, ["x"]), []]),
    }
    path = write_gguf(tmp_path / "types.gguf", md, [TensorSpec("t", (4, 2), "F32")])
    g = read_gguf(path)
    want = {k: (v.value if isinstance(v, Typed) else v) for k, v in md.items()}
    want["nested"] = [[1, -1], ["x"], []]
    assert g.metadata == want
    assert g.value_types["u8"] is T.UINT8
    assert g.value_types["f64"] is T.FLOAT64
    assert g.value_types["nested"] is T.ARRAY
    assert [(t.name, t.dims, t.type_name, t.n_elements) for t in g.tensors] == [
        ("t", (4, 2), "F32", 8)
    ]


def test_version_2_and_custom_alignment(tmp_path: Path) -> None:
    path = write_gguf(
        tmp_path / "v2.gguf", tiny_metadata(), tiny_tensors(), version=2, alignment=64
    )
    g = read_gguf(path)
    assert g.version == 2
    assert g.alignment == 64
    assert g.data_offset % 64 == 0
    assert all(t.offset % 64 == 0 for t in g.tensors)


# --- files that are not models -----------------------------------------------------------


def problem(path: Path, **kwargs: object) -> str:
    with pytest.raises(ModelFileError) as info:
        read_gguf(path, **kwargs)  # type: ignore[arg-type]
    assert info.value.path == str(path)
    assert "\n" not in info.value.problem
    return info.value.problem


def test_missing_empty_and_directory(tmp_path: Path) -> None:
    assert problem(tmp_path / "nope.gguf") == "no such file"
    (tmp_path / "empty.gguf").write_bytes(b"")
    assert problem(tmp_path / "empty.gguf") == "file is empty"
    assert "directory" in problem(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "model.gguf"
    os.mkfifo(fifo)
    assert problem(fifo) == "not a regular file"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "locked.gguf", tiny_metadata())
    path.chmod(0)
    assert problem(path) == "permission denied"


def test_wrong_magic_short_file_and_versions(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    assert problem(path) == "not a GGUF file (bad magic b'PK\\x03\\x04')"
    path.write_bytes(b"GG")
    assert problem(path) == "not a GGUF file (only 2 bytes)"
    good = encode_gguf(tiny_metadata(), tiny_tensors())
    for version, expected in [(1, "unsupported GGUF version 1"), (4, "unsupported GGUF version 4")]:
        path.write_bytes(good[:4] + struct.pack("<I", version) + good[8:])
        assert problem(path).startswith(expected)
    path.write_bytes(good[:4] + struct.pack(">I", 3) + good[8:])
    assert problem(path) == "big-endian GGUF (version 3) is not supported"


def test_every_cut_of_the_real_header_is_a_clear_error(embedded_path: Path, tmp_path: Path) -> None:
    with embedded_path.open("rb") as f:
        head = f.read(64 * 1024)
    cuts = sorted({*range(0, 40), *range(40, len(head), 331), len(head) - 1})
    path = tmp_path / "cut.gguf"
    for cut in cuts:
        path.write_bytes(head[:cut])
        text = problem(path)
        assert text.startswith(("file is empty", "not a GGUF file", "truncated")), (cut, text)


def test_a_file_cut_inside_the_tensor_data_is_an_error(embedded_path: Path, tmp_path: Path) -> None:
    data_offset = read_gguf(embedded_path, skip_arrays_over=0).data_offset
    with embedded_path.open("rb") as f:
        head = f.read(data_offset + 4096)
    path = tmp_path / "cut.gguf"
    path.write_bytes(head)
    assert "data of tensor" in problem(path)
    # without the data check the header alone is readable
    assert len(read_gguf(path, check_data=False).tensors) == 272


def _key_offsets(data: bytes) -> tuple[int, int]:
    """Offsets of the first key's length field and of its value type field."""
    (key_len,) = struct.unpack_from("<Q", data, 24)
    return 24, 24 + 8 + key_len


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ("string length", "claims a string of"),
        ("array count", "claims an array of"),
        ("kv count", "claims"),
        ("tensor count", "claims"),
        ("value type", "unknown value type"),
    ],
)
def test_bit_flipped_lengths_fail_fast(tmp_path: Path, patch: str, expected: str) -> None:
    md = {"general.name": "x" * 10, "list": Typed(GGUFValueType.STRING, ["a", "b"])}
    data = bytearray(encode_gguf(md, tiny_tensors()))
    key_at, type_at = _key_offsets(bytes(data))
    huge = 0xFFFF_FFFF_FFFF_FF00
    if patch == "string length":
        struct.pack_into("<Q", data, type_at + 4, huge)  # general.name's value length
    elif patch == "array count":
        list_key_at = type_at + 4 + 8 + 10
        list_type_at = list_key_at + 8 + len("list")
        struct.pack_into("<Q", data, list_type_at + 4 + 4, huge)
    elif patch == "kv count":
        struct.pack_into("<Q", data, 16, huge)
    elif patch == "tensor count":
        struct.pack_into("<Q", data, 8, huge)
    else:
        struct.pack_into("<I", data, type_at, 77)
    path = tmp_path / "flipped.gguf"
    path.write_bytes(bytes(data))
    start = time.perf_counter()
    assert expected in problem(path)
    assert time.perf_counter() - start < 0.5


def test_structural_limits(tmp_path: Path) -> None:
    T = GGUFValueType
    deep: object = [1]
    for _ in range(20):
        deep = Typed(T.ARRAY, [deep])
    cases = [
        ({"deep": deep}, [], "nested deeper"),
        ({"general.alignment": Typed(T.UINT32, 24)}, [], "not a power of 2"),
        ({"general.alignment": "32"}, [], "is a STRING, not UINT32"),
        ([("a", 1), ("a", 2)], [], "duplicate metadata key 'a'"),
        ({}, [TensorSpec("t" * 64, (4,), "F32")], "name longer than"),
        ({}, [TensorSpec("t", (4,)), TensorSpec("t", (4,))], "duplicate tensor name"),
        ({}, [TensorSpec("t", (2, 2, 2, 2, 2))], "5 dimensions"),
        ({}, [TensorSpec("t", (33,), "Q4_0")], "not a multiple of the Q4_0 block size"),
        ({}, [TensorSpec("t", (2**40, 2**40))], "overflows"),
    ]
    for i, (md, tensors, expected) in enumerate(cases):
        path = tmp_path / f"case{i}.gguf"
        path.write_bytes(encode_gguf(md, tensors, with_data=False))
        assert expected in problem(path, check_data=False), (i, expected)


def test_random_byte_flips_give_model_file_error_or_success(tmp_path: Path) -> None:
    rng = random.Random(1234)
    md = tiny_metadata(
        ["<fim_prefix>", "<fim_suffix>", "<fim_middle>", "x", "yy"],
        **{"general.license": "mit", "nested": Typed(GGUFValueType.ARRAY, [[1, 2], [3]])},
    )
    good = encode_gguf(md, tiny_tensors(5))
    path = tmp_path / "fuzz.gguf"
    outcomes = {"ok": 0, "error": 0}
    start = time.perf_counter()
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data))
            if rng.random() < 0.5:
                data[pos] ^= 1 << rng.randrange(8)
            else:
                data[pos] = rng.choice((0x00, 0xFF, 0x7F, 0x80))
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        path.write_bytes(bytes(data))
        try:
            read_gguf(path)
        except ModelFileError as exc:
            assert exc.problem and "\n" not in exc.problem
            outcomes["error"] += 1
        else:
            outcomes["ok"] += 1
    assert outcomes["error"] > 50
    assert time.perf_counter() - start < 20
