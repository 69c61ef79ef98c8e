"""Tests the serial line protocol, the device threads and the drivers against the emulator."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from collectors import serial_link
from collectors.serial_link import (
    CommandError,
    Device,
    DeviceGone,
    DeviceState,
    DeviceTimeout,
    Gong,
    LineEvent,
    Map,
    SerialLink,
    SerialLinkError,
    all_command,
    check_line,
    map_command,
)
from tests.clock import ManualClock
from tests.emulator import EmulatedDevice
from tests.firmware.simdevice import (
    SimulatedDevice,
    frame_colours,
    map_colours,
    map_leds,
    require_firmware,
)


class Recorder:
    """A device listener that keeps every event and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[LineEvent | DeviceState] = []
        self._cond = threading.Condition()

    def __call__(self, event: LineEvent | DeviceState) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def states(self) -> list[DeviceState]:
        return [e for e in self.events if isinstance(e, DeviceState)]

    def lines(self, kind: str) -> list[str]:
        return [e.text for e in self.events if isinstance(e, LineEvent) and e.kind == kind]

    def wait(self, test: Callable[[LineEvent | DeviceState], bool], count: int = 1) -> None:
        """Wait until ``count`` events pass ``test``."""
        with self._cond:
            ok = self._cond.wait_for(lambda: sum(map(test, self.events)) >= count, 5.0)
        assert ok, f"timed out; events: {self.events}"


def status_is(status: str) -> Callable[[LineEvent | DeviceState], bool]:
    return lambda e: isinstance(e, DeviceState) and e.status == status


@pytest.fixture
def gong_emu() -> Iterator[EmulatedDevice]:
    with EmulatedDevice("gong") as emu:
        yield emu


@pytest.fixture
def map_emu() -> Iterator[EmulatedDevice]:
    with EmulatedDevice("map") as emu:
        yield emu


def opened(emu: EmulatedDevice, **kwargs: object) -> SerialLink:
    link = SerialLink(emu.port, reply_timeout=1.0, ready_timeout=2.0, **kwargs)  # type: ignore[arg-type]
    link.open()
    return link


@pytest.mark.parametrize(
    "line", ["gong\n", "london up\r", "", "   ", "café up", "x" * 41, "london\nup"]
)
def test_check_line_rejects_what_cannot_be_one_command(line: str) -> None:
    with pytest.raises(CommandError):
        check_line(line)


@pytest.mark.parametrize(
    ("location", "status"),
    [
        ("new york", "up"),
        ("london\n", "up"),
        ("london\nall", "off"),
        ("London", "up"),
        ("", "up"),
        ("all", "up"),
        ("london", "purple"),
        ("london", "up\n"),
    ],
)
def test_map_command_validates_location_and_status(location: str, status: str) -> None:
    with pytest.raises(CommandError):
        map_command(location, status)


def test_valid_commands() -> None:
    assert map_command("new_york", "slow") == "new_york slow"
    assert map_command("sao-paulo2", "down") == "sao-paulo2 down"
    assert all_command("off") == "all off"
    assert map_command("london", "off") == "london off"
    with pytest.raises(CommandError):
        all_command("purple")


def test_open_waits_for_ready_and_identifies(gong_emu: EmulatedDevice) -> None:
    rec = Recorder()
    link = opened(gong_emu, on_line=rec)
    assert (link.kind, link.version) == ("gong", "1.0")
    reply = link.command("gong")
    assert reply.line == "ok gong" and reply.ok and reply.latency > 0
    assert gong_emu.wait_event("strike") == "strike"
    link.close()
    assert rec.lines("received") == ["ready", "pong gong 1.0", "ok gong"]
    assert rec.lines("sent") == ["ping", "gong"]


def test_a_board_that_does_not_reset_is_pinged_after_the_ready_timeout() -> None:
    with EmulatedDevice("map", reset_on_open=False) as emu:
        start = time.monotonic()
        link = SerialLink(emu.port, reply_timeout=1.0, ready_timeout=0.2)
        link.open()
        assert time.monotonic() - start >= 0.2
        assert link.kind == "map"
        assert link.command("all up").line == "ok all up"
        link.close()
    assert emu.events == ["all up"]


def test_a_device_that_never_answers_times_out() -> None:
    with EmulatedDevice("gong", silent=True) as emu:
        link = SerialLink(emu.port, reply_timeout=0.2, ready_timeout=0.1)
        with pytest.raises(DeviceTimeout, match="no reply to 'ping'"):
            link.open()
        assert not link.is_open
    assert emu.received == ["ping", "ping"]  # no ready: the board may have been booting


def test_a_board_that_missed_the_first_ping_answers_the_second() -> None:
    with EmulatedDevice("gong", reset_on_open=False, deaf=1) as emu:
        link = SerialLink(emu.port, reply_timeout=0.2, ready_timeout=0.05)
        link.open()
        assert link.kind == "gong"
        link.close()
    assert emu.received == ["ping", "ping"]


def test_a_command_that_times_out_leaves_the_link_usable(gong_emu: EmulatedDevice) -> None:
    rec = Recorder()
    link = opened(gong_emu, on_line=rec)
    gong_emu.slow = 0.3
    with pytest.raises(DeviceTimeout):
        link.command("gong", timeout=0.1)
    gong_emu.wait_event("strike")
    gong_emu.slow = 0.0
    time.sleep(0.3)  # let the late reply arrive: it must not pass for the next one's
    assert link.command("ping").line == "pong gong 1.0"
    assert "ok gong (late, ignored)" in rec.lines("received")
    link.close()


def test_garbage_is_skipped_and_logged() -> None:
    with EmulatedDevice("map", garbage=True) as emu:
        rec = Recorder()
        link = opened(emu, on_line=rec)
        assert link.kind == "map"
        assert link.command("london down").line == "ok london down"
        assert link.command("atlantis up").line == "err unknown location"
        link.close()
    assert emu.events == ["london down"]
    assert rec.lines("garbage") and all("noise" in g for g in rec.lines("garbage"))
    assert "\\x00" in rec.lines("garbage")[0]


def test_something_that_is_not_our_firmware_is_refused() -> None:
    with EmulatedDevice("gong") as emu:
        emu.kind = "toaster"
        link = SerialLink(emu.port, reply_timeout=0.5, ready_timeout=1.0)
        with pytest.raises(SerialLinkError, match="not gongwatch firmware"):
            link.open()
        assert not link.is_open


def test_unplugged_in_the_middle_of_a_command() -> None:
    with EmulatedDevice("gong", unplug_on="gong") as emu:
        link = opened(emu)
        with pytest.raises(DeviceGone, match="disconnected"):
            link.command("gong")
        assert not link.is_open
        with pytest.raises(DeviceGone):
            link.command("ping")


def test_an_absent_port_is_reported() -> None:
    with pytest.raises(DeviceGone, match="cannot open"):
        SerialLink("/nonexistent/tty").open()


def test_commands_never_interleave(gong_emu: EmulatedDevice) -> None:
    gong_emu.slow = 0.02
    link = opened(gong_emu)
    replies: dict[str, list[str]] = {"ping": [], "gong": []}

    def send(line: str) -> None:
        for _ in range(5):
            replies[line].append(link.command(line).line)

    threads = [threading.Thread(target=send, args=(w,)) for w in ("ping", "gong")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    link.close()
    assert replies == {"ping": ["pong gong 1.0"] * 5, "gong": ["ok gong"] * 5}
    assert sorted(gong_emu.received) == ["gong"] * 5 + ["ping"] * 6


def test_bad_commands_are_never_sent(map_emu: EmulatedDevice) -> None:
    link = opened(map_emu)
    for bad in ("london\nall off", "", "z\xfcrich up", "x" * 50):
        with pytest.raises(CommandError):
            link.command(bad)
    link.close()
    assert map_emu.received == ["ping"]


def test_device_submit_never_blocks_and_returns_the_reply(gong_emu: EmulatedDevice) -> None:
    gong_emu.slow = 0.3
    device = Device("gong", gong_emu.port, ready_timeout=2.0)
    device.start()
    try:
        start = time.monotonic()
        future = device.submit("gong")
        assert time.monotonic() - start < 0.05
        assert future.result(5).line == "ok gong"
        assert device.state.status == "connected" and device.state.version == "1.0"
    finally:
        device.stop()
    assert device.state.status == "disconnected"


def test_device_reconnects_with_backoff_after_an_unplug() -> None:
    with EmulatedDevice("gong", unplug_on="gong") as emu:
        rec = Recorder()
        device = Device("gong", emu.port, ready_timeout=2.0, backoff=(0.02, 0.08))
        device.add_listener(rec)
        device.start()
        try:
            with pytest.raises(DeviceGone):
                device.call("gong")
            rec.wait(status_is("retrying"), count=4)
            waits = [s.detail.rsplit("in ", 1)[1] for s in rec.states() if s.status == "retrying"]
            assert waits[:4] == ["0.02 s", "0.04 s", "0.08 s", "0.08 s"]
            emu.unplug_on = None
            emu.plug()
            rec.wait(status_is("connected"), count=2)
            assert device.call("gong").line == "ok gong"
        finally:
            device.stop()
    assert emu.events == ["strike"]


def test_a_command_while_disconnected_fails_fast() -> None:
    device = Device("map", "/nonexistent/tty", backoff=(60.0, 60.0))
    rec = Recorder()
    device.add_listener(rec)
    device.start()
    try:
        rec.wait(status_is("retrying"))
        with pytest.raises(DeviceGone, match="not connected"):
            device.call("all up", timeout=1.0)
    finally:
        device.stop()


def test_disconnect_stops_reconnecting(gong_emu: EmulatedDevice) -> None:
    device = Device("gong", gong_emu.port, ready_timeout=2.0)
    rec = Recorder()
    device.add_listener(rec)
    device.start()
    try:
        rec.wait(status_is("connected"))
        device.disconnect()
        rec.wait(status_is("disconnected"))
        with pytest.raises(DeviceGone):
            device.call("gong", timeout=1.0)
        device.connect()
        rec.wait(status_is("connected"), count=2)
    finally:
        device.stop()
    assert gong_emu.opens == 2


def test_gong_cooldown_rings_once_per_storm(gong_emu: EmulatedDevice) -> None:
    clock = ManualClock()
    device = Device("gong", gong_emu.port, ready_timeout=2.0)
    gong = Gong(device, cooldown=5.0, monotonic=clock)
    device.start()
    try:
        first = gong.strike()
        assert first is not None
        assert all(gong.strike() is first for _ in range(20))  # they join the one on its way
        assert first.result(5).line == "ok gong"
        assert [gong.strike() for _ in range(20)] == [None] * 20
        clock.now += 4.9
        assert gong.strike() is None
        clock.now += 0.2
        second = gong.strike()
        assert second is not None
        forced = gong.strike(force=True)
        assert forced is not None
        for f in (first, second, forced):
            assert f.result(5).line == "ok gong"
    finally:
        device.stop()
    assert gong_emu.events == ["strike"] * 3


def test_map_driver_validates_and_restores_after_a_reset(map_emu: EmulatedDevice) -> None:
    device = Device("map", map_emu.port, ready_timeout=2.0)
    rec = Recorder()
    device.add_listener(rec)
    leds = Map(device)
    device.start()
    try:
        assert leds.all("slow").result(5).ok
        assert leds.set("london", "down").result(5).ok
        with pytest.raises(CommandError):
            leds.set("new york", "up")
        with pytest.raises(CommandError):
            leds.set("tokyo\nall", "off")
        device.connect()  # reopening resets the board: its LEDs must come back
        rec.wait(status_is("connected"), count=2)
        map_emu.wait_event("london down")
        with map_emu._changed:
            assert map_emu._changed.wait_for(lambda: len(map_emu.events) == 4, 5)
    finally:
        device.stop()
    assert map_emu.events == ["all slow", "london down", "all slow", "london down"]
    assert not any("york" in line or "tokyo" in line for line in map_emu.received)


def test_discover_identifies_given_ports(
    gong_emu: EmulatedDevice, map_emu: EmulatedDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serial_link.list_ports, "comports", lambda: [])
    seen: list[serial_link.PortInfo] = []
    found = serial_link.discover(
        [gong_emu.port, map_emu.port, "/nonexistent/tty"], timeout=5.0, on_port=seen.append
    )
    assert sorted(seen, key=found.index) == found  # each told as it came
    by_port = {p.port: p for p in found}
    assert by_port[gong_emu.port].kind == "gong"
    assert by_port[map_emu.port].kind == "map"
    assert by_port["/nonexistent/tty"].kind is None
    assert "cannot open" in (by_port["/nonexistent/tty"].error or "")
    skipped = serial_link.discover([gong_emu.port], skip=[gong_emu.port])
    assert skipped[0].error == "in use"


def test_discover_probes_every_port_at_once_within_its_timeout(
    gong_emu: EmulatedDevice, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serial_link.list_ports, "comports", lambda: [])
    silent = [EmulatedDevice("map", silent=True) for _ in range(4)]
    for emu in silent:
        emu.plug()
    try:
        start = time.monotonic()
        found = serial_link.discover([e.port for e in silent] + [gong_emu.port], timeout=1.0)
        took = time.monotonic() - start
    finally:
        for emu in silent:
            emu.close()
    assert [p.kind for p in found] == [None] * 4 + ["gong"]
    assert all("no reply to 'ping'" in (p.error or "") for p in found[:4])
    # One after the other, four silent ports would take four times the timeout.
    assert took < 2.5, f"the scan took {took:.1f} s"


def test_open_honours_its_total_timeout() -> None:
    with EmulatedDevice("gong", silent=True) as emu:
        link = SerialLink(emu.port, reply_timeout=5.0, ready_timeout=5.0)
        start = time.monotonic()
        with pytest.raises(DeviceTimeout, match=f"^{emu.port}: no reply to 'ping'"):
            link.open(timeout=0.6)
        assert time.monotonic() - start < 1.5


# -- the real firmware, in the simulator --------------------------------------------------------


@pytest.fixture(scope="module")
def firmware() -> Path:
    """Build the firmware once; skip without the tools (fail in CI)."""
    return require_firmware()


def test_the_gong_firmware_strikes(firmware: Path) -> None:
    with SimulatedDevice("gong") as sim:
        link = SerialLink(sim.port, reply_timeout=2.0, ready_timeout=3.0)
        link.open()  # the board resets on open: this waits for its ready
        assert (link.kind, link.version) == ("gong", "1.0")
        mark = sim.mark()
        assert link.command("gong").line == "ok gong"
        sim.wait_event("servo 2000", since=mark)
        assert link.command("gong").line == "err cooldown"  # the firmware's own guard
        link.close()


def test_the_map_firmware_through_the_driver(firmware: Path) -> None:
    leds, colours = map_leds(), map_colours()
    with SimulatedDevice("map") as sim:
        device = Device("map", sim.port, ready_timeout=3.0)
        board = Map(device)
        device.start()
        try:
            assert board.all("up").result(10).line == "ok all up"
            mark = sim.mark()
            assert board.set("london", "down").result(10).line == "ok london down"
            frame = frame_colours(sim.wait_event("ws2812", since=mark))
            assert frame[leds["london"]] == colours["down"]
            assert frame[leds["paris"]] == colours["up"]
            with pytest.raises(CommandError):
                board.set("new york", "up")
            with pytest.raises(CommandError, match="unknown location 'atlantis'"):
                board.set("atlantis", "up")  # the board told its table: never sent
        finally:
            device.stop()


def test_the_simulated_board_vanishing_mid_session(firmware: Path) -> None:
    rec = Recorder()
    with SimulatedDevice("gong") as sim:
        device = Device("gong", sim.port, ready_timeout=3.0, backoff=(0.05, 0.1))
        device.add_listener(rec)
        device.start()
        rec.wait(status_is("connected"))
        sim.stop()
        try:
            with pytest.raises(DeviceGone):
                device.call("gong")
            rec.wait(status_is("retrying"), count=2)
        finally:
            device.stop()
