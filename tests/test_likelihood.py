"""The query-likelihood helpers that need no model (the scoring itself: tests/test_llm_local.py)."""

from __future__ import annotations

import pytest

from assistant.llm.likelihood import _spread, mean_gain


@pytest.mark.parametrize(("n", "most"), [(1, 32), (5, 32), (32, 32), (33, 32), (400, 32)])
def test_a_long_question_is_scored_on_evenly_spread_tokens_first_and_last_included(n: int, most: int) -> None:
    picks = _spread(n, most)
    assert picks == sorted(set(picks))
    assert len(picks) == min(n, most)
    assert picks[0] == 0 and picks[-1] == n - 1
    if n > most:  # no two picks further apart than an even split allows
        assert max(b - a for a, b in zip(picks, picks[1:], strict=False)) <= -(-(n - 1) // (most - 1))


def test_gain_is_the_mean_difference_and_none_without_scores() -> None:
    assert mean_gain([-1.0, -3.0], [-2.0, -2.0]) == pytest.approx(0.0)
    assert mean_gain([-1.0], [-3.0]) == pytest.approx(2.0)
    assert mean_gain([], []) is None
    assert mean_gain([-1.0], []) is None
