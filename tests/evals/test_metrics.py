from __future__ import annotations

import math
from math import comb

import pytest

from llamapilot.evals.metrics import (
    edit_similarity,
    exact_match,
    mean_pass_at_k,
    pass_at_k,
    percentile,
)


@pytest.mark.parametrize(
    ("n", "c", "k"),
    [(10, 0, 1), (10, 3, 1), (10, 3, 5), (20, 19, 10), (200, 7, 100), (5, 5, 5), (1, 1, 1)],
)
def test_pass_at_k_is_the_unbiased_estimator(n: int, c: int, k: int) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k))


def test_pass_at_1_is_the_share_of_correct_samples() -> None:
    assert mean_pass_at_k([(1, 1), (1, 0), (1, 0), (1, 1)], 1) == 0.5
    assert mean_pass_at_k([(4, 1)], 1) == 0.25
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 5)


def test_exact_match_and_edit_similarity() -> None:
    assert exact_match("  return x  ", "return x")
    assert not exact_match("return y", "return x")
    assert edit_similarity("return x", "return x") == 1.0
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert edit_similarity("", "") == 1.0
    assert edit_similarity("abc", "") == 0.0


def test_percentiles() -> None:
    xs = list(range(1, 101))
    assert percentile(xs, 50) == pytest.approx(50.5)
    assert percentile(xs, 99) == pytest.approx(99.01)
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))
