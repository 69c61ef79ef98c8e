"""Tests the detail chart's zoom over a real history file holding three days of a series: each
key reads the tier that fits its span, embedded and attached to a real daemon alike."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from textual.pilot import Pilot
from textual.widgets import Static

import detectors
from engine import wire
from engine.client import RemoteEngineView
from engine.config import Config
from engine.config_reader import parse
from engine.span import MAX_POINTS
from tests.daemon_process import QUIET_SOURCES, DaemonProcess
from tests.history_fill import daily_series, fill
from tui.app import GongwatchApp, make_app
from tui.screens import DetailScreen, HelpScreen

from .helpers import FIXED_NOW

KEY = "test/daily"
END = FIXED_NOW.timestamp()
"""The series ends where the screen's clock stands."""
STEP = 5.0
T, X = daily_series(END, 3, STEP)

# key, title words, seconds a drawn point covers (0: one sample), tier step: the spans at
# 120 columns (480 points asked): 10 minutes are 121 raw points, an hour of raw points is
# merged into 10-second buckets, a day of 1-minute rollups into 5-minute ones, and so on.
ZOOMS = [
    ("1", "10 minutes · raw points", 600, 0, 0),
    ("2", "1 hour · raw points, 10-second means", 3600, 10, 0),
    ("3", "1 day · 1-minute rollups, 5-minute means", 86400, 300, 60),
    ("4", "1 week · 1-minute rollups, 30-minute means", 7 * 86400, 1800, 60),
    ("5", "30 days · 1-minute rollups, 2-hour means", 30 * 86400, 7200, 60),
]


def expected_points(seconds: float, step: float, tier_step: float) -> int:
    """How many points a span of the filled series holds at that step, counted from the
    points written (a rollup tier answers from the start of the bucket ``since`` falls in)."""
    since = END - seconds
    first = since - since % tier_step if tier_step else since
    kept = T[(first <= T) & (T <= END)]
    return len(np.unique(np.floor(kept / step))) if step else len(kept)


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zoom") / "history.db"
    fill(path, KEY, T, X)
    return path


def title(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#detail-title", Static).render())


def chart(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#detail-chart", Static).render())


async def until(pilot: Pilot[Any], test: Callable[[], bool], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not test():
        assert time.monotonic() < deadline, f"condition not met in time: {title(pilot)}"
        await pilot.pause(0.05)


async def zoom_through_every_span(app: GongwatchApp) -> None:
    """Open the chart of the series, press each zoom key, check title, tier and points."""
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_detail(KEY)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.query_one("#detail-chart").size.width == 120
        for key, words, seconds, step, tier_step in ZOOMS:
            await pilot.press(key)
            await until(pilot, lambda w=words: w in title(pilot))  # type: ignore[misc]
            drawn = screen.shown
            assert drawn is not None and drawn.span.step == step
            assert drawn.span.tier == ("raw" if tier_step == 0 else "minute")
            assert len(drawn.span) == expected_points(seconds, step, tier_step), words
            assert f"{len(drawn.span)} points" in title(pilot)
            assert "S-H-ESD" in title(pilot) and "value" in chart(pilot)
            assert ("min/max" in chart(pilot)) == (step > 0)  # an envelope around buckets
            if seconds == 86400:
                # S-H-ESD over the day finds the surge of 20 hours ago; the season is a day
                # only from two days of history on.
                surge = np.floor((END - 20 * 3600) / step) * step
                assert drawn.analysis is not None
                assert drawn.analysis.anomalous[drawn.span.t == surge].all()
                assert drawn.analysis.season == 0.0
            if seconds == 7 * 86400:
                assert drawn.analysis is not None and drawn.analysis.season == 86400
                # The axis shows the whole week, though the file holds three days.
                start = datetime.fromtimestamp(END - seconds).astimezone().strftime("%a %H:%M")
                assert start in chart(pilot).splitlines()[-1]
        # d: the next detector's anomalies over the same span, which is not read again.
        read = screen.shown.span  # type: ignore[union-attr]
        first = detectors.names("streaming")[0]
        await pilot.press("d")
        await until(pilot, lambda: f"anomalies: {first} (d: next)" in title(pilot))
        assert screen.shown is not None and screen.shown.span is read
        await pilot.press("0")
        assert "live" in title(pilot) and screen.shown is None
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-text", Static).render())
        for name in ("10 minutes", "1 hour", "1 day", "1 week", "30 days", "Live"):
            assert name in help_text


async def test_each_zoom_key_reads_its_tier_from_the_embedded_history(
    history_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.db"
    shutil.copy(history_file, path)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    config = parse(f'{QUIET_SOURCES}\n[history]\npath = "{path}"\n', "test.toml")
    app = make_app(config, collectors=[], clock=lambda: FIXED_NOW, hostname="testhost")
    await zoom_through_every_span(app)


@pytest.fixture
def daemon(history_file: Path) -> Iterator[DaemonProcess]:
    with DaemonProcess(QUIET_SOURCES) as d:
        path = d.dir / "history.db"
        shutil.copy(history_file, path)
        d.write_config(f'{QUIET_SOURCES}\n[history]\npath = "{path}"\n')
        d.start()
        yield d


def attached(d: DaemonProcess) -> GongwatchApp:
    view = RemoteEngineView.attach(d.socket, Config(refresh=0.2))
    assert view is not None
    return make_app(view=view, clock=lambda: FIXED_NOW, hostname="testhost")


async def test_attached_to_a_daemon_each_zoom_key_shows_the_same(daemon: DaemonProcess) -> None:
    await zoom_through_every_span(attached(daemon))


async def test_a_stalled_daemon_shows_loading_then_a_dead_one_one_line(
    daemon: DaemonProcess,
) -> None:
    app = attached(daemon)
    assert daemon.proc is not None
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_detail(KEY)
        await pilot.pause()
        daemon.proc.send_signal(signal.SIGSTOP)  # the read cannot be answered for now
        try:
            await pilot.press("4")
            await pilot.pause(0.3)
            assert chart(pilot) == "loading…" and "1 week · loading…" in title(pilot)
            assert app.screen.is_current  # the screen still answers keys meanwhile
        finally:
            daemon.proc.send_signal(signal.SIGCONT)
        await until(pilot, lambda: "1 week · 1-minute" in title(pilot))
        daemon.proc.kill()
        daemon.proc.wait(10)
        await pilot.press("5")
        await until(pilot, lambda: "failed" in title(pilot))
        line = chart(pilot)
        assert line.startswith("could not read 30 days of test/daily: daemon not answering on ")
        assert "\n" not in line


def test_the_daemon_sends_a_bounded_span(daemon: DaemonProcess) -> None:
    transport = httpx.HTTPTransport(uds=str(daemon.socket))
    with httpx.Client(transport=transport, base_url="http://gongwatch") as c:
        params = {"key": KEY, "since": END - 86400, "until": END, "points": 10**6}
        got = c.get("/v1/history", params=params).raise_for_status().json()
        span = wire.span_from(got)
        assert span.tier == "minute" and span.step == 60 and len(span) == 1441 <= MAX_POINTS
        params = {"key": KEY, "since": END - 30 * 86400, "until": END, "points": 10**6}
        span = wire.span_from(c.get("/v1/history", params=params).raise_for_status().json())
        # Three days of 1-minute rollups (4 320) are merged into 15-minute buckets to fit.
        assert span.tier == "minute" and span.step == 900 and len(span) == 289
        assert span.count.sum() == len(T) and span.low.min() == X.min()
