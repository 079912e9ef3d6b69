"""A pure-Python GGUF reader (versions 2 and 3, little-endian) that never loads weights.

It streams the header, the metadata and the tensor infos from the file through a small
chunk buffer. Every count and length read from the file is checked against what is left
of the file before anything is allocated or looped over, so a malformed or hostile file
ends in one :class:`~llamapilot.errors.ModelFileError` — never a huge allocation, a hang
or another exception (compare llama.cpp CVE-2024-23496 and issue #19003).

:func:`write_gguf` / :func:`encode_gguf` build small GGUF files (zero-filled tensor data),
for tests that need synthetic or deliberately corrupt models.
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import IO, Any

from llamapilot.errors import ModelFileError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_TENSOR_NAME = 64  # GGML_MAX_NAME, including llama.cpp's terminating NUL
MAX_ARRAY_DEPTH = 8
CHUNK = 1 << 20


class GGUFValueType(IntEnum):
    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


# struct format character and size of each fixed-size value type
_SCALAR: dict[GGUFValueType, tuple[str, int]] = {
    GGUFValueType.UINT8: ("B", 1),
    GGUFValueType.INT8: ("b", 1),
    GGUFValueType.UINT16: ("H", 2),
    GGUFValueType.INT16: ("h", 2),
    GGUFValueType.UINT32: ("I", 4),
    GGUFValueType.INT32: ("i", 4),
    GGUFValueType.FLOAT32: ("f", 4),
    GGUFValueType.BOOL: ("?", 1),
    GGUFValueType.UINT64: ("Q", 8),
    GGUFValueType.INT64: ("q", 8),
    GGUFValueType.FLOAT64: ("d", 8),
}

# ggml_type -> (name, block size in elements, bytes per block); from ggml.h / ggml-common.h
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
    42: ("Q2_0", 64, 18),
}
GGML_TYPE_IDS: dict[str, int] = {name: i for i, (name, _, _) in GGML_TYPES.items()}


def ggml_type_name(type_id: int) -> str:
    entry = GGML_TYPES.get(type_id)
    return entry[0] if entry else f"type {type_id}"


@dataclass(frozen=True)
class SkippedArray:
    """Stands in for an array that was checked but not kept (see ``skip_arrays_over``)."""

    item_type: GGUFValueType
    count: int


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dims: tuple[int, ...]
    ggml_type: int
    offset: int
    """Offset of the tensor's data from the start of the data section."""

    @property
    def type_name(self) -> str:
        return ggml_type_name(self.ggml_type)

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    @property
    def n_bytes(self) -> int | None:
        """Size of the data, or None for a ggml type this reader does not know."""
        entry = GGML_TYPES.get(self.ggml_type)
        if entry is None:
            return None
        _, block, size = entry
        return self.n_elements // block * size


@dataclass
class GGUFFile:
    path: Path
    version: int
    file_size: int
    metadata: dict[str, Any]
    value_types: dict[str, GGUFValueType]
    tensors: list[TensorInfo]
    alignment: int
    data_offset: int
    """Offset in the file where the tensor data begins."""

    @property
    def architecture(self) -> str | None:
        arch = self.metadata.get("general.architecture")
        return arch if isinstance(arch, str) else None


class _Short(Exception):
    """Internal: the file ends before a read completes (or a length claims too much)."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail


class _Bad(Exception):
    """Internal: a value is invalid (unknown type, too deep, ...)."""


_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class _Reader:
    """Sequential little-endian reads through a chunk buffer, bounded by the file size."""

    def __init__(self, f: IO[bytes], size: int) -> None:
        self._f = f
        self.size = size
        self._buf = b""
        self._pos = 0
        self._base = 0  # file offset of _buf[0]

    @property
    def offset(self) -> int:
        return self._base + self._pos

    @property
    def remaining(self) -> int:
        return self.size - self.offset

    def _ensure(self, n: int) -> None:
        if self._pos + n <= len(self._buf):
            return
        if n > self.remaining:
            raise _Short()
        rest = self._buf[self._pos :]
        want = max(CHUNK, n - len(rest))
        more = self._read(min(want, self.size - self._base - len(self._buf)))
        self._base += self._pos
        self._buf = rest + more
        self._pos = 0
        if len(self._buf) < n:  # the file shrank while being read
            raise _Short()

    def _read(self, n: int) -> bytes:
        parts = []
        while n > 0:
            part = self._f.read(n)
            if not part:
                break
            parts.append(part)
            n -= len(part)
        return b"".join(parts)

    def take(self, n: int) -> bytes:
        self._ensure(n)
        p = self._pos
        self._pos = p + n
        return self._buf[p : p + n]

    def u32(self) -> int:
        self._ensure(4)
        (v,) = _U32.unpack_from(self._buf, self._pos)
        self._pos += 4
        return v

    def u64(self) -> int:
        self._ensure(8)
        (v,) = _U64.unpack_from(self._buf, self._pos)
        self._pos += 8
        return v

    def string(self) -> str:
        n = self.u64()
        if n > self.remaining:
            raise _Short(f"a string of {n} bytes")
        return self.take(n).decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        for _ in range(count):
            n = self.u64()
            if n > self.remaining:
                raise _Short(f"a string of {n} bytes")
            self._ensure(n)
            self._pos += n

    def strings(self, count: int) -> list[str]:
        out: list[str] = []
        append = out.append
        unpack = _U64.unpack_from
        for _ in range(count):
            buf, pos = self._buf, self._pos
            if pos + 8 <= len(buf):
                (n,) = unpack(buf, pos)
                end = pos + 8 + n
                if end <= len(buf):  # fast path: length and bytes both in the buffer
                    append(buf[pos + 8 : end].decode("utf-8", errors="replace"))
                    self._pos = end
                    continue
            append(self.string())
        return out

    def scalar(self, vtype: GGUFValueType) -> Any:
        fmt, size = _SCALAR[vtype]
        self._ensure(size)
        (v,) = struct.unpack_from("<" + fmt, self._buf, self._pos)
        self._pos += size
        return v

    def scalars(self, vtype: GGUFValueType, count: int) -> list[Any]:
        fmt, size = _SCALAR[vtype]
        total = count * size
        if total > self.remaining:
            raise _Short(f"an array of {count} items")
        data = self.take(total)
        return list(struct.unpack(f"<{count}{fmt}", data))

    def skip(self, n: int) -> None:
        if n > self.remaining:
            raise _Short()
        while n:
            step = min(n, CHUNK)
            self._ensure(step)
            self._pos += step
            n -= step


def _value_type(raw: int) -> GGUFValueType:
    try:
        return GGUFValueType(raw)
    except ValueError:
        raise _Bad(f"unknown value type {raw}") from None


def _read_array(r: _Reader, depth: int, force: bool, skip_over: int | None) -> Any:
    if depth > MAX_ARRAY_DEPTH:
        raise _Bad(f"arrays nested deeper than {MAX_ARRAY_DEPTH}")
    item_type = _value_type(r.u32())
    count = r.u64()
    min_item = 12 if item_type is GGUFValueType.ARRAY else 8
    if item_type in _SCALAR:
        min_item = _SCALAR[item_type][1]
    if count * min_item > r.remaining:
        raise _Short(f"an array of {count} items")
    keep = force or skip_over is None or count <= skip_over
    if item_type is GGUFValueType.STRING:
        if keep:
            return r.strings(count)
        r.skip_strings(count)
    elif item_type in _SCALAR:
        if keep:
            values = r.scalars(item_type, count)
            return [bool(v) for v in values] if item_type is GGUFValueType.BOOL else values
        r.skip(count * _SCALAR[item_type][1])
    else:
        items = [_read_array(r, depth + 1, force, skip_over) for _ in range(count)]
        if keep:
            return items
    return SkippedArray(item_type, count)


def _read_value(r: _Reader, vtype: GGUFValueType, force: bool, skip_over: int | None) -> Any:
    if vtype is GGUFValueType.STRING:
        return r.string()
    if vtype is GGUFValueType.ARRAY:
        return _read_array(r, 1, force, skip_over)
    return r.scalar(vtype)


def _open(path: Path) -> tuple[IO[bytes], int]:
    """Open a regular file for reading without blocking on FIFOs or devices."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ModelFileError(path, "no such file") from None
    except IsADirectoryError:
        raise ModelFileError(path, "is a directory, not a model file") from None
    except PermissionError:
        raise ModelFileError(path, "permission denied") from None
    except OSError as exc:
        raise ModelFileError(path, f"cannot open: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ModelFileError(path, "is a directory, not a model file")
        if not stat.S_ISREG(st.st_mode):
            raise ModelFileError(path, "not a regular file")
        if st.st_size == 0:
            raise ModelFileError(path, "file is empty")
        return os.fdopen(fd, "rb", buffering=0), st.st_size
    except BaseException:
        os.close(fd)
        raise


def read_gguf(
    path: str | os.PathLike[str],
    *,
    skip_arrays_over: int | None = None,
    keep: Container[str] = (),
    check_data: bool = True,
) -> GGUFFile:
    """Parse a GGUF file's header, metadata and tensor infos.

    Arrays with more than ``skip_arrays_over`` items are checked but not kept (their value
    becomes a :class:`SkippedArray`), except for the keys in ``keep``. With ``check_data``
    the tensor data must lie inside the file (a file cut short after its header fails).
    Any problem raises :class:`ModelFileError`.
    """
    p = Path(path)
    f, size = _open(p)
    with f:
        try:
            return _parse(p, f, size, skip_arrays_over, keep, check_data)
        except OSError as exc:
            raise ModelFileError(p, f"cannot read: {exc.strerror or exc}") from None


def _parse(
    path: Path,
    f: IO[bytes],
    size: int,
    skip_over: int | None,
    keep: Container[str],
    check_data: bool,
) -> GGUFFile:
    r = _Reader(f, size)
    if size < 4:
        raise ModelFileError(path, f"not a GGUF file (only {size} bytes)")
    magic = r.take(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(path, f"not a GGUF file (bad magic {magic!r})")
    try:
        version = r.u32()
        n_tensors = r.u64()
        n_kv = r.u64()
    except _Short:
        raise ModelFileError(path, "truncated: the header runs past the end of the file") from None
    if version not in SUPPORTED_VERSIONS:
        swapped = int.from_bytes(version.to_bytes(4, "little"), "big")
        if swapped in (1, 2, 3):
            raise ModelFileError(path, f"big-endian GGUF (version {swapped}) is not supported")
        raise ModelFileError(
            path, f"unsupported GGUF version {version} (llamapilot reads versions 2 and 3)"
        )
    # each key/value needs at least 13 bytes, each tensor info at least 24
    if n_kv * 13 > r.remaining:
        raise ModelFileError(path, f"truncated or corrupt: the header claims {n_kv} metadata keys")
    if n_tensors * 24 > r.remaining:
        raise ModelFileError(path, f"truncated or corrupt: the header claims {n_tensors} tensors")

    metadata: dict[str, Any] = {}
    value_types: dict[str, GGUFValueType] = {}
    for i in range(n_kv):
        key: str | None = None
        try:
            key = r.string()
            vtype = _value_type(r.u32())
            value = _read_value(r, vtype, key in keep, skip_over)
        except _Short as exc:
            raise ModelFileError(path, _short_problem(f"metadata key {i}", key, exc)) from None
        except _Bad as exc:
            raise ModelFileError(path, f"corrupt: metadata key {i}{_named(key)}: {exc}") from None
        if key in metadata:
            raise ModelFileError(path, f"corrupt: duplicate metadata key {key!r}")
        metadata[key] = value
        value_types[key] = vtype

    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    align_type = value_types.get("general.alignment", GGUFValueType.UINT32)
    if align_type is not GGUFValueType.UINT32:
        raise ModelFileError(path, f"corrupt: general.alignment is a {align_type.name}, not UINT32")
    if alignment <= 0 or alignment & (alignment - 1):
        raise ModelFileError(path, f"corrupt: general.alignment {alignment} is not a power of 2")

    tensors: list[TensorInfo] = []
    names: set[str] = set()
    for i in range(n_tensors):
        name: str | None = None
        try:
            name = r.string()
            n_dims = r.u32()
            if n_dims > MAX_DIMS:
                raise _Bad(f"{n_dims} dimensions (at most {MAX_DIMS})")
            dims = tuple(r.u64() for _ in range(n_dims))
            ggml_type = r.u32()
            offset = r.u64()
        except _Short as exc:
            raise ModelFileError(path, _short_problem(f"tensor info {i}", name, exc)) from None
        except _Bad as exc:
            raise ModelFileError(path, f"corrupt: tensor {i}{_named(name)}: {exc}") from None
        problem = _tensor_problem(name, dims, ggml_type, offset, alignment, names)
        if problem:
            raise ModelFileError(path, f"corrupt: tensor {i} {name!r}: {problem}")
        names.add(name)
        tensors.append(TensorInfo(name, dims, ggml_type, offset))

    data_offset = -(-r.offset // alignment) * alignment
    if check_data:
        for t in tensors:
            nbytes = t.n_bytes or 0
            if data_offset + t.offset + nbytes > size:
                raise ModelFileError(
                    path, f"truncated: the data of tensor {t.name!r} runs past the end of the file"
                )
    return GGUFFile(path, version, size, metadata, value_types, tensors, alignment, data_offset)


def _named(name: str | None) -> str:
    return f" ({name!r})" if name is not None else ""


def _short_problem(what: str, name: str | None, exc: _Short) -> str:
    if exc.detail:
        where = f"{what}{_named(name)}"
        return f"truncated or corrupt: {where} claims {exc.detail}, past the end of the file"
    return f"truncated: {what}{_named(name)} runs past the end of the file"


def _tensor_problem(
    name: str, dims: tuple[int, ...], ggml_type: int, offset: int, alignment: int, seen: set[str]
) -> str | None:
    if len(name.encode("utf-8")) >= MAX_TENSOR_NAME:
        return f"name longer than {MAX_TENSOR_NAME - 1} bytes"
    if name in seen:
        return "duplicate tensor name"
    n = 1
    for d in dims:
        if d >= 1 << 63:
            return f"dimension {d} out of range"
        n *= d
    if n >= 1 << 63:
        return "element count overflows"
    entry = GGML_TYPES.get(ggml_type)
    if entry is not None and dims and dims[0] % entry[1]:
        return f"row size {dims[0]} is not a multiple of the {entry[0]} block size {entry[1]}"
    if offset % alignment:
        return f"data offset {offset} is not aligned to {alignment}"
    return None


# --- writing (for tests and tools) ----------------------------------------------------


@dataclass(frozen=True)
class Typed:
    """A metadata value with an explicit GGUF type (for arrays: the item type)."""

    type: GGUFValueType
    value: Any


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dims: tuple[int, ...]
    ggml_type: int | str = "F32"


def _infer(value: Any) -> GGUFValueType:
    if isinstance(value, bool):
        return GGUFValueType.BOOL
    if isinstance(value, int):
        if -(1 << 31) <= value < 1 << 31:
            return GGUFValueType.INT32
        return GGUFValueType.INT64 if value < 0 else GGUFValueType.UINT64
    if isinstance(value, float):
        return GGUFValueType.FLOAT32
    if isinstance(value, str):
        return GGUFValueType.STRING
    if isinstance(value, (list, tuple)):
        return GGUFValueType.ARRAY
    raise TypeError(f"no GGUF type for {type(value).__name__}")


def _enc_string(s: str) -> bytes:
    b = s.encode("utf-8")
    return _U64.pack(len(b)) + b


def _enc_value(vtype: GGUFValueType, value: Any, item_type: GGUFValueType | None = None) -> bytes:
    if vtype is GGUFValueType.STRING:
        return _enc_string(value)
    if vtype is GGUFValueType.ARRAY:
        items = list(value)
        if item_type is None:
            item_type = _infer(items[0]) if items else GGUFValueType.INT32
        out = [_U32.pack(item_type), _U64.pack(len(items))]
        out += [_enc_item(item_type, v) for v in items]
        return b"".join(out)
    fmt, _ = _SCALAR[vtype]
    return struct.pack("<" + fmt, value)


def _enc_item(item_type: GGUFValueType, value: Any) -> bytes:
    if isinstance(value, Typed):  # a nested array with its own item type
        return _enc_value(GGUFValueType.ARRAY, value.value, value.type)
    return _enc_value(item_type, value)


def encode_gguf(
    metadata: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
    tensors: Sequence[TensorSpec] = (),
    *,
    version: int = 3,
    alignment: int = DEFAULT_ALIGNMENT,
    with_data: bool = True,
) -> bytes:
    """The bytes of a GGUF file. Values are typed from Python (int → INT32/INT64, float →
    FLOAT32, list → ARRAY of the first item's type) unless wrapped in :class:`Typed`
    (for an ARRAY, ``Typed(item_type, items)``). Tensor data is zeros."""
    items = list(metadata.items() if isinstance(metadata, Mapping) else metadata)
    if alignment != DEFAULT_ALIGNMENT and not any(k == "general.alignment" for k, _ in items):
        items.append(("general.alignment", Typed(GGUFValueType.UINT32, alignment)))
    body = [GGUF_MAGIC, _U32.pack(version), _U64.pack(len(tensors)), _U64.pack(len(items))]
    for key, value in items:
        body.append(_enc_string(key))
        if isinstance(value, Typed):
            if isinstance(value.value, (list, tuple)):
                body += [_U32.pack(GGUFValueType.ARRAY)]
                body.append(_enc_value(GGUFValueType.ARRAY, value.value, value.type))
            else:
                body += [_U32.pack(value.type), _enc_value(value.type, value.value)]
        else:
            vtype = _infer(value)
            body += [_U32.pack(vtype), _enc_value(vtype, value)]
    offset = 0
    for t in tensors:
        type_id = GGML_TYPE_IDS[t.ggml_type] if isinstance(t.ggml_type, str) else t.ggml_type
        info = TensorInfo(t.name, tuple(t.dims), type_id, offset)
        nbytes = info.n_bytes or 0
        body += [_enc_string(t.name), _U32.pack(len(t.dims))]
        body += [_U64.pack(d) for d in t.dims]
        body += [_U32.pack(type_id), _U64.pack(offset)]
        offset += -(-nbytes // alignment) * alignment
    out = b"".join(body)
    if with_data and tensors:
        out += b"\0" * (-len(out) % alignment) + b"\0" * offset
    return out


def write_gguf(
    path: str | os.PathLike[str],
    metadata: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
    tensors: Sequence[TensorSpec] = (),
    **kwargs: Any,
) -> Path:
    """Write :func:`encode_gguf`'s bytes to ``path`` and return it."""
    p = Path(path)
    p.write_bytes(encode_gguf(metadata, tensors, **kwargs))
    return p


__all__ = [
    "GGML_TYPES",
    "GGUFFile",
    "GGUFValueType",
    "SkippedArray",
    "TensorInfo",
    "TensorSpec",
    "Typed",
    "encode_gguf",
    "ggml_type_name",
    "read_gguf",
    "write_gguf",
]
