"""Tests the Devices and Alerts panes: the keys drive the emulated boards, actions are listed."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from collectors.base import Batch, Reading, Status
from collectors.serial_link import PortInfo
from engine import Engine
from engine import runtime as runtime_module
from engine.alerts import AlertManager
from engine.config import AlertRule, Config, DeviceConfig
from engine.devices import Devices
from engine.runtime import Runtime
from tests.emulator import EmulatedDevice
from tui.app import GongwatchApp
from tui.panes import AlertsPane, DevicesPane, OverviewPane
from tui.panes import devices as devices_pane
from tui.panes.base import Pane
from tui.screens import DetailScreen
from tui.widgets import CommandHistory, CommandLine

from .helpers import FIXED_NOW, recorded_engine

FIXED_TIME = FIXED_NOW.timestamp()


class Messages:
    """A message hook that lets a test await the message it expects, instead of sleeping."""

    def __init__(self) -> None:
        self.seen: list[Message] = []
        self._arrived = asyncio.Event()

    def __call__(self, message: Message) -> None:
        self.seen.append(message)
        self._arrived.set()

    async def wait(self, test: Callable[[Message], bool], limit: float = 5.0) -> Message:
        async def find() -> Message:
            start = 0
            while True:
                for message in self.seen[start:]:
                    if test(message):
                        return message
                start = len(self.seen)
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(find(), limit)

    async def logged(self, text: str) -> None:
        """Wait until the devices log gets a line containing ``text``."""
        await self.wait(lambda m: isinstance(m, DevicesPane.LineLogged) and text in m.event.text)


@pytest.fixture
def boards() -> Iterator[tuple[EmulatedDevice, EmulatedDevice]]:
    with EmulatedDevice("gong") as gong, EmulatedDevice("map") as leds:
        yield gong, leds


@pytest.fixture(autouse=True)
def no_port_probing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pane's scan sees only the ports it is given (none of this machine's)."""

    def discover(extra: list[str], skip: list[str] = (), **_: object) -> list[PortInfo]:  # type: ignore[assignment]
        return [PortInfo(p, error="in use" if p in skip else "no answer") for p in extra]

    monkeypatch.setattr(runtime_module, "discover", discover)
    monkeypatch.setattr(runtime_module, "_free", lambda port: True)


@contextmanager
def started(config: Config, **options: float) -> Iterator[Devices]:
    """The configured devices with their threads running, stopped on the way out."""
    devices = Devices.from_config(config, **options)
    devices.start()
    try:
        yield devices
    finally:
        devices.stop()


def config_for(gong: str | None, leds: str | None, **kwargs: Any) -> Config:
    return Config(
        gong=DeviceConfig(port=gong),
        map=DeviceConfig(port=leds, locations={"blog/lon*": "london", "blog/nyc": "newyork"}),
        **kwargs,
    )


def app_with(
    config: Config,
    devices: Devices,
    engine: Engine | None = None,
    panes: list[type[Pane]] | None = None,
) -> GongwatchApp:
    engine = engine or recorded_engine(config, polls=3)
    alerts = AlertManager(config, gong=devices.gong, map=devices.map, log_path=Path("/dev/null"))
    alerts.attach(engine)
    view = Runtime(config, engine=engine, devices=devices, alerts=alerts, lock_ports=False)
    return GongwatchApp(
        view, clock=lambda: FIXED_NOW, hostname="testhost", autostart=False,
        panes=panes or [DevicesPane, AlertsPane],
    )  # fmt: skip


async def show(pilot: Pilot[Any], pane: str) -> None:
    pilot.app.query_one(TabbedContent).active = f"tab-{pane}"
    await pilot.pause()
    pilot.app.tick()  # type: ignore[attr-defined]
    await pilot.pause()


async def test_the_keys_drive_both_devices(boards: tuple[EmulatedDevice, EmulatedDevice]) -> None:
    gong, leds = boards
    config = config_for(gong.port, leds.port)
    messages = Messages()
    with started(config, ready_timeout=2.0) as devices:
        async with app_with(config, devices).run_test(message_hook=messages) as pilot:
            await show(pilot, "devices")
            await messages.wait(lambda m: isinstance(m, DevicesPane.PortsScanned))
            await pilot.press("g")
            await messages.logged("ok gong")
            for status in ("up", "slow", "down", "up"):
                await pilot.press("m")
                await messages.logged(f"ok all {status}")
            await pilot.press("l")  # puts the first known location on the command line
            box = pilot.app.query_one(CommandLine)
            assert box.has_focus and box.value == "london up"
            await pilot.press("backspace", "backspace", "d", "o", "w", "n", "enter")
            await messages.logged("ok london down")
            await pilot.press("escape", "t", "colon", *"ping", "enter")
            await messages.logged("pong gong 1.0")
            pane = pilot.app.query_one(DevicesPane)
            assert any("gong ← ok gong" in line and line.endswith(" ms") for line in pane.lines)
    assert gong.events == ["strike"]
    assert leds.events == ["all up", "all slow", "all down", "all up", "london down"]


async def test_a_bad_location_is_rejected_and_never_sent(
    boards: tuple[EmulatedDevice, EmulatedDevice],
) -> None:
    _, leds = boards
    config = config_for(None, leds.port)
    messages = Messages()
    with started(config, ready_timeout=2.0) as devices:
        async with app_with(config, devices).run_test(message_hook=messages) as pilot:
            await show(pilot, "devices")
            assert (await asyncio.to_thread(devices.map.device.call, "ping")).ok  # table told
            await pilot.press("colon")
            box = pilot.app.query_one(CommandLine)
            for line in ("new york up", "London up", "atlantis up", "all off"):
                box.value = line  # typing each key through the pilot is slow
                await pilot.press("enter")
            await messages.logged("ok all off")
            pane = pilot.app.query_one(DevicesPane)
            text = "\n".join(pane.lines)
            assert "not sent: a location name has no spaces: 'new york'" in text
            assert "not sent: bad location name 'London'" in text
            assert "not sent: unknown location 'atlantis': the map knows amsterdam," in text
            await pilot.press("up")
            assert box.value == "all off"
            await pilot.press("up", "up", "up")
            assert box.value == "new york up"
            await pilot.press("down", "down", "down", "down")
            assert box.value == ""
    assert [line for line in leds.received if not line.startswith("location")] == [
        "ping",
        "ping",
        "all off",
    ]


async def test_connect_and_disconnect_from_the_port_list(
    boards: tuple[EmulatedDevice, EmulatedDevice], monkeypatch: pytest.MonkeyPatch
) -> None:
    gong, _ = boards
    found = [PortInfo(gong.port, "usb serial", kind="gong", version="1.0")]
    monkeypatch.setattr(runtime_module, "discover", lambda extra, skip=(), **_: found)
    config = config_for(None, None)
    messages = Messages()

    def state(status: str) -> Callable[[Message], bool]:
        return lambda m: isinstance(m, DevicesPane.DeviceChanged) and m.state.status == status

    with started(config, ready_timeout=2.0) as devices:
        async with app_with(config, devices).run_test(message_hook=messages) as pilot:
            await show(pilot, "devices")
            await messages.wait(lambda m: isinstance(m, DevicesPane.PortsScanned))
            pilot.app.query_one("#devices-ports").focus()
            await pilot.press("enter")
            await messages.wait(state("connected"))
            assert devices.gong.device.state.port == gong.port
            await pilot.press("d")
            await messages.wait(state("disconnected"))
            await pilot.press("c")
            await messages.wait(state("connected"))
    assert gong.opens == 2


async def test_an_unplugged_gong_leaves_the_rest_working(
    boards: tuple[EmulatedDevice, EmulatedDevice],
) -> None:
    gong, leds = boards
    gong.unplug_on = "gong"
    config = config_for(gong.port, leds.port)
    messages = Messages()
    with started(config, ready_timeout=2.0) as devices:
        async with app_with(config, devices).run_test(message_hook=messages) as pilot:
            await show(pilot, "devices")
            await pilot.press("g")
            await messages.wait(
                lambda m: isinstance(m, DevicesPane.DeviceChanged) and m.state.status == "retrying"
            )
            await pilot.press("m")
            await messages.logged("ok all up")
            title = str(pilot.app.query_one("#devices-title").render())
            assert "retrying" in title


async def test_the_alerts_pane_lists_fired_actions(tmp_path: Path) -> None:
    config = config_for(None, None, alerts=(AlertRule("system/**", "critical", 0.0, ("gong",)),))
    engine = Engine(config)
    messages = Messages()
    # no port: a strike fails at once, and says why
    with started(config) as devices:
        async with app_with(config, devices, engine).run_test(message_hook=messages) as pilot:
            await show(pilot, "alerts")
            engine.ingest(Batch("t", (Reading("system/load/1m", 9.0, status=Status.CRITICAL),)))
            await messages.wait(
                lambda m: isinstance(m, AlertsPane.AlertRecorded) and m.record.result is not None
            )
            await pilot.pause()
            table = pilot.app.query_one("#alerts-table")
            (row,) = table.rows  # type: ignore[attr-defined]
            assert row.cells[1:3] == ("gong", "system/load/1m")
            assert "not connected" in row.cells[4] and row.style == "red"
            assert "1 action · 1 rule" in str(pilot.app.query_one("#alerts-title").render())
            table.focus()
            await pilot.press("enter")  # opens the chart of the metric that fired
            assert isinstance(pilot.app.screen, DetailScreen)
            assert pilot.app.screen.key == "system/load/1m"


def test_command_history() -> None:
    history = CommandHistory()
    for line in ("ping", "gong", "gong", "all up"):
        history.add(line)
    assert list(history.entries) == ["ping", "gong", "all up"]
    assert [history.step(-1) for _ in range(4)] == ["all up", "gong", "ping", "ping"]
    assert [history.step(1) for _ in range(3)] == ["gong", "all up", ""]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("pane", ["devices", "alerts"])
def test_snapshot(
    snap_compare: Any, pane: str, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both panes at 80x24 and 120x40: no boards, a fixed scan, fixed records, UTC."""
    monkeypatch.setenv("TZ", "UTC")

    time.tzset()
    monkeypatch.setattr(devices_pane.time, "time", lambda: FIXED_TIME)
    config = config_for("/dev/ttyUSB0", None, alerts=(AlertRule("sensors/**", "critical"),))
    devices = Devices.from_config(config)
    app = app_with(config, devices)
    assert isinstance(app.engine, Runtime)
    alerts = app.engine.alerts
    alerts._wall = lambda: FIXED_TIME
    alerts.bell = lambda: None
    for key in ("sensors/coretemp/core0", "sensors/nct6775/fan2"):
        alerts.observe(Batch("t"), [_anomalous(key)])

    async def run_before(pilot: Pilot[Any]) -> None:
        await show(pilot, pane)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        monkeypatch.undo()
        time.tzset()


def _anomalous(key: str) -> Any:
    from detectors.base import Verdict
    from engine import MetricState

    verdict = Verdict(0.9, True, severity="critical", reason="above crit 90 °C")
    return MetricState(Reading(key, 95.0, "°C", FIXED_TIME), verdict, "auto", 0.0)


def cells(pilot: Pilot[Any]) -> dict[str, tuple[str, ...]]:
    """The port table's rows: port -> (port, firmware, device using it, note)."""
    table = pilot.app.query_one("#devices-ports")
    return {row.key: tuple(row.cells) for row in table.rows}  # type: ignore[attr-defined]


async def test_l_cycles_and_escape_and_colon_leave_no_stale_text() -> None:
    config = config_for(None, None)
    with started(config) as devices:
        async with app_with(config, devices).run_test() as pilot:
            await show(pilot, "devices")
            box = pilot.app.query_one(CommandLine)
            seen = []
            for _ in range(3):
                await pilot.press("l")
                seen.append(box.value)
            assert seen == ["london up", "newyork up", "london up"]
            await pilot.press("backspace", "backspace", "l")  # edited: l is typed now
            assert box.value == "london l"
            await pilot.press("escape")
            assert box.value == "" and pilot.app.focused is pilot.app.query_one("#devices-ports")
            await pilot.press("l", "escape", "colon")
            assert box.has_focus and box.value == ""
            await pilot.press("l")  # typed into an empty line, not a location
            assert box.value == "l"


async def test_c_connects_only_a_device_whose_firmware_answered(
    boards: tuple[EmulatedDevice, EmulatedDevice], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, leds = boards
    found = [PortInfo("/dev/ttyS9", error="no reply to 'ping' within 1 s"), PortInfo(leds.port)]
    monkeypatch.setattr(runtime_module, "discover", lambda extra, skip=(), **_: found)
    config = config_for(None, leds.port)
    messages = Messages()
    with started(config, ready_timeout=2.0) as devices:
        async with app_with(config, devices).run_test(message_hook=messages) as pilot:
            await show(pilot, "devices")
            await messages.wait(lambda m: isinstance(m, DevicesPane.PortsScanned))
            pilot.app.query_one("#devices-ports").focus()
            await pilot.press("home", "c", "enter")
            pane = pilot.app.query_one(DevicesPane)
            said = [line for line in pane.lines if "no gong or map firmware answered" in line]
            assert len(said) == 2 and all(line.endswith("on /dev/ttyS9") for line in said)
            assert devices.map.device.state.port == leds.port
            assert devices.map.device.call("ping").ok
            rows = cells(pilot)
            assert rows["/dev/ttyS9"][1:3] == ("-", "")
            assert rows[leds.port][1:3] == ("map 1.0", "map: connected")
    assert leds.opens == 1


async def test_a_device_moved_to_a_silent_port_shows_no_firmware(
    boards: tuple[EmulatedDevice, EmulatedDevice],
) -> None:
    _, leds = boards
    config = config_for(None, leds.port)
    with started(config, ready_timeout=2.0) as devices:
        assert devices.map.device.call("ping").ok
        devices.map.device.connect("/nonexistent/tty")  # as from another client
        async with app_with(config, devices).run_test() as pilot:
            await show(pilot, "devices")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            assert cells(pilot)["/nonexistent/tty"][1] == "-"


async def test_leaving_the_devices_pane_at_once_stays_left(
    boards: tuple[EmulatedDevice, EmulatedDevice], monkeypatch: pytest.MonkeyPatch
) -> None:
    gong, _ = boards

    def slow(extra: list[str], skip: list[str] = (), **_: object) -> list[PortInfo]:  # type: ignore[assignment]
        time.sleep(0.5)  # a scan still running when the user has gone
        return [PortInfo(p, error="no answer") for p in extra]

    monkeypatch.setattr(runtime_module, "discover", slow)
    config = config_for(gong.port, None)
    with started(config, ready_timeout=2.0) as devices:
        assert devices.gong.device.call("ping").ok
        app = app_with(config, devices, panes=[OverviewPane, DevicesPane])
        async with app.run_test() as pilot:
            tabs = pilot.app.query_one(TabbedContent)
            for delay in (0.0, 0.02, 0.05, 0.1, 0.2):
                # What the keys 2 and 1 do, without the pilot's wait for the screen to settle
                # in between: a user faster than the refresh.
                pilot.app.action_show_pane(2)  # type: ignore[attr-defined]
                await asyncio.sleep(delay)
                pilot.app.action_show_pane(1)  # type: ignore[attr-defined]
                await pilot.app.workers.wait_for_complete()
                await pilot.pause(0.2)
                assert tabs.active == "tab-overview", f"back on Devices after {delay} s"
                await pilot.press("g")  # the Overview has no g
            assert devices.gong.device.call("ping").ok
    assert gong.events == []


async def test_a_map_test_from_the_keyboard_does_not_outlive_a_reconnect(
    boards: tuple[EmulatedDevice, EmulatedDevice],
) -> None:
    _, leds = boards
    config = config_for(None, leds.port)
    messages = Messages()
    with started(config, ready_timeout=2.0) as devices:
        assert devices.map.set("sydney", "slow").result(5).ok  # what the alerts want
        async with app_with(config, devices).run_test(message_hook=messages) as pilot:
            await show(pilot, "devices")
            await pilot.press("m")
            await messages.logged("ok all up")
            await pilot.press("colon", *"tokyo down", "enter")
            await messages.logged("ok tokyo down")
            devices.map.device.connect()  # the board resets
            await messages.wait(
                lambda m: isinstance(m, DevicesPane.DeviceChanged) and m.state.status == "connected"
            )
            assert devices.map.device.call("ping").ok
    assert leds.events == ["sydney slow", "all up", "tokyo down", "all off", "sydney slow"]


async def test_ports_show_at_once_and_fill_in_as_the_boards_answer(
    boards: tuple[EmulatedDevice, EmulatedDevice], monkeypatch: pytest.MonkeyPatch
) -> None:
    gong, _ = boards
    release = threading.Event()

    def discover(
        extra: list[str], skip: list[str] = (), on_port: Any = None, **_: object
    ) -> list[PortInfo]:  # type: ignore[assignment]
        first = PortInfo(gong.port, kind="gong", version="1.0")
        on_port(first)
        release.wait(10)  # a silent port keeps the scan going
        return [first, PortInfo("/dev/ttyS9", error="no answer")]

    monkeypatch.setattr(runtime_module, "discover", discover)
    config = config_for(None, None)
    messages = Messages()
    with started(config) as devices:
        async with app_with(config, devices).run_test(message_hook=messages) as pilot:
            await show(pilot, "devices")
            await messages.wait(lambda m: isinstance(m, DevicesPane.PortProbed))
            await pilot.pause()
            assert cells(pilot)[gong.port][1] == "gong 1.0"
            release.set()
            await messages.wait(lambda m: isinstance(m, DevicesPane.PortsScanned))
