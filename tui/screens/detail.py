"""Provides the detail screen: one metric's chart with its band, anomalies and forecast, over
the recent points in memory or, zoomed, over a span of its stored history."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker

import detectors
from collectors.base import printable
from engine.format import value as format_value
from engine.span import SpanError
from tui.chart import analyse, render_chart, season_text
from tui.zoom import FORECAST_SHARE, ZOOM_DETECTOR, ZOOMS, Drawn, Zoom, draw_span

if TYPE_CHECKING:
    from engine import EngineView
    from engine.span import Span


class DetailScreen(Screen[None]):
    """A full-screen chart of one metric, redrawn when it gets a new point."""

    BINDINGS = [
        Binding("escape,q", "close", "Back"),
        Binding("d", "cycle_detector", "Next detector"),
        *(Binding(z.key, f"zoom({z.seconds!r})", z.name) for z in ZOOMS),
        Binding("0", "zoom(0)", "Live"),
    ]

    def __init__(
        self, engine: EngineView, key: str, clock: Callable[[], float] = time.time
    ) -> None:
        """Args:
        engine: where the history comes from.
        key: the metric.
        clock: wall clock, seconds since the epoch: a span of history ends at its now.
        """
        super().__init__()
        self.engine = engine
        self.key = key
        self._clock = clock
        self._stamp: float | None = None
        state = engine.snapshot().metrics.get(key)
        self.detector = state.detector if state else engine.config.detector_for(key)
        self.live_detector = self.detector
        self.zoom: Zoom | None = None
        """The span of history shown; None for the recent points in memory."""
        self.shown: Drawn | None = None
        """The span last drawn (None while loading, or when live)."""
        self._loading: Worker[Drawn | None] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-title", classes="pane-title")
        yield Static("", id="detail-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(1.0, self.redraw)
        self.call_after_refresh(self.redraw)

    def on_resize(self) -> None:
        self._stamp = None
        if self.zoom is not None and self.shown is not None:
            self._draw(self.zoom, self.shown.span)
        self.redraw()

    def action_cycle_detector(self) -> None:
        """Mark the anomalies of the next detector (S-H-ESD too, over a span of history)."""
        names = detectors.names("streaming")
        if self.zoom is not None:
            names = [ZOOM_DETECTOR, *names]
        index = names.index(self.detector) if self.detector in names else -1
        self.detector = names[(index + 1) % len(names)]
        self._stamp = None
        if self.zoom is None:
            self.live_detector = self.detector
            self.redraw()
        elif self.shown is not None:
            self._draw(self.zoom, self.shown.span)
        else:
            self._draw(self.zoom, None)  # still loading: read again for this detector

    def action_zoom(self, seconds: float) -> None:
        """Show a span of the stored history reaching ``seconds`` back; 0 for the recent
        points in memory, redrawn live."""
        zoom = next((z for z in ZOOMS if z.seconds == seconds), None)
        self.zoom, self.shown, self._stamp = zoom, None, None
        if zoom is None:
            self.workers.cancel_group(self, "zoom")
            self.detector = self.live_detector
            self.redraw()
            return
        if self.detector not in detectors.names("streaming") or self.detector == self.live_detector:
            self.detector = ZOOM_DETECTOR
        self.query_one("#detail-title", Static).update(Text(f"{zoom.name} · loading…"))
        self.query_one("#detail-chart", Static).update(Text("loading…"))
        self._draw(zoom, None)

    def _draw(self, zoom: Zoom, read: Span | None) -> None:
        chart = self.query_one("#detail-chart", Static)
        size = (chart.size.width or self.size.width, chart.size.height or 20)
        self._loading = self._load(zoom, self._clock(), size, self.detector, self._title()[0], read)

    @work(thread=True, exclusive=True, group="zoom", exit_on_error=False)
    def _load(
        self, zoom: Zoom, until: float, size: tuple[int, int], detector: str, title: str,
        read: Span | None,
    ) -> Drawn | None:  # fmt: skip
        drawn = draw_span(self.engine, self.key, zoom, until, size, detector, title, read)
        return None if get_current_worker().is_cancelled else drawn

    @on(Worker.StateChanged)
    def _zoom_done(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker is not self._loading or self.zoom is None:
            return  # another span was asked for since
        if worker.state is WorkerState.SUCCESS and isinstance(worker.result, Drawn):
            drawn = worker.result
            self.shown = drawn
            info = f"{drawn.caption} · anomalies: {detector_name(drawn.detector)} (d: next)"
            if drawn.analysis is not None:
                info += f" · band and forecast: {season_text(drawn.analysis.season)}"
            self.query_one("#detail-title", Static).update(Text(printable(info)))
            self.query_one("#detail-chart", Static).update(Text.from_ansi(drawn.text))
        elif worker.state is WorkerState.ERROR:
            why = printable(str(worker.error) or type(worker.error).__name__)
            # The read is what a user's setup can break (a file, a daemon); the rest is ours.
            verb = "read" if isinstance(worker.error, SpanError) else "draw"
            line = f"could not {verb} {self.zoom.name} of {self.key}: {why}"
            self.query_one("#detail-title", Static).update(Text(f"{self.zoom.name} · failed"))
            self.query_one("#detail-chart", Static).update(Text(line))

    def _title(self) -> tuple[str, str]:
        """The chart's title (the metric and its value) and what to add about it now."""
        state = self.engine.snapshot().metrics.get(self.key)
        if state is None:
            return printable(self.key), ""
        r, v = state.reading, state.verdict
        # The chart comes back as ANSI text: a raw escape in its title would be obeyed.
        title = printable(f"{self.key} = {format_value(r.value, r.unit, r.text)}")
        return title, f" · now ANOMALOUS ({v.severity}) {v.reason}" if v.anomalous else ""

    def redraw(self) -> None:
        """Draw again when the metric got a new point (or the size or detector changed); a
        span of history is drawn once, by its worker."""
        if self.zoom is not None:
            return
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
        title, now = self._title()
        info = f" live · anomalies: {self.detector} (d: next) · 1-5: history{now}"
        if analysis is not None:
            info += f" · band and forecast: {season_text(analysis.season)}"
        self.query_one("#detail-title", Static).update(Text(printable(info)))
        text = render_chart(history, analysis, width, height, self._clock(), title)
        chart.update(Text.from_ansi(text))

    def action_close(self) -> None:
        self.dismiss(None)


def detector_name(name: str) -> str:
    """How the title names the detector whose anomalies a span shows."""
    return "S-H-ESD over the span" if name == ZOOM_DETECTOR else name
