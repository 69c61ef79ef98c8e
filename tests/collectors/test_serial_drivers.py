"""Tests the gong's and the map's drivers against the emulator and the simulated firmware: a
strike rings once when it should, and the map shows what the monitor wants after a reconnect."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collectors.serial_link import (
    CommandAbandoned,
    CommandError,
    Device,
    DeviceGone,
    Gong,
    LineEvent,
    Map,
)
from tests.clock import ManualClock
from tests.collectors.test_serial_link import Recorder, status_is
from tests.emulator import LOCATIONS, EmulatedDevice
from tests.firmware.simdevice import (
    SimulatedDevice,
    frame_colours,
    map_colours,
    map_leds,
    require_firmware,
)


@pytest.fixture
def map_emu() -> Iterator[EmulatedDevice]:
    with EmulatedDevice("map") as emu:
        yield emu


def test_strikes_asked_for_while_the_board_resets_ring_once_when_it_is_ready() -> None:
    # The board eats the first pings while it boots: the first open fails, the next one works.
    with EmulatedDevice("gong", reset_on_open=False, deaf=2) as emu:
        device = Device("gong", emu.port, reply_timeout=0.2, ready_timeout=0.05,
                        backoff=(0.05, 0.1))  # fmt: skip
        gong = Gong(device, cooldown=5.0, monotonic=ManualClock())
        device.start()
        try:
            first, second = gong.strike(), gong.strike()  # two rules fire at start
            assert first is not None and second is first
            assert first.result(5).line == "ok gong"
        finally:
            device.stop()
    assert emu.events == ["strike"]
    assert emu.opens == 2


def test_a_failed_strike_does_not_start_the_cooldown() -> None:
    clock = ManualClock()
    with EmulatedDevice("gong", unplug_on="gong") as emu:
        device = Device("gong", emu.port, ready_timeout=2.0, backoff=(0.05, 0.1))
        rec = Recorder()
        device.add_listener(rec)
        gong = Gong(device, cooldown=60.0, monotonic=clock)
        device.start()
        try:
            lost = gong.strike()
            assert lost is not None
            with pytest.raises(DeviceGone):  # written, then the board vanished
                lost.result(5)
            emu.unplug_on = None
            emu.plug()
            again = gong.strike()  # the cooldown never started: this one rings
            assert again is not None and again.result(10).line == "ok gong"
            assert gong.strike() is None  # this one did start it
        finally:
            device.stop()
    assert emu.events == ["strike"]


def test_a_strike_that_cannot_be_delivered_in_time_is_abandoned_and_says_why() -> None:
    device = Device("gong", "/nonexistent/tty", backoff=(0.05, 0.05))
    rec = Recorder()
    device.add_listener(rec)
    gong = Gong(device, cooldown=60.0, monotonic=ManualClock(), deliver_within=0.3)
    device.start()
    try:
        first = gong.strike()
        assert first is not None
        with pytest.raises(CommandAbandoned, match=r"'gong' abandoned, never sent: .*cannot open"):
            first.result(5)
        rec.wait(lambda e: isinstance(e, LineEvent) and "abandoned" in e.text)
        assert gong.strike() is not None  # nothing rang: no cooldown
    finally:
        device.stop()


def test_a_keyboard_strike_fails_at_once_when_the_gong_is_not_connected() -> None:
    device = Device("gong", "/nonexistent/tty", backoff=(60.0, 60.0))
    rec = Recorder()
    device.add_listener(rec)
    device.start()
    try:
        rec.wait(status_is("retrying"))
        forced = Gong(device).strike(force=True)
        assert forced is not None
        with pytest.raises(DeviceGone, match="not connected"):
            forced.result(1)
    finally:
        device.stop()


def test_a_reconnect_restores_the_desired_state_not_the_last_commands() -> None:
    map_emu = EmulatedDevice("map", replies={"tokyo down": "err unknown location"})
    map_emu.plug()
    device = Device("map", map_emu.port, ready_timeout=2.0)
    rec = Recorder()
    device.add_listener(rec)
    leds = Map(device)
    device.start()
    try:
        assert leds.set("sydney", "slow").result(5).ok
        assert not leds.set("tokyo", "down").result(5).ok  # the board refused it
        with pytest.raises(CommandError, match="unknown location 'atlantis'"):
            leds.set("atlantis", "up")  # not in the table the board told
        assert device.call("all up").ok  # a test from the keyboard, straight to the board
        assert leds.desired() == (None, {"sydney": "slow"})
        for opens in (2, 3):  # every reconnect, not only the first
            device.connect()
            rec.wait(status_is("connected"), count=opens)
            map_emu.wait_opens(opens)
            assert device.call("ping").ok  # the restore went out before it
    finally:
        device.stop()
        map_emu.close()
    restores = ["all off", "sydney slow"]
    assert map_emu.events == ["sydney slow", "all up", *restores, *restores]
    assert map_emu.received.count("tokyo down") == 1
    assert "atlantis up" not in map_emu.received


def test_the_map_tells_its_locations_and_names_it_lacks_are_never_sent(
    map_emu: EmulatedDevice,
) -> None:
    device = Device("map", map_emu.port, ready_timeout=2.0)
    device.start()
    try:
        assert device.call("ping").ok
        assert device.state.locations == frozenset(LOCATIONS)
        with pytest.raises(CommandError, match="unknown location 'atlantis'"):
            device.call("atlantis up")
    finally:
        device.stop()
    assert "atlantis up" not in map_emu.received


def test_a_state_that_did_not_get_through_goes_out_on_connect(map_emu: EmulatedDevice) -> None:
    device = Device("map", "/nonexistent/tty", backoff=(60.0, 60.0))
    rec = Recorder()
    device.add_listener(rec)
    leds = Map(device)
    device.start()
    try:
        rec.wait(status_is("retrying"))
        with pytest.raises(DeviceGone):
            leds.set("london", "down").result(5)
        assert leds.desired() == (None, {"london": "down"})
        device.connect(map_emu.port)
        rec.wait(status_is("connected"))
        assert device.call("ping").ok
    finally:
        device.stop()
    assert map_emu.events == ["all off", "london down"]


def test_the_simulated_map_shows_the_desired_state_after_a_reset() -> None:
    require_firmware()
    leds, colours = map_leds(), map_colours()
    rec = Recorder()
    with SimulatedDevice("map") as sim:
        device = Device("map", sim.port, ready_timeout=3.0)
        device.add_listener(rec)
        board = Map(device)
        device.start()
        try:
            assert board.set("sydney", "slow").result(10).ok
            assert device.call("all up", timeout=10).ok  # a keyboard test
            mark = sim.mark()
            device.connect()  # reopening resets the board, which blanks the map
            rec.wait(status_is("connected"), count=2)
            assert device.call("ping", timeout=10).ok
            frames = [e for e in sim.events.snapshot()[mark:] if e.startswith("ws2812")]
        finally:
            device.stop()
    expected = [colours["off"]] * len(leds)
    expected[leds["sydney"]] = colours["slow"]
    assert frame_colours(frames[-1]) == expected
