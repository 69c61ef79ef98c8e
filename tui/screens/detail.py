"""Provides the detail screen: a chart of one metric's history with its anomalies marked."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import plotext as plt
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.format import value as format_value

if TYPE_CHECKING:
    from tui.engine import Engine, History


def render_chart(history: History, width: int, height: int, now: float, title: str) -> str:
    """Draw the series and its anomalies with plotext; x is seconds before ``now``."""
    plt.clf()
    plt.plotsize(max(20, width), max(6, height))
    plt.theme("pro")
    plt.title(title)
    if len(history) == 0:
        plt.text("no data yet", 0, 0)
        return str(plt.build())
    x = (history.t - now).tolist()
    plt.plot(x, history.x.tolist(), marker="braille", color="cyan", label="value")
    if history.anomalous.any():
        idx = np.flatnonzero(history.anomalous)
        plt.scatter(
            [x[i] for i in idx], history.x[idx].tolist(), marker="x", color="red", label="anomaly"
        )
    plt.xlabel("seconds ago")
    return str(plt.build())


class DetailScreen(Screen[None]):
    """A full-screen chart of one metric, refreshed while it is open."""

    BINDINGS = [
        Binding("escape,q", "close", "Back"),
    ]

    def __init__(self, engine: Engine, key: str, clock: object = time.time) -> None:
        super().__init__()
        self.engine = engine
        self.key = key
        self._clock = clock
        self._version = -1

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-title", classes="pane-title")
        yield Static("", id="detail-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.redraw()
        self.set_interval(1.0, self.redraw)

    def on_resize(self) -> None:
        self._version = -1
        self.redraw()

    def redraw(self) -> None:
        """Draw again when the metric got a new point (or the size changed)."""
        snap = self.engine.snapshot()
        state = snap.metrics.get(self.key)
        stamp = state.reading.time if state else 0
        if stamp == self._version:
            return
        self._version = stamp
        chart = self.query_one("#detail-chart", Static)
        width, height = chart.size.width or self.size.width, chart.size.height or 20
        history = self.engine.history(self.key)
        title = self.key
        if state is not None:
            r, v = state.reading, state.verdict
            title = f"{self.key} = {format_value(r.value, r.unit, r.text)}"
            info = f" detector {state.detector}"
            if v.anomalous:
                info += f" · ANOMALOUS ({v.severity}) {v.reason}"
            if v.low is not None and v.high is not None:
                info += f" · expected {format_value(v.low, r.unit)} .. {format_value(v.high, r.unit)}"
            self.query_one("#detail-title", Static).update(info)
        now = float(self._clock())  # type: ignore[operator]
        chart.update(Text.from_ansi(render_chart(history, width, height, now, title)))

    def action_close(self) -> None:
        self.dismiss(None)
