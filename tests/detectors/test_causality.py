"""Tests that every streaming detector is causal, and the ``score_series`` contract."""

from __future__ import annotations

import numpy as np
import pytest

import detectors
from detectors.run import OPTIONS, score_series


def _series(n: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    t = 1.4e9 + np.arange(n) * 600.0
    x = 20 + 5 * np.sin(2 * np.pi * t / 86400) + rng.normal(0, 1, n)
    x[min(700, n - 50)] += 25
    return t, x


@pytest.mark.parametrize("name", detectors.names("streaming"))
def test_score_of_a_row_ignores_later_rows(name: str) -> None:
    t, x = _series()
    base = score_series(name, t, x)
    cut = 900
    other = x.copy()
    other[cut + 1 :] = np.random.default_rng(8).normal(100, 30, len(x) - cut - 1)
    changed = score_series(name, t, other)
    np.testing.assert_array_equal(base[: cut + 1], changed[: cut + 1])
    assert np.all((base >= 0) & (base <= 1))


@pytest.mark.parametrize("name", detectors.names("batch"))
def test_batch_scores_are_zero_or_one(name: str) -> None:
    t, x = _series(600)
    opts = {"period": 144} if name == "shesd" else {"min_size": 50}
    scores = score_series(name, t, x, **opts)
    assert set(np.unique(scores)) <= {0.0, 1.0}
    if name == "shesd":
        assert scores[550] == 1.0  # the planted spike


def test_streaming_scores_are_the_updates_scores() -> None:
    t, x = _series(300)
    det = detectors.create("gaussian", window=50)
    expected = [det.update(a, b).score for a, b in zip(t.tolist(), x.tolist(), strict=True)]
    np.testing.assert_array_equal(score_series("gaussian", t, x, window=50), expected)


def test_options_describe_every_detector() -> None:
    import inspect

    assert set(OPTIONS) == set(detectors.names())
    for name, opts in OPTIONS.items():
        params = inspect.signature(detectors.info(name).factory).parameters
        for opt in opts:
            assert opt.name in params, (name, opt.name)
            assert params[opt.name].default == opt.default, (name, opt.name)
            assert opt.help
        # ... and every option a detector takes is described, so the CLI offers all of them.
        assert set(params) == {o.name for o in opts}, name


def test_length_mismatch_is_refused() -> None:
    with pytest.raises(ValueError):
        score_series("auto", np.arange(3.0), np.arange(4.0))
