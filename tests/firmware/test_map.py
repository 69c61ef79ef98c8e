"""The map firmware in the simulator: protocol replies and the WS2812 frames on the wire."""

from __future__ import annotations

import time

import pytest

from tests.firmware.conftest import Board
from tests.firmware.simdevice import frame_colours, map_colours, map_leds

LOCATIONS = (
    "sydney",
    "london",
    "newyork",
    "sanfrancisco",
    "tokyo",
    "singapore",
    "frankfurt",
    "saopaulo",
    "amsterdam",
    "dallas",
)
"""Locations every map must know."""

LEDS = map_leds()
COLOURS = map_colours()
DARK = COLOURS["off"]


def frame_after(board: Board, command: str, reply: str) -> list[str]:
    """Send a command, check its reply, and return the frame the LEDs latched after it."""
    mark = board.device.mark()
    assert board.console.command(command) == reply
    return frame_colours(board.device.wait_event("ws2812", since=mark))


def test_location_table() -> None:
    assert set(LOCATIONS) <= set(LEDS)
    assert sorted(LEDS.values()) == list(range(len(LEDS))), "one LED a location, no gaps"
    assert set(COLOURS) == {"up", "slow", "down", "off"}
    red, green, _ = (int(COLOURS["down"][i : i + 2], 16) for i in (0, 2, 4))
    assert red > 0 and green == 0


def test_ping(map_board: Board) -> None:
    assert map_board.console.command("ping") == "pong map 1.0"


def test_starts_dark(map_board: Board) -> None:
    frame = frame_colours(map_board.device.wait_event("ws2812"))
    assert frame == [DARK] * len(LEDS)


def test_location_down_paints_its_led_red(map_board: Board) -> None:
    frame = frame_after(map_board, "sydney down", "ok sydney down")
    expected = [DARK] * len(LEDS)
    expected[LEDS["sydney"]] = COLOURS["down"]
    assert frame == expected


@pytest.mark.parametrize("status", ["up", "slow", "down", "off"])
def test_all_paints_every_led(map_board: Board, status: str) -> None:
    frame = frame_after(map_board, f"all {status}", f"ok all {status}")
    assert frame == [COLOURS[status]] * len(LEDS)


def test_locations_keep_their_colours(map_board: Board) -> None:
    frame_after(map_board, "all up", "ok all up")
    frame_after(map_board, "London slow", "ok london slow")
    frame = frame_after(map_board, "tokyo down", "ok tokyo down")
    expected = [COLOURS["up"]] * len(LEDS)
    expected[LEDS["london"]] = COLOURS["slow"]
    expected[LEDS["tokyo"]] = COLOURS["down"]
    assert frame == expected


def test_every_location_reaches_its_own_led(map_board: Board) -> None:
    for name, led in LEDS.items():
        frame = frame_after(map_board, f"{name} up", f"ok {name} up")
        assert frame[led] == COLOURS["up"], name
        frame = frame_after(map_board, f"{name} off", f"ok {name} off")
        assert frame == [DARK] * len(LEDS), name


def test_errors_change_nothing(map_board: Board) -> None:
    board = map_board
    board.device.wait_event("ws2812")
    mark = board.device.mark()
    console = board.console
    assert console.command("atlantis up") == "err unknown location"
    assert console.command("sydney purple") == "err bad status"
    assert console.command("all purple") == "err bad status"
    assert console.command("sydney") == "err bad arguments"
    assert console.command("sydney down now") == "err bad arguments"
    assert console.command("all") == "err bad arguments"
    assert console.command("gong") == "err unknown command"
    assert console.command("sydney " + "d" * 40) == "err too long"
    time.sleep(0.1)
    assert not any(e.startswith("ws2812") for e in board.device.events.snapshot()[mark:])


def test_exactly_one_reply_per_command(map_board: Board) -> None:
    console = map_board.console
    console.send("sydney down\nall up\r\n\nnowhere up\n" + "z" * 60 + "\nping\n")
    assert console.drain() == [
        "ok sydney down",
        "ok all up",
        "err unknown location",
        "err too long",
        "pong map 1.0",
    ]


def test_ws2812_timing_is_within_the_datasheet(map_board: Board) -> None:
    frame_after(map_board, "all slow", "ok all slow")
    frame_after(map_board, "dallas down", "ok dallas down")
    assert not [e for e in map_board.device.events if e.startswith("timing-error")]


def test_the_board_tells_its_location_table(map_board: Board) -> None:
    console = map_board.console
    assert console.command("locations") == f"ok {len(LEDS)}"
    names = [console.command(f"location {i}").split() for i in range(len(LEDS))]
    assert [words[:2] for words in names] == [["ok", str(i)] for i in range(len(LEDS))]
    assert {words[2]: i for i, words in enumerate(names)} == LEDS
    assert console.command(f"location {len(LEDS)}") == "err unknown location"
    assert console.command("location 01") == "err unknown location"
    assert console.command("location") == "err bad arguments"
    assert console.command("locations 2") == "err bad arguments"
