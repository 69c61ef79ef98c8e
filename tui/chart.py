"""Provides the detail chart: a metric's history with the Holt-Winters band, the anomalies of a
chosen detector, the points the monitor flagged live, and the forecast, drawn with plotext."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import plotext as plt

import detectors
from engine import History

DAY = 86400.0
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the chart draws besides the series itself."""

    anomalous: npt.NDArray[np.bool_]
    """The chosen detector's verdict on every point, replayed causally over the history."""
    low: FloatArray
    """Holt-Winters band, lower edge, per point (NaN where it has none yet)."""
    high: FloatArray
    forecast_t: FloatArray
    """Times of the forecast points."""
    forecast: FloatArray
    forecast_low: FloatArray
    forecast_high: FloatArray
    season: float
    """Season length the band was computed with, seconds."""


def chart_season(history: History) -> float:
    """A day when the history holds two of them, else a quarter of what it holds: a band needs
    a few seasons behind it, and minutes of history have no daily season to show."""
    span = float(history.t[-1] - history.t[0]) if len(history) else 0.0
    return DAY if span >= 2 * DAY else max(span / 4, 1.0)


def analyse(history: History, detector: str, horizon: int) -> Analysis:
    """Replay the chosen detector and Holt-Winters over the history.

    Args:
        history: the points, oldest first.
        detector: registry name of the streaming detector whose anomalies are marked.
        horizon: how many points to forecast.
    """
    n = len(history)
    season = chart_season(history)
    chosen = detectors.create(detector)
    hw = detectors.create("holtwinters", season=season)
    anomalous = np.zeros(n, dtype=bool)
    low = np.full(n, np.nan)
    high = np.full(n, np.nan)
    for i, (t, x) in enumerate(zip(history.t.tolist(), history.x.tolist(), strict=True)):
        anomalous[i] = chosen.update(t, x).anomalous
        v = hw.update(t, x)
        if v.low is not None and v.high is not None:
            low[i], high[i] = v.low, v.high
    f = hw.forecast(horizon)
    return Analysis(anomalous, low, high, f.t, f.expected, f.low, f.high, season)


def _line(x: list[float], y: FloatArray, color: str, label: str | None = None) -> None:
    ok = np.isfinite(y)
    if ok.any():
        xs = [x[i] for i in np.flatnonzero(ok)]
        plt.plot(xs, y[ok].tolist(), marker="braille", color=color, label=label)


def _marks(
    x: list[float], y: FloatArray, mask: npt.NDArray[np.bool_], color: str, marker: str, label: str
) -> None:
    if mask.any():
        idx = np.flatnonzero(mask)
        plt.scatter([x[i] for i in idx], y[idx].tolist(), marker=marker, color=color, label=label)


def render_chart(
    history: History, analysis: Analysis | None, width: int, height: int, now: float, title: str
) -> str:
    """Draw the chart as text with ANSI colours; x is seconds relative to ``now``."""
    plt.clf()
    plt.plotsize(max(20, width), max(6, height))
    plt.theme("pro")
    plt.title(title)
    if len(history) == 0:
        plt.text("no data yet", 0, 0)
        return str(plt.build())
    x = (history.t - now).tolist()
    if analysis is not None:
        _line(x, analysis.low, "gray", "Holt-Winters band")
        _line(x, analysis.high, "gray")
    plt.plot(x, history.x.tolist(), marker="braille", color="cyan", label="value")
    if analysis is not None and len(analysis.forecast_t):
        fx = (analysis.forecast_t - now).tolist()
        _line(fx, analysis.forecast, "magenta", "forecast")
        _line(fx, analysis.forecast_low, "magenta")
        _line(fx, analysis.forecast_high, "magenta")
    _marks(x, history.x, history.anomalous, "yellow", "o", "flagged live")
    if analysis is not None:
        _marks(x, history.x, analysis.anomalous, "red", "x", "anomaly")
    plt.xlabel("seconds from now")
    return str(plt.build())
