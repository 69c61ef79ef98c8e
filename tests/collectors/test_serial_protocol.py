"""Tests the protocol's grammar: the command validator, and which reply answers which command,
by example, by a bounded fuzz of the reply parser, and against the emulator on a pty."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.serial_link import CommandError, DeviceTimeout, SerialLink, answers, check_command
from collectors.serial_link.protocol import MAP_STATUSES, clean_reply, is_reply, parse_pong
from tests.emulator import LOCATIONS, EmulatedDevice

COMMANDS = ["ping", "gong", "all up", "london slow", "sydney off"]


@pytest.mark.parametrize(
    ("line", "kind", "why"),
    [
        ("london upp", "map", "bad status 'upp'"),
        ("London up", "map", "bad location name 'London'"),
        ("LONDON up", None, "bad location name 'LONDON'"),
        ("sydney down all off", "map", "one command a line"),
        ("new york up", "map", "a location name has no spaces: 'new york'"),
        ("all purple", "map", "bad status 'purple'"),
        ("all", "map", "use 'all <status>'"),
        ("london", "map", "unknown command 'london'"),
        ("ping now", None, "ping takes no arguments"),
        ("gong gong", "gong", "gong takes no arguments"),
        ("gong", "map", "the map has no 'gong' command"),
        ("london up", "gong", "the gong knows only 'gong' and 'ping'"),
        ("london\nup", None, "line break"),
        ("café up", "map", "printable ASCII"),
    ],
)
def test_the_validator_refuses_what_the_protocol_does_not_have(
    line: str, kind: str | None, why: str
) -> None:
    with pytest.raises(CommandError, match=why):
        check_command(line, kind)


def test_the_validator_accepts_the_protocol() -> None:
    assert check_command("ping", "gong") == "ping"
    assert check_command(" gong ", "gong") == "gong"
    assert check_command("london  slow", "map") == "london slow"
    assert check_command("all off") == "all off"
    assert check_command("new_york-2 down", "map") == "new_york-2 down"
    assert check_command("locations", "map") == "locations"
    assert check_command("location 3", "map") == "location 3"


def test_the_validator_knows_the_boards_locations_once_told() -> None:
    assert check_command("london up", "map", LOCATIONS) == "london up"
    with pytest.raises(CommandError, match="unknown location 'atlantis'"):
        check_command("atlantis up", "map", LOCATIONS)


@pytest.mark.parametrize(
    ("command", "line", "ok"),
    [
        ("gong", "ok gong", True),
        ("gong", "err cooldown", True),
        ("gong", "pong gonk 9", False),
        ("gong", "pong gong 1.0", False),
        ("gong", "ok all up", False),  # a late reply to another command
        ("gong", "ok", False),
        ("gong", "err", False),
        ("gong", "ready", False),
        ("ping", "pong map 1.0", True),
        ("ping", "pong gonk 9", False),
        ("ping", "pong map", False),
        ("ping", "pong map 1.0 extra", False),
        ("ping", "ok gong", False),
        ("london slow", "ok london slow", True),
        ("london slow", "ok london down", False),
        ("london slow", "err unknown location", True),
        ("all up", "ok all up", True),
        ("locations", "ok 16", True),
        ("locations", "ok sixteen", False),
        ("location 3", "ok 3 chicago", True),
        ("location 3", "ok 4 toronto", False),
    ],
)
def test_a_reply_answers_only_the_command_it_belongs_to(command: str, line: str, ok: bool) -> None:
    assert answers(command, line) is ok


def test_junk_in_front_of_a_reply_is_dropped() -> None:
    assert clean_reply("\ufffd\x13ok gong") == "ok gong"
    assert clean_reply("#~pong map 1.0") == "pong map 1.0"
    assert clean_reply("took gong") == "took gong"  # not a reply glued to junk
    assert parse_pong("pong gong 1.0") == ("gong", "1.0")
    assert parse_pong("pong gonk 9") is None


WORDS = st.sampled_from(["ok", "err", "pong", "ready", "gong", "map", "gonk", "1.0", "9", "up"])
LINES = st.one_of(
    st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=60),
    st.lists(WORDS, max_size=5).map(" ".join),
)


@settings(max_examples=400, deadline=None)
@given(command=st.sampled_from(COMMANDS), line=LINES)
def test_fuzz_the_reply_parser(command: str, line: str) -> None:
    accepted = answers(command, line)
    if not accepted:
        return
    assert is_reply(line) and line == line.strip() and line.isascii()
    head, *rest = line.split(" ")
    if command == "ping":
        assert head == "err" or parse_pong(line) is not None
    else:
        assert head in ("ok", "err") and (head == "ok" or rest)
    if head == "ok" and command != "ping":
        assert line == f"ok {command}"


@settings(max_examples=200, deadline=None)
@given(
    location=st.sampled_from(LOCATIONS),
    status=st.sampled_from(MAP_STATUSES),
    junk=st.binary(max_size=8).map(lambda b: b.decode("latin-1")),
)
def test_fuzz_the_reply_parser_finds_a_reply_behind_junk(
    location: str, status: str, junk: str
) -> None:
    reply = clean_reply(junk + "\x00" + f"ok {location} {status}")
    assert answers(f"{location} {status}", reply)


def test_a_wrong_reply_from_the_board_is_not_taken_for_the_answer() -> None:
    with EmulatedDevice("gong", replies={"gong": "pong gonk 9"}) as emu:
        link = SerialLink(emu.port, reply_timeout=0.3, ready_timeout=2.0)
        link.open()
        try:
            with pytest.raises(DeviceTimeout, match="no reply to 'gong'"):
                link.command("gong")
        finally:
            link.close()
