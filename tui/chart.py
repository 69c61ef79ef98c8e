"""Provides the detail chart: a metric's history with the Holt-Winters band, the anomalies of a
chosen detector, the points the monitor flagged live, and the forecast, drawn with plotext."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

import detectors
from detectors.shesd import esd
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
    """Season length the band was computed with, seconds; 0 when there is none."""


def chart_season(history: History) -> float:
    """A day when the history holds two of them, else 0 (no season): a seasonal model fitted on
    less than two seasons invents a period, so the band jumps and the forecast repeats it."""
    span = float(history.t[-1] - history.t[0]) if len(history) else 0.0
    return DAY if span >= 2 * DAY else 0.0


def season_text(season: float) -> str:
    """Say which model drew the band, in words."""
    if season:
        return "Holt-Winters, daily season"
    return "Holt's trend, no season (a daily one needs two days of history)"


def analyse(history: History, detector: str, horizon: int) -> Analysis:
    """Replay the chosen detector and Holt-Winters over the history.

    Args:
        history: the points, oldest first.
        detector: registry name of the detector whose anomalies are marked: a streaming one
            is replayed causally, point by point; a batch one (``shesd``) judges the whole
            history at once, with the daily season when the history holds two of them.
        horizon: how many points to forecast.
    """
    n = len(history)
    season = chart_season(history)
    batch = detectors.info(detector).kind == "batch"
    chosen = None if batch else detectors.create(detector)
    hw = detectors.create("holtwinters", season=season)
    anomalous = np.zeros(n, dtype=bool)
    low = np.full(n, np.nan)
    high = np.full(n, np.nan)
    for i, (t, x) in enumerate(zip(history.t.tolist(), history.x.tolist(), strict=True)):
        if chosen is not None:
            anomalous[i] = chosen.update(t, x).anomalous
        v = hw.update(t, x)
        if v.low is not None and v.high is not None:
            low[i], high[i] = v.low, v.high
    if batch:
        anomalous = batch_anomalies(history, detector, season)
    f = hw.forecast(horizon)
    return Analysis(anomalous, low, high, f.t, f.expected, f.low, f.high, season)


def batch_anomalies(history: History, detector: str, season: float) -> npt.NDArray[np.bool_]:
    """The anomalies a batch detector finds in the whole history, taken as evenly spaced.

    S-H-ESD removes the season (its period in points, from the median step) before its test;
    with no season it tests the distances from the median alone.
    """
    n = len(history)
    step = float(np.median(np.diff(history.t))) if n > 1 else 0.0
    period = round(season / step) if season and step > 0 else 0
    options = {"period": period} if detector == "shesd" else {}
    if detector != "shesd" or period >= 2:
        try:
            found: npt.NDArray[np.bool_] = detectors.create(detector, **options).detect(
                history.t, history.x
            )
            return found
        except ValueError:  # fewer than two seasons once gaps are left out
            if detector != "shesd":
                raise
    mask = np.zeros(n, dtype=bool)
    mask[np.asarray(esd(history.x - np.median(history.x), max(1, n // 10), 0.05, "both"),
                    dtype=np.int64)] = True  # fmt: skip
    return mask


# Each layer has its own glyph as well as its own colour, so the legend reads without colour.
VALUE = ("braille", "cyan")
BAND = ("·", "blue")
FORECAST = ("+", "green")
LIVE = ("o", "yellow")
ANOMALY = ("x", "red")
ENVELOPE = ("-", "gray")
"""The smallest and largest sample of each point, where a point stands for many."""

_PLOTTING = threading.Lock()
"""plotext draws on one figure per process: a chart built in a worker and one built on the
screen's thread take turns."""


def _plotext() -> Any:
    """plotext, imported when the first chart is drawn: most sessions never open one."""
    import plotext

    return plotext


def _line(x: list[float], y: FloatArray, style: tuple[str, str], label: str | None = None) -> None:
    plt = _plotext()
    ok = np.isfinite(y)
    if ok.any():
        xs = [x[i] for i in np.flatnonzero(ok)]
        plt.plot(xs, y[ok].tolist(), marker=style[0], color=style[1], label=label)


def _marks(
    x: list[float], y: FloatArray, mask: npt.NDArray[np.bool_], style: tuple[str, str], label: str
) -> None:
    plt = _plotext()
    if mask.any():
        idx = np.flatnonzero(mask)
        plt.scatter(
            [x[i] for i in idx], y[idx].tolist(), marker=style[0], color=style[1], label=label
        )


def clock_ticks(first: float, last: float, count: int = 5) -> tuple[list[float], list[str]]:
    """Return ``count`` evenly spaced times between two epoch seconds and their local clock
    labels: ``14:05:30`` within a few minutes, ``14:05`` within a day, ``Mon 14:05`` beyond."""
    span = max(last - first, 1e-9)
    fmt = "%H:%M:%S" if span < 600 else ("%H:%M" if span < 86400 else "%a %H:%M")
    ticks = [first + span * i / (count - 1) for i in range(count)]
    labels = [datetime.fromtimestamp(t).astimezone().strftime(fmt) for t in ticks]
    return ticks, labels


def render_chart(
    history: History,
    analysis: Analysis | None,
    width: int,
    height: int,
    now: float,
    title: str,
    envelope: tuple[FloatArray, FloatArray] | None = None,
    start: float | None = None,
) -> str:
    """Draw the chart as text with ANSI colours; the x axis shows local clock times.

    ``now`` is kept for callers that pin the clock (tests); the axis reads the points' own times.
    ``envelope`` is the smallest and largest sample of each point, drawn around the values
    when each point is a bucket of many samples. ``start`` makes the axis begin there even
    when the points begin later (a week asked of a history three days long shows a week).
    """
    del now
    with _PLOTTING:
        return _build(history, analysis, width, height, title, envelope, start)


def _build(
    history: History,
    analysis: Analysis | None,
    width: int,
    height: int,
    title: str,
    envelope: tuple[FloatArray, FloatArray] | None,
    start: float | None,
) -> str:
    plt = _plotext()
    plt.clf()
    plt.plotsize(max(20, width), max(6, height))
    plt.theme("pro")
    plt.title(title)
    if len(history) == 0:
        plt.text("no data yet", 0, 0)
        return str(plt.build())
    x = history.t.tolist()
    last = x[-1]
    if envelope is not None:
        _line(x, envelope[0], ENVELOPE, "min/max")
        _line(x, envelope[1], ENVELOPE)
    if analysis is not None:
        _line(x, analysis.low, BAND, "band")
        _line(x, analysis.high, BAND)
    plt.plot(x, history.x.tolist(), marker=VALUE[0], color=VALUE[1], label="value")
    if analysis is not None and len(analysis.forecast_t):
        fx = analysis.forecast_t.tolist()
        last = fx[-1]
        _line(fx, analysis.forecast, FORECAST, "forecast")
        _line(fx, analysis.forecast_low, BAND)
        _line(fx, analysis.forecast_high, BAND)
    _marks(x, history.x, history.anomalous, LIVE, "flagged live")
    if analysis is not None:
        _marks(x, history.x, analysis.anomalous, ANOMALY, "anomaly")
    first = x[0] if start is None else min(start, x[0])
    if last > first:  # one point alone spans no time: plotext finds its own limits
        plt.xlim(first, last)
    plt.xticks(*clock_ticks(first, last))
    return str(plt.build())
