"""A model's vocabulary as byte pieces, and the token masks for forced prefixes."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np


def _gpt2_byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level BPE alphabet: the printable character that stands for each byte."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs, strict=True)}


def decode_token_texts(texts: Sequence[str], model: str) -> list[bytes | None]:
    """Token pieces from the vocabulary's stored texts, without a call per token into
    llama.cpp: byte-level BPE (``gpt2``) maps characters back to bytes, SentencePiece
    (``llama``) spells spaces ``▁`` and bytes ``<0xAB>``. None where a text does not
    decode that way (the caller asks llama.cpp for those)."""
    out: list[bytes | None] = []
    if model == "gpt2":
        table = _gpt2_byte_decoder()
        for t in texts:
            try:
                out.append(bytes(table[c] for c in t))
            except KeyError:
                out.append(None)
    elif model == "llama":
        for t in texts:
            if len(t) == 6 and t.startswith("<0x") and t.endswith(">"):
                out.append(bytes([int(t[3:5], 16)]))
            else:
                out.append(t.replace("▁", " ").encode("utf-8"))
    else:
        out = [None] * len(texts)
    return out


class Vocabulary:
    """Token pieces (raw bytes) with a sorted index for prefix look-ups."""

    def __init__(self, pieces: Sequence[bytes], special: set[int]) -> None:
        self.pieces = list(pieces)
        self.special = special
        order = sorted((p, i) for i, p in enumerate(self.pieces) if p and i not in special)
        self._sorted = [p for p, _ in order]
        self._ids = [i for _, i in order]
        self._by_piece: dict[bytes, list[int]] = {}
        for p, i in order:
            self._by_piece.setdefault(p, []).append(i)

    def __len__(self) -> int:
        return len(self.pieces)

    def compatible(self, remaining: bytes) -> np.ndarray:
        """Ids of the tokens that agree with ``remaining``: the token is a prefix of it,
        or it starts with all of it."""
        ids: list[int] = []
        for k in range(1, len(remaining) + 1):
            ids += self._by_piece.get(remaining[:k], ())
        lo = bisect.bisect_left(self._sorted, remaining)
        if remaining and remaining[-1] < 0xFF:  # every piece starting with it sorts below
            upper = remaining[:-1] + bytes([remaining[-1] + 1])
            hi = bisect.bisect_left(self._sorted, upper, lo)
        else:
            hi = lo
            while hi < len(self._sorted) and self._sorted[hi].startswith(remaining):
                hi += 1
        ids += self._ids[lo:hi]
        return np.unique(np.asarray(ids, dtype=np.int64))
