"""Tests the default detector and its vectorised bank."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.auto import Auto
from detectors.auto_bank import AutoBank


def test_spike_scores_once_per_episode_but_stays_anomalous() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(10, 1, 400)
    x[300:305] = 30.0
    det = Auto()
    v = [det.update(float(i), float(xi)) for i, xi in enumerate(x)]
    assert [i for i, vi in enumerate(v) if vi.anomalous] == [300, 301, 302, 303, 304]
    assert [i for i, vi in enumerate(v) if vi.score > 0.5] == [300]
    assert v[301].score == 0.0 and "same episode" in v[301].reason
    assert v[300].expected == pytest.approx(10, abs=0.3)


def test_worse_within_an_episode_speaks_again() -> None:
    det = Auto()
    for i in range(200):
        det.update(float(i), 10.0 + (i % 5) * 0.1)
    assert det.update(200.0, 20.0).score > 0.5
    assert det.update(201.0, 15.0).score == 0.0
    assert det.update(202.0, 200.0).score > 0.5


def test_flat_series_uses_the_relative_floor() -> None:
    det = Auto()
    for i in range(100):
        assert not det.update(float(i), 5.0).anomalous
    assert det.update(100.0, 5.5).anomalous  # 0.5 / (1% of 5) = z 10


def assert_bank_matches_singles(t: np.ndarray, data: np.ndarray, window: int) -> None:
    """Feed the rows of ``data`` to a bank and to one ``Auto`` per column; compare every verdict."""
    k = data.shape[1]
    bank = AutoBank(k, window=window, rest=20, warmup=10)
    singles = [Auto(window=window, rest=20, warmup=10) for _ in range(k)]
    for i, row in enumerate(data):
        score, anomalous, expected, low, high = bank.update(float(t[i]), row)
        for j, det in enumerate(singles):
            v = det.update(float(t[i]), float(row[j]))
            assert score[j] == pytest.approx(v.score, abs=1e-12)
            assert anomalous[j] == v.anomalous
            if v.expected is None:
                assert np.isnan(expected[j])
            else:
                assert expected[j] == pytest.approx(v.expected)
                assert (low[j], high[j]) == pytest.approx((v.low, v.high))


def test_bank_matches_single_detectors() -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(0, 1, (500, 12)) * rng.uniform(0.5, 5, 12) + rng.uniform(-3, 3, 12)
    data[250, 4] += 15
    data[100:130, 7] = np.nan
    data[::17, 2] = np.nan
    assert_bank_matches_singles(np.arange(len(data), dtype=float), data, window=50)


def test_bank_refuses_the_wrong_shape() -> None:
    with pytest.raises(ValueError):
        AutoBank(3).update(0.0, np.zeros(4))


def _daily(days: int, step: float = 300.0, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A square-ish daily pattern: 20 most of the day, 80 for four hours, a little noise."""
    rng = np.random.default_rng(seed)
    t = 1.4e9 + np.arange(int(days * 86400 / step)) * step
    hour = (t % 86400) / 3600
    x = np.where((hour >= 10) & (hour < 14), 80.0, 20.0) + rng.normal(0, 1, len(t))
    return t, x


def test_a_missing_daily_high_is_found_by_the_season() -> None:
    t, x = _daily(8)
    day7 = (t >= t[0] + 6 * 86400) & (t < t[0] + 7 * 86400)
    hour = (t % 86400) / 3600
    x[day7 & (hour >= 10) & (hour < 14)] = 20.0  # the high never comes; 20 is ordinary in level
    det = Auto()
    v = [det.update(float(a), float(b)) for a, b in zip(t, x, strict=True)]
    learned = t >= t[0] + 3 * 86400
    hits = [i for i, vi in enumerate(v) if vi.score > 0.5 and learned[i]]
    assert hits and all(day7[i] for i in hits)
    first = hits[0]
    assert "seasonal" in v[first].reason and v[first].expected == pytest.approx(80, abs=3)
    assert v[first + 5].anomalous  # still anomalous while the score rests


def test_a_recurring_spike_stops_being_news() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(10, 1, 6000)
    x[500::150] += 12.0
    det = Auto(season=False)
    v = [det.update(float(i), float(xi)) for i, xi in enumerate(x)]
    spikes = [v[i].score for i in range(500, 6000, 150)]
    assert spikes[0] > 0.5
    assert max(spikes[-10:]) < spikes[0]


def test_bank_matches_single_detectors_on_seasonal_gappy_series() -> None:
    t, base = _daily(3, step=600.0)
    rng = np.random.default_rng(5)
    k = 6
    data = base[:, None] * rng.uniform(0.5, 2, k) + rng.normal(0, 0.5, (len(t), k))
    data[300, 1] += 200
    data[50:90, 2] = np.nan
    data[::7, 3] = np.nan
    data[:, 4] = 7.0
    assert_bank_matches_singles(t, data, window=60)
