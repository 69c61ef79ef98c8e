"""Tests the detail chart's analysis: band, the chosen detector's anomalies, the forecast."""

from __future__ import annotations

import re

import numpy as np

from engine.series import History
from tui.chart import DAY, analyse, chart_season, clock_ticks, render_chart, season_text


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


def test_season_is_a_day_only_when_history_covers_two_else_none() -> None:
    assert chart_season(history(np.zeros(600))) == 0.0
    assert chart_season(history(np.zeros(600), step=600.0)) == DAY


def test_short_history_gets_a_steady_band_and_a_flat_forecast() -> None:
    """Minutes of a noisy level: no invented period, so the forecast does not repeat a wave."""
    rng = np.random.default_rng(3)
    x = 5 + rng.normal(0, 0.2, 300)
    a = analyse(history(x), "robust_z", horizon=60)
    assert a.season == 0.0
    assert np.ptp(a.forecast) < 0.5  # a level (and a small trend), not a copy of the last wave
    width = a.high[100:] - a.low[100:]
    assert np.all(width > 0) and width.max() < 4 * np.median(width)
    assert "no season" in season_text(a.season)


def test_clock_ticks_label_local_times() -> None:
    t0 = 1_700_000_000.0
    ticks, labels = clock_ticks(t0, t0 + 3600)
    assert ticks[0] == t0 and ticks[-1] == t0 + 3600 and len(labels) == len(ticks)
    assert all(len(lab) == 5 and lab[2] == ":" for lab in labels)  # HH:MM within a day
    assert len(clock_ticks(t0, t0 + 3 * DAY)[1][0]) == 9  # weekday and time beyond a day


def test_render_names_each_layer() -> None:
    x = np.r_[np.ones(100), 10.0]
    h = history(x)
    h.anomalous[-1] = True
    text = render_chart(h, analyse(h, "robust_z", 10), 100, 25, float(h.t[-1]), "m")
    for label in ("value", "band", "forecast", "anomaly", "flagged live"):
        assert label in text
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    # Each layer has its own glyph in the legend, so it reads without colour.
    for glyph, label in (("·", "band"), ("+", "forecast"), ("o", "flagged live"), ("x", "anomaly")):
        assert re.search(re.escape(glyph) + r"+ " + label, plain), label
    assert re.search(r"\d\d:\d\d:\d\d", plain.splitlines()[-1])  # clock times on the x axis
    assert "no data yet" in render_chart(history(np.zeros(0)), None, 60, 10, 0.0, "m")


def test_a_single_point_is_drawn() -> None:
    """A metric with one reading yet: the axis spans no time at all."""
    h = history(np.array([3.0]))
    text = render_chart(h, None, 60, 12, float(h.t[0]), "m")
    assert "value" in text
    assert "value" in render_chart(h, None, 60, 12, float(h.t[0]), "m", start=h.t[0] - 600)
