"""Tests the screen attached to a real daemon process: the same metrics, device commands that
reach the emulated board through the daemon, and a killed daemon shown as disconnected."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import psutil
import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from engine import wire
from engine.client import RemoteEngineView
from engine.config import Config, DeviceConfig
from engine.config_reader import parse
from engine.runtime import Runtime
from tests.daemon_process import QUIET_SOURCES, DaemonProcess
from tests.emulator import EmulatedDevice
from tui.app import GongwatchApp, make_app
from tui.panes import DevicesPane

from .helpers import FIXED_NOW, until

LOCAL = Config(refresh=0.2)
"""The screen's own configuration: only its refresh rate counts once attached."""


@pytest.fixture
def boards() -> Iterator[tuple[EmulatedDevice, EmulatedDevice]]:
    with EmulatedDevice("gong") as gong, EmulatedDevice("map") as leds:
        yield gong, leds


@pytest.fixture
def daemon(
    boards: tuple[EmulatedDevice, EmulatedDevice], monkeypatch: pytest.MonkeyPatch
) -> Iterator[DaemonProcess]:
    gong, leds = boards
    config = f"""{QUIET_SOURCES}
[collectors.synthetic]
series = 4
interval = 0.3
[devices.gong]
port = "{gong.port}"
[devices.map]
port = "{leds.port}"
"""
    with DaemonProcess(config) as d:
        # This process shares the daemon's runtime folder, so the two honour one port lock.
        monkeypatch.setenv("XDG_RUNTIME_DIR", d.env["XDG_RUNTIME_DIR"])
        d.start()
        yield d


def daemon_snapshot(d: DaemonProcess) -> Any:
    transport = httpx.HTTPTransport(uds=str(d.socket))
    with httpx.Client(transport=transport, base_url="http://gongwatch") as c:
        return wire.snapshot_from(c.get("/v1/snapshot").json())


def attached(d: DaemonProcess) -> GongwatchApp:
    view = RemoteEngineView.attach(d.socket, LOCAL)
    assert view is not None
    return make_app(view=view, clock=lambda: FIXED_NOW, hostname="testhost")


def header(pilot: Pilot[Any]) -> str:
    return str(pilot.app.query_one("#header").render())


async def test_the_attached_screen_shows_the_daemons_metrics(daemon: DaemonProcess) -> None:
    app = attached(daemon)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: len(app.engine.snapshot().metrics) == 4)
        await until(pilot, lambda: f"attached to daemon pid {daemon.proc.pid}" in header(pilot))  # type: ignore[union-attr]
        theirs = daemon_snapshot(daemon)
        assert set(app.engine.snapshot().metrics) == set(theirs.metrics)
        table = app.query_one("#overview-table")
        await until(pilot, lambda: {r.key for r in table.rows} >= set(theirs.metrics))  # type: ignore[attr-defined]
        # Sparklines: the history of a metric is fetched once, then grows from snapshots.
        key = next(iter(theirs.metrics))
        await until(pilot, lambda: len(app.engine.history(key)) >= 3)
    assert not [t for t in threading.enumerate() if t.name.startswith("daemon-")]


async def test_a_device_command_reaches_the_board_through_the_daemon(
    daemon: DaemonProcess, boards: tuple[EmulatedDevice, EmulatedDevice]
) -> None:
    gong, leds = boards
    app = attached(daemon)
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one(TabbedContent).active = "tab-devices"
        pane = app.query_one(DevicesPane)
        connected = lambda: all(s.status == "connected" for s in app.engine.device_states())  # noqa: E731
        await until(pilot, connected)
        # The keys are the pane's once its port list has the focus (after the tab switch).
        await until(pilot, lambda: app.focused is not None and pane in app.focused.ancestors)
        await pilot.press("g")
        try:
            await asyncio.to_thread(gong.wait_event, "strike", 10.0)
        except TimeoutError:
            raise AssertionError(f"{list(pane.lines)} {app.focused} {daemon.log()}") from None
        await until(pilot, lambda: any("ok gong" in line for line in pane.lines))
        await pilot.press("m")
        await asyncio.to_thread(leds.wait_event, "all up", 10.0)
        await until(pilot, lambda: "connected" in str(app.query_one("#devices-title").render()))
    assert "ok gong" in daemon.log() or gong.events.count("strike") == 1


async def test_a_killed_daemon_shows_disconnected_then_reconnects(daemon: DaemonProcess) -> None:
    app = attached(daemon)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "attached to daemon" in header(pilot))
        daemon.proc.kill()  # type: ignore[union-attr]  # kill -9: no goodbye
        daemon.proc.wait(10)  # type: ignore[union-attr]
        await until(pilot, lambda: "DISCONNECTED" in header(pilot))
        assert not app.engine.link.connected
        daemon.start()  # a new daemon on the same socket
        new = f"attached to daemon pid {daemon.proc.pid}"  # type: ignore[union-attr]
        await until(pilot, lambda: new in header(pilot))
        await until(pilot, lambda: len(app.engine.snapshot().metrics) == 4)


def test_an_embedded_engine_leaves_the_daemons_ports_alone(
    daemon: DaemonProcess, boards: tuple[EmulatedDevice, EmulatedDevice]
) -> None:
    gong, _ = boards
    opens = gong.opens
    config = Config(gong=DeviceConfig(port=gong.port))
    runtime = Runtime(config, collectors=[])
    runtime.start()
    try:
        runtime.device_connect("gong", gong.port)  # asked from the Devices pane: refused too
        (state, _) = runtime.device_states()
        assert f"driven by gongwatch pid {daemon.proc.pid}" in state.detail  # type: ignore[union-attr]
        time.sleep(0.5)
        assert gong.opens == opens  # the board was never reset by a second opener
    finally:
        runtime.stop()


def test_with_no_daemon_the_screen_runs_its_own_engine(tmp_path: Any) -> None:
    assert RemoteEngineView.attach(tmp_path / "none.sock", LOCAL) is None
    app = make_app(Config(), collectors=[], autostart=False)
    assert app.engine.link.mode == "embedded"


async def test_quitting_the_embedded_screen_leaves_no_thread_and_no_child(
    boards: tuple[EmulatedDevice, EmulatedDevice],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gong, _ = boards
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    config = parse(
        f"""{QUIET_SOURCES}
[general]
alert_log = "{tmp_path / "alerts.log"}"
[collectors.synthetic]
series = 3
interval = 0.2
critical_after = 0.5
[devices.gong]
port = "{gong.port}"
[[alerts]]
metrics = "synthetic/**"
severity = "critical"
actions = ["gong", "command"]
command = ["sleep", "300"]
"""
    )
    before = set(threading.enumerate())
    me = psutil.Process()
    app = make_app(config, clock=lambda: FIXED_NOW, hostname="testhost")
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.engine.link.mode == "embedded"
        await until(pilot, lambda: any(c.name() == "sleep" for c in me.children()))
        children = me.children(recursive=True)
        await until(pilot, lambda: "strike" in gong.events)  # no thread of the test's own
        await pilot.press("q")
    _gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive
    # The event loop's own executor threads outlive the app here because the test's loop
    # does; ``asyncio.run`` shuts them down when gongwatch exits, and so does this.
    await asyncio.get_running_loop().shutdown_default_executor()
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []
