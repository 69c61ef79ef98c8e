"""Provides the detail screen: one metric's chart with its band, anomalies and forecast."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

import detectors
from collectors.base import printable
from engine.format import value as format_value
from tui.chart import analyse, render_chart, season_text

if TYPE_CHECKING:
    from engine import EngineView

FORECAST_SHARE = 0.15
"""Part of the chart's width given to the forecast."""


class DetailScreen(Screen[None]):
    """A full-screen chart of one metric, redrawn when it gets a new point."""

    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("d", "cycle_detector", "Next detector"),
    ]

    def __init__(
        self, engine: EngineView, key: str, clock: Callable[[], float] = time.time
    ) -> None:
        """Args:
        engine: where the history comes from.
        key: the metric.
        clock: wall clock; the x axis is seconds from its now.
        """
        super().__init__()
        self.engine = engine
        self.key = key
        self._clock = clock
        self._stamp: float | None = None
        state = engine.snapshot().metrics.get(key)
        self.detector = state.detector if state else engine.config.detector_for(key)

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-title", classes="pane-title")
        yield Static("", id="detail-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(1.0, self.redraw)
        self.call_after_refresh(self.redraw)

    def on_resize(self) -> None:
        self._stamp = None
        self.redraw()

    def action_cycle_detector(self) -> None:
        """Mark the anomalies of the next streaming detector."""
        names = detectors.names("streaming")
        index = names.index(self.detector) if self.detector in names else -1
        self.detector = names[(index + 1) % len(names)]
        self._stamp = None
        self.redraw()

    def redraw(self) -> None:
        """Draw again when the metric got a new point (or the size or detector changed)."""
        state = self.engine.snapshot().metrics.get(self.key)
        stamp = state.reading.time if state else 0.0
        if stamp == self._stamp:
            return
        self._stamp = stamp
        chart = self.query_one("#detail-chart", Static)
        width, height = chart.size.width or self.size.width, chart.size.height or 20
        history = self.engine.history(self.key)
        analysis = None
        if len(history) >= 3:
            analysis = analyse(history, self.detector, max(1, int(len(history) * FORECAST_SHARE)))
        title = self.key
        info = f" anomalies: {self.detector} (d: next)"
        if state is not None:
            r, v = state.reading, state.verdict
            title = f"{self.key} = {format_value(r.value, r.unit, r.text)}"
            if v.anomalous:
                info += f" · now ANOMALOUS ({v.severity}) {v.reason}"
        if analysis is not None:
            info += f" · band and forecast: {season_text(analysis.season)}"
        self.query_one("#detail-title", Static).update(Text(printable(info)))
        # The chart comes back as ANSI text: a raw escape in its title would be obeyed.
        text = render_chart(history, analysis, width, height, self._clock(), printable(title))
        chart.update(Text.from_ansi(text))

    def action_close(self) -> None:
        self.dismiss(None)
