"""Scores: pass@k (the unbiased estimator), exact match, edit similarity, percentiles."""

from __future__ import annotations

import math
from collections.abc import Sequence
from difflib import SequenceMatcher


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn from ``n`` (``c`` correct)
    passes: 1 - C(n-c, k) / C(n, k) (Chen et al. 2021), computed stably."""
    if k <= 0 or n <= 0:
        raise ValueError("n and k must be positive")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples per task, got {n}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """Mean pass@k over tasks given ``(n, c)`` per task."""
    if not counts:
        return 0.0
    return sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)


def exact_match(predicted: str, expected: str) -> bool:
    """Equal after stripping surrounding whitespace (each line's trailing spaces too)."""
    norm = lambda s: "\n".join(line.rstrip() for line in s.strip().split("\n"))  # noqa: E731
    return norm(predicted) == norm(expected)


def edit_similarity(predicted: str, expected: str) -> float:
    """1 - normalized Levenshtein distance, 0..1 (CrossCodeEval's ES, scaled to 1)."""
    a, b = predicted.strip(), expected.strip()
    if not a and not b:
        return 1.0
    if len(a) * len(b) > 4_000_000:  # very long strings: difflib's ratio is close enough
        return SequenceMatcher(None, a, b).ratio()
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return 1.0 - prev[-1] / max(len(a), len(b))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
