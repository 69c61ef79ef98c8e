"""Tests the default detector and its vectorised bank."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.auto import Auto, rest_scores
from detectors.auto_bank import AutoBank, bytes_per_series
from detectors.run import score_series


def _run(x: np.ndarray, **options: int | float) -> list:  # type: ignore[type-arg]
    det = Auto(**options)  # type: ignore[arg-type]
    return [det.update(float(i), float(xi)) for i, xi in enumerate(x)]


def test_a_spike_scores_high_once_and_reads_as_words() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(10, 1, 3000)
    x[2500:2505] = 40.0
    v = _run(x)
    high = [i for i, vi in enumerate(v) if vi.score >= 0.3]
    assert high == [2500]
    assert v[2500].anomalous and v[2500].expected == pytest.approx(10, abs=1.0)
    assert "x its usual change, rarer than 1 in" in v[2500].reason
    assert max(vi.score for vi in v[2501:2505]) < v[2500].score  # the same episode rests


def test_a_level_shift_is_caught_at_its_first_point() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(100, 2, 4000)
    x[3000:] += 30
    v = _run(x)
    assert v[3000].score >= 0.3
    assert [i for i, vi in enumerate(v) if vi.score >= 0.3 and i < 3000] == []


def test_a_worse_point_speaks_again_within_an_episode() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(10, 1, 2000)
    x[1500], x[1502] = 20.0, 200.0
    v = _run(x)
    assert v[1500].score > 0 and v[1502].score > v[1500].score


@pytest.mark.parametrize(
    "make",
    [
        lambda rng, n: np.full(n, 5.0),  # flat
        lambda rng, n: np.zeros(n),  # flat at zero
        lambda rng, n: 300 + np.round(rng.normal(0, 0.4, n)),  # a few hundred B/s, quantised
        lambda rng, n: 300 + 1e-9 * rng.normal(0, 1, n),  # floating point noise on a flat rate
        lambda rng, n: np.where(rng.random(n) < 0.02, 60.0, 0.0) + 240,  # rare tiny bumps
    ],
)
def test_flat_and_nearly_flat_series_stay_ordinary(make) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    v = _run(make(rng, 3000))
    assert max(vi.score for vi in v) < 0.3
    assert not any(vi.anomalous for vi in v)


def test_a_flat_series_that_moves_a_lot_is_news() -> None:
    x = np.full(2000, 300.0)
    x[1500] = 600.0
    v = _run(x)
    assert v[1500].score >= 0.3 and v[1500].anomalous


def test_calibration_one_threshold_means_the_same_on_every_series() -> None:
    """Long stationary noise of very different scales and shapes: the fraction of points at or
    above the default threshold is the same small rate (none in 40,000 here) on each."""
    rng = np.random.default_rng(4)
    n = 40000
    e = rng.normal(0, 1, n)
    ar = np.zeros(n)
    for i in range(1, n):
        ar[i] = 0.9 * ar[i - 1] + e[i]
    series = {
        "normal": rng.normal(1000, 5, n),
        "laplace, tiny": rng.laplace(0, 0.01, n),
        "exponential, huge": rng.exponential(3e6, n),
        "poisson counts": rng.poisson(3, n).astype(float),
        "uniform": rng.uniform(-1e-3, 1e-3, n),
        "ar(1)": ar + 50,
    }
    for name, x in series.items():
        scores = score_series("auto", np.arange(n, dtype=float), x)[1000:]
        assert np.mean(scores >= Auto().params.threshold) <= 1e-4, name
        # ... and no series is left silent by a scale of its own: on each, a few in a hundred
        # points reach 0.1 (a tail of 1 in 10 under the fitted heavy tail).
        assert 0.01 <= np.mean(scores >= 0.1) <= 0.2, name


def test_rest_scores_is_the_detectors_own_rule() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_t(3, 3000)
    t = np.arange(len(x), dtype=float)
    raw = score_series("auto", t, x, rest=1)
    for rest in (7, 100):
        np.testing.assert_array_equal(rest_scores(raw, rest), score_series("auto", t, x, rest=rest))


def assert_bank_matches_singles(data: np.ndarray, **options: int) -> None:
    """Feed the rows of ``data`` to a bank and to one ``Auto`` per column; compare every verdict."""
    k = data.shape[1]
    bank = AutoBank(k, **options)  # type: ignore[arg-type]
    singles = [Auto(**options) for _ in range(k)]  # type: ignore[arg-type]
    for i, row in enumerate(data):
        score, anomalous, expected, low, high = bank.update(float(i), row)
        for j, det in enumerate(singles):
            v = det.update(float(i), float(row[j]))
            assert score[j] == pytest.approx(v.score, abs=1e-12)
            assert anomalous[j] == v.anomalous
            if v.expected is None:
                assert np.isnan(expected[j])
            else:
                assert expected[j] == pytest.approx(v.expected)
                assert (low[j], high[j]) == pytest.approx((v.low, v.high))


@pytest.mark.parametrize("options", [{}, {"average": 3, "rest": 20, "warmup": 10, "memory": 300}])
def test_bank_matches_single_detectors(options: dict[str, int]) -> None:
    rng = np.random.default_rng(6)
    data = rng.normal(0, 1, (1500, 10)) * rng.uniform(0.5, 5, 10) + rng.uniform(-3, 3, 10)
    data[1250, 4] += 25
    data[100:130, 7] = np.nan
    data[::17, 2] = np.nan
    data[:, 5] = 7.0
    data[1000:, 5] = 9.0
    data[:, 6] = np.round(data[:, 6])
    data[:, 8] = np.where(rng.random(len(data)) < 0.05, 50.0, 0.0)
    assert_bank_matches_singles(data, **options)


def test_bank_refuses_the_wrong_shape() -> None:
    with pytest.raises(ValueError):
        AutoBank(3).update(0.0, np.zeros(4))


def test_bytes_per_series_counts_the_banks_arrays() -> None:
    bank = AutoBank(1000, average=3)
    held = sum(a.nbytes for a in (*bank.f.values(), *bank.i.values()))
    held += bank.quantum.nbytes + bank.ring.nbytes + bank.on.nbytes
    assert held == 1000 * bytes_per_series(3)


def test_knobs_outside_their_domain_are_refused() -> None:
    with pytest.raises(ValueError):
        Auto(threshold=0.0)
    with pytest.raises(ValueError):
        Auto(rest=0)
