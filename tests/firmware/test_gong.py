"""The gong firmware in the simulator: protocol replies, servo pulses, cooldown."""

from __future__ import annotations

import time

from tests.firmware.conftest import Board, Console
from tests.firmware.simdevice import event_time, event_words

STRIKE_MS = 150
"""How long the sketch drives the beater at the gong (kStrikeMs in gong.ino)."""
COOLDOWN_S = 2.0
"""Shortest time between strikes (kCooldownMs in gong.ino)."""


def servo_width(line: str) -> int:
    words = event_words(line)
    assert words[0] == "servo"
    return int(words[1])


def test_ping(gong: Board) -> None:
    assert gong.console.command("ping") == "pong gong 1.0"


def test_servo_rests_clear_at_50_hz(gong: Board) -> None:
    assert servo_width(gong.device.wait_event("servo")) == 1000
    gong.device.wait_event("pulse-period 20000")


def test_strike_swings_to_the_gong_and_back_clear(gong: Board) -> None:
    device = gong.device
    device.wait_event("servo 1000")
    mark = device.mark()
    assert gong.console.command("gong") == "ok gong"
    struck = device.wait_event("servo 2000", since=mark)
    cleared = device.wait_event("servo 1000", since=mark)
    assert event_time(cleared) > event_time(struck)
    # The beater is pulled back after kStrikeMs, at the next 20 ms servo period.
    held = event_time(cleared) - event_time(struck)
    assert STRIKE_MS / 1000 - 0.02 <= held <= STRIKE_MS / 1000 + 0.04, held
    time.sleep(0.2)
    widths = [servo_width(e) for e in device.events.snapshot()[mark:] if e.startswith("servo ")]
    assert widths == [2000, 1000], "one swing only: the gong rings once"
    assert not [e for e in device.events.snapshot() if e.startswith("pulse-period")][1:], (
        "the servo period stays at 20 ms through a strike"
    )


def test_strike_in_cooldown_is_refused(gong: Board) -> None:
    device = gong.device
    assert gong.console.command("gong") == "ok gong"
    device.wait_event("servo 2000")
    mark = device.mark()
    assert gong.console.command("gong") == "err cooldown"
    assert gong.console.command("GONG") == "err cooldown"
    time.sleep(0.3)
    assert not any(e.startswith("servo 2000") for e in device.events.snapshot()[mark:])
    # After the cooldown the gong strikes again.
    time.sleep(COOLDOWN_S)
    mark = device.mark()
    assert gong.console.command("gong") == "ok gong"
    device.wait_event("servo 2000", since=mark)


def test_errors(gong: Board) -> None:
    console = gong.console
    assert console.command("bell") == "err unknown command"
    assert console.command("sydney down") == "err unknown command"
    assert console.command("gong twice") == "err bad arguments"
    assert console.command("ping me") == "err bad arguments"
    assert console.command("g" * 41) == "err too long"
    assert console.command("gong " + "x" * 200) == "err too long"
    assert console.command("ping") == "pong gong 1.0"


def test_exactly_one_reply_per_command(gong: Board) -> None:
    console = gong.console
    burst = "ping\r\nbell\n\n" + "x" * 100 + "\ngong\ngong\n   \nping\n"
    console.send(burst)
    assert console.drain() == [
        "pong gong 1.0",
        "err unknown command",
        "err too long",
        "ok gong",
        "err cooldown",
        "pong gong 1.0",
    ]


def test_reopening_the_port_resets_the_board(gong: Board) -> None:
    device = gong.device
    assert gong.console.command("gong") == "ok gong"
    gong.console.close()
    mark = device.mark()
    console = Console(device.port)
    try:
        console.wait_ready()
        device.wait_event("reset", since=mark)
        # A fresh board has no cooldown to honour.
        assert console.command("gong") == "ok gong"
    finally:
        console.close()
