"""A model's vocabulary as byte pieces, and the token masks for forced prefixes."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np


class Vocabulary:
    """Token pieces (raw bytes) with a sorted index for prefix look-ups."""

    def __init__(self, pieces: Sequence[bytes], special: set[int]) -> None:
        self.pieces = list(pieces)
        self.special = special
        order = sorted(
            (p, i) for i, p in enumerate(self.pieces) if p and i not in special
        )
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
        hi = lo
        n = len(self._sorted)
        while hi < n and self._sorted[hi].startswith(remaining):
            hi += 1
        ids += self._ids[lo:hi]
        return np.unique(np.asarray(ids, dtype=np.int64))
