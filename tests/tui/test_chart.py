"""Tests the detail chart's analysis: band, the chosen detector's anomalies, the forecast."""

from __future__ import annotations

import numpy as np

from engine.series import History
from tui.chart import DAY, analyse, chart_season, render_chart


def history(x: np.ndarray, step: float = 1.0) -> History:
    t = 1_700_000_000.0 + np.arange(len(x)) * step
    return History(t, x.astype(float), np.zeros(len(x), dtype=bool))


def test_the_chosen_detector_marks_a_spike_and_the_band_follows_the_series() -> None:
    rng = np.random.default_rng(7)
    x = 50 + np.sin(np.arange(400) / 10) * 5 + rng.normal(0, 0.5, 400)
    x[350] = 120.0
    a = analyse(history(x), "robust_z", horizon=20)
    assert a.anomalous[350] and a.anomalous.sum() <= 3
    assert np.isfinite(a.low[2:]).all() and np.all(a.low[2:] <= a.high[2:])
    assert x[350] > a.high[350]  # the spike is far outside the band
    assert np.all(np.abs(a.high[300:349] - x[300:349]) < 10)  # the band follows the series
    assert len(a.forecast) == 20 and np.all(a.forecast_t > 1_700_000_000.0 + 399)
    assert np.all(np.abs(a.forecast - 50) < 15)


def test_season_is_a_day_only_when_history_covers_two() -> None:
    assert chart_season(history(np.zeros(600))) == 599 / 4
    assert chart_season(history(np.zeros(600), step=600.0)) == DAY


def test_render_names_each_layer() -> None:
    x = np.r_[np.ones(100), 10.0]
    h = history(x)
    h.anomalous[-1] = True
    text = render_chart(h, analyse(h, "robust_z", 10), 100, 25, float(h.t[-1]), "m")
    for label in ("value", "Holt-Winters band", "forecast", "anomaly", "flagged live"):
        assert label in text
    assert "no data yet" in render_chart(history(np.zeros(0)), None, 60, 10, 0.0, "m")
