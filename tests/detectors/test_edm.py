"""Tests E-Divisive with Medians against the R package's outputs on its Scribe data."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.edm import EDM, breakout, edmx, ending_at, running_medians, scale01, segment_medians
from detectors.edm_tail import edm_tail


def test_multi_readme_example(scribe: np.ndarray) -> None:
    assert breakout(scribe, min_size=24, method="multi", beta=0.001, degree=1) == [47, 87]


def test_amoc_exact(scribe: np.ndarray) -> None:
    assert breakout(scribe, min_size=24, method="amoc") == [95]
    loc, stat = edmx(scale01(scribe), 24)
    assert (loc, round(stat, 7)) == (95, 0.1426568)


def test_amoc_interval_tree_approximation(scribe: np.ndarray) -> None:
    assert breakout(scribe, min_size=24, method="amoc", exact=False) == [47]
    loc, stat = edm_tail(scale01(scribe), 24)
    assert (loc, round(stat, 7)) == (47, 0.5904843)


def test_multi_default_penalty_finds_nothing(scribe: np.ndarray) -> None:
    assert breakout(scribe, min_size=30, method="multi") == []


def test_multi_percent(scribe: np.ndarray) -> None:
    assert breakout(scribe, min_size=24, method="multi", percent=0.25, degree=1) == [26, 51, 116]


def test_two_level_shifts_are_found_where_they_are() -> None:
    rng = np.random.default_rng(1)
    # Medians shrug off a few points of the next level, and the statistic's weight favours
    # balanced splits, so equal segments put the changes where they are (noise may move the
    # medians by a point).
    x = np.concatenate([rng.normal(0, 0.1, 60), rng.normal(8, 0.1, 60), rng.normal(2, 0.1, 60)])
    locs = breakout(x, min_size=20, method="multi")
    assert len(locs) == 2 and abs(locs[0] - 60) <= 1 and abs(locs[1] - 120) <= 1
    mask = EDM(min_size=20).detect(np.arange(len(x), dtype=float), x)
    assert np.nonzero(mask)[0].tolist() == locs
    clean = np.concatenate([np.zeros(60), np.full(60, 8.0), np.full(60, 2.0)])
    assert breakout(clean + np.arange(180) * 1e-6, min_size=20, method="multi") == [60, 120]


def test_segment_medians_match_numpy() -> None:
    z = np.random.default_rng(2).random(17)
    table = segment_medians(z)
    for t in range(17):
        for s in range(t + 1, 18):
            assert table[t, s] == np.median(z[t:s])


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError):
        breakout(np.arange(50.0), min_size=1)
    with pytest.raises(ValueError):
        breakout(np.arange(50.0), method="pelt")


def test_columns_and_rows_of_medians_match_the_table() -> None:
    z = np.random.default_rng(4).random(40)
    table = segment_medians(z)
    for s in range(1, 41):
        np.testing.assert_array_equal(ending_at(z, s), table[:s, s])
    np.testing.assert_array_equal(running_medians(z[7:]), table[7, 8:])


def test_a_long_search_tells_its_progress() -> None:
    x = np.concatenate([np.zeros(700), np.full(700, 5.0)])
    x += np.random.default_rng(5).normal(0, 0.1, 1400)
    for method in ("multi", "amoc"):
        shares: list[float] = []
        assert breakout(x, 30, method, progress=shares.append) == [700]
        assert shares == sorted(shares) and len(shares) >= 4 and 0.0 < shares[-1] <= 1.0
