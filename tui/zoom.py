"""Provides the detail chart's zoom over history: the spans it offers, the words its title uses
for them, and the drawing of one span (read, analysed and built off the screen's thread)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.span import Span
from tui.chart import Analysis, analyse, render_chart

if TYPE_CHECKING:
    from engine import EngineView

DAY = 86400.0
POINTS_PER_COLUMN = 4
"""Points asked for per column of the chart: two braille dots a column, and twice that so a
short peak survives the merging into buckets (the envelope keeps the rest)."""
MIN_POINTS = 200
"""Points asked for however narrow the chart."""
FORECAST_SHARE = 0.15
"""Part of the chart's width given to the forecast."""
ZOOM_DETECTOR = "shesd"
"""What marks the anomalies of a span at first: S-H-ESD judges the whole span at once."""


@dataclass(frozen=True, slots=True)
class Zoom:
    """A span of history the chart can show."""

    key: str
    """The key that shows it."""
    seconds: float
    """How far back it reaches from now."""
    name: str
    """How the footer and the title say it."""


ZOOMS = (
    Zoom("1", 600.0, "10 minutes"),
    Zoom("2", 3600.0, "1 hour"),
    Zoom("3", DAY, "1 day"),
    Zoom("4", 7 * DAY, "1 week"),
    Zoom("5", 30 * DAY, "30 days"),
)

_TIERS = {"raw": "raw points", "minute": "1-minute", "quarter": "15-minute",
          "memory": "points in memory"}  # fmt: skip


def step_words(step: float) -> str:
    """``1-second``, ``30-minute``, ``2-hour``, ``1-day``: the length of a bucket."""
    for unit, name in ((DAY, "day"), (3600.0, "hour"), (60.0, "minute"), (1.0, "second")):
        if step >= unit and step % unit == 0:
            return f"{int(step // unit)}-{name}"
    return f"{step:g}-second"


def tier_words(span: Span) -> str:
    """What the points of a span are: ``raw points``, ``1-minute means``, ``1-minute rollups,
    30-minute means`` (rollups merged again to fit the chart)."""
    tier = _TIERS.get(span.tier, span.tier)
    if span.tier in ("raw", "memory"):
        return tier if span.step == 0 else f"{tier}, {step_words(span.step)} means"
    own = 60.0 if span.tier == "minute" else 900.0
    return f"{tier} means" if span.step == own else f"{tier} rollups, {step_words(span.step)} means"


@dataclass(frozen=True, slots=True)
class Drawn:
    """One span of a metric, read, analysed and drawn."""

    zoom: Zoom
    span: Span
    analysis: Analysis | None
    detector: str
    text: str
    """The chart, as text with ANSI colours."""
    caption: str
    """What the title line says: the span, the tier read, the points drawn."""


def chart_points(width: int) -> int:
    """How many points to ask for a chart ``width`` columns wide."""
    return max(MIN_POINTS, POINTS_PER_COLUMN * width)


def draw_span(
    engine: EngineView,
    key: str,
    zoom: Zoom,
    until: float,
    size: tuple[int, int],
    detector: str = ZOOM_DETECTOR,
    title: str = "",
    read: Span | None = None,
) -> Drawn:
    """Read a span of a metric through the engine's view, analyse it and draw it; blocks (the
    read is I/O, the rest is arithmetic): run it in a worker.

    Args:
        engine: where the points come from (the history file, or the daemon).
        key: the metric.
        zoom: the span.
        until: its end, seconds since the epoch.
        size: the chart's width and height in cells.
        detector: whose anomalies to mark.
        title: the chart's own title (the metric and its value).
        read: a span already read (redrawing at another size or with another detector).

    Raises:
        SpanError: the history could not be read.
    """
    width, height = size
    span = read or engine.span(key, until - zoom.seconds, until, chart_points(width))
    history = span.history()
    analysis = None
    if len(span) >= 3:
        analysis = analyse(history, detector, max(1, int(len(span) * FORECAST_SHARE)))
    caption = f"{zoom.name} · {tier_words(span)} · {len(span)} points"
    envelope = (span.low, span.high) if span.envelope else None
    heading = f"{title} · {zoom.name} · {tier_words(span)}" if title else caption
    start = until - zoom.seconds
    text = render_chart(history, analysis, width, height, until, heading, envelope, start)
    return Drawn(zoom, span, analysis, detector, text, caption)
