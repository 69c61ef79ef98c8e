"""Tests Holt-Winters against a plain Python loop over Graphite's formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.holtwinters import HoltWinters


def graphite_analysis(series: list[float | None], season_length: int) -> tuple[list, list]:
    """Graphite's holtWintersAnalysis, written out as plainly as it is there: returns the
    predictions and deviations."""
    alpha = gamma = 0.1
    beta = 0.0035
    intercepts: list = []
    slopes: list = []
    seasonals: list = []
    predictions: list = []
    deviations: list = []

    def last(arr: list, i: int) -> float:
        j = i - season_length
        return arr[j] if j >= 0 else 0

    next_pred = None
    for i, actual in enumerate(series):
        if actual is None:
            intercepts.append(None)
            slopes.append(0)
            seasonals.append(0)
            predictions.append(next_pred)
            deviations.append(0)
            next_pred = None
            continue
        if i == 0:
            last_intercept, last_slope, prediction = actual, 0, actual
        else:
            last_intercept, last_slope = intercepts[-1], slopes[-1]
            if last_intercept is None:
                last_intercept = actual
            prediction = next_pred
        last_seasonal = last(seasonals, i)
        next_last_seasonal = last(seasonals, i + 1)
        last_seasonal_dev = last(deviations, i)
        intercept = alpha * (actual - last_seasonal) + (1 - alpha) * (last_intercept + last_slope)
        slope = beta * (intercept - last_intercept) + (1 - beta) * last_slope
        seasonal = gamma * (actual - intercept) + (1 - gamma) * last_seasonal
        next_pred = intercept + slope + next_last_seasonal
        pred0 = 0 if prediction is None else prediction
        deviation = gamma * math.fabs(actual - pred0) + (1 - gamma) * last_seasonal_dev
        intercepts.append(intercept)
        slopes.append(slope)
        seasonals.append(seasonal)
        predictions.append(prediction)
        deviations.append(deviation)
    return predictions, deviations


def _series(n: int, step: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    t = np.arange(n) * step
    return t, 50 + 20 * np.sin(2 * np.pi * t / 86400) + rng.normal(0, 2, n) + 0.001 * t / step


def test_matches_graphite_point_by_point() -> None:
    step = 1800.0
    t, x = _series(48 * 5, step)
    preds, devs = graphite_analysis(list(x), int(86400 // step))
    det = HoltWinters()
    for i in range(len(x)):
        v = det.update(float(t[i]), float(x[i]))
        if i == 0:
            continue  # the step is learnt from the second point, which then judges both
        assert v.expected == pytest.approx(preds[i], rel=1e-12)
        assert v.high - v.expected == pytest.approx(3 * devs[i], rel=1e-12)
        aberration = max(x[i] - v.high, 0) + min(x[i] - v.low, 0)
        assert v.anomalous == (aberration != 0)


def test_gaps_are_graphite_none_points() -> None:
    step = 3600.0
    t, x = _series(24 * 4, step)
    holes = {30, 31, 60}
    series = [None if i in holes else float(v) for i, v in enumerate(x)]
    preds, devs = graphite_analysis(series, 24)
    det = HoltWinters(step=step)
    for i in range(len(x)):
        if i in holes:
            continue
        v = det.update(float(t[i]), float(x[i]))
        if preds[i] is None:
            assert v.score == 0.0
        else:
            assert v.expected == pytest.approx(preds[i], rel=1e-12)
            assert v.high - v.expected == pytest.approx(3 * devs[i], rel=1e-12)


def test_forecast_continues_the_season() -> None:
    step = 3600.0
    t, x = _series(24 * 6, step)
    det = HoltWinters(step=step)
    for a, b in zip(t, x, strict=True):
        det.update(float(a), float(b))
    fc = det.forecast(24)
    assert len(fc.t) == 24 and fc.t[0] == pytest.approx(t[-1] + step)
    # Six days with gamma = 0.1 learn about half the seasonal swing: the shape is there.
    truth = 50 + 20 * np.sin(2 * np.pi * fc.t / 86400)
    assert np.corrcoef(fc.expected, truth)[0, 1] > 0.95
    assert np.all(fc.low <= fc.expected) and np.all(fc.expected <= fc.high)
    nxt = det.update(float(t[-1] + step), float(truth[0]))
    assert nxt.expected == pytest.approx(fc.expected[0])


def test_a_spike_leaves_the_band() -> None:
    step = 3600.0
    t, x = _series(24 * 6, step)
    det = HoltWinters(step=step)
    for a, b in zip(t, x, strict=True):
        det.update(float(a), float(b))
    v = det.update(float(t[-1] + step), 500.0)
    assert v.anomalous and v.reason.startswith("aberration=+")
