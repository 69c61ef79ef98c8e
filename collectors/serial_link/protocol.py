"""Provides the grammar of the serial protocol in one place: which lines are commands the boards
take, and which reply lines answer which command (see the README's *The protocol*)."""

from __future__ import annotations

import re
from collections.abc import Collection

KINDS = ("gong", "map")
"""The firmwares that answer ``ping``."""
MAX_LINE = 40
"""Longest command the firmware accepts, in characters, without the newline."""
MAP_STATUSES = ("up", "slow", "down", "off")
"""What a map location can show: green, orange, red, or nothing."""
ALL_STATUSES = MAP_STATUSES
"""What ``all`` can set every location to."""

_LOCATION = re.compile(r"[a-z0-9_-]+")
_WORD = r"[!-~]+"
_VERSION = r"[0-9]+(?:\.[0-9]+)*"
_REPLY_BODY = rf"ready|ok(?: {_WORD})*|err(?: {_WORD})+|pong (?:gong|map) {_VERSION}"
_REPLY = re.compile(_REPLY_BODY)
# A reply at the end of a line, after junk a reset or a loose cable left in front of it; a
# letter right before it means it is part of a longer word, not a reply.
_REPLY_AT_END = re.compile(rf"(?<![A-Za-z])(?:{_REPLY_BODY})$")
_PONG = re.compile(rf"pong (gong|map) ({_VERSION})")


class CommandError(ValueError):
    """A command that must not be sent (bad location, status or characters); nothing was sent."""


# -- commands -----------------------------------------------------------------------------------


def check_line(line: str) -> str:
    """Return a raw line ready to send, or raise ``CommandError`` saying what is wrong.

    This only checks what can travel as one line; ``check_command`` checks the protocol.
    """
    if "\n" in line or "\r" in line:
        raise CommandError("a command is one line: it must not contain a line break")
    text = line.strip()
    if not text:
        raise CommandError("empty command")
    if not all(" " <= c <= "~" for c in text):
        raise CommandError("only printable ASCII characters can be sent")
    if len(text) > MAX_LINE:
        raise CommandError(f"command longer than {MAX_LINE} characters")
    return text


def _location(name: str, known: Collection[str] | None) -> str:
    if not isinstance(name, str) or not _LOCATION.fullmatch(name):
        raise CommandError(f"bad location name {name!r}: use a-z, 0-9, '_' and '-' only")
    if name == "all":
        raise CommandError("'all' is not a location name; use Map.all()")
    if known is not None and name not in known:
        raise CommandError(f"unknown location {name!r}: the map knows {', '.join(sorted(known))}")
    return name


def _status(status: str, allowed: tuple[str, ...] = MAP_STATUSES) -> str:
    if status not in allowed:
        raise CommandError(f"bad status {status!r}: {', '.join(allowed)}")
    return status


def map_command(location: str, status: str, known: Collection[str] | None = None) -> str:
    """Return the command that sets one map location; raise ``CommandError`` if invalid.

    Args:
        location: the LED's name.
        status: ``up``, ``slow``, ``down`` or ``off``.
        known: the board's location names, when it told them; None accepts any valid name.
    """
    return check_line(f"{_location(location, known)} {_status(status)}")


def all_command(status: str) -> str:
    """Return the command that sets every map location; raise ``CommandError`` if invalid."""
    return f"all {_status(status, ALL_STATUSES)}"


def check_command(
    line: str, kind: str | None = None, locations: Collection[str] | None = None
) -> str:
    """Return ``line`` as a command of the protocol, ready to send; else raise ``CommandError``.

    The one check every command goes through before it is written to a port.

    Args:
        line: what the user or the monitor wants to send.
        kind: the firmware it goes to (``gong``, ``map``); None accepts a command of either.
        locations: the map's location names, when the board told them.
    """
    words = check_line(line).split()
    head, count = words[0], len(words)
    if head == "ping":
        return _exact(words, 1, "ping takes no arguments")
    if head == "gong":
        _for(kind, "gong", head)
        return _exact(words, 1, "gong takes no arguments")
    if kind == "gong":
        raise CommandError(f"the gong knows only 'gong' and 'ping', not {head!r}")
    # The map's own commands: set LEDs, and tell its location table.
    if head == "all":
        _exact(words, 2, "use 'all <status>'")
        return all_command(words[1])
    if head == "locations":
        return _exact(words, 1, "locations takes no arguments")
    if head == "location" and count == 2 and words[1].isdigit():
        return " ".join(words)
    if count == 1:
        raise CommandError(f"unknown command {head!r}")
    if count > 2:
        if any(w in MAP_STATUSES for w in words[:-1]) or words[-1] not in MAP_STATUSES:
            raise CommandError(f"one command a line: use '<location> <status>', not {line!r}")
        raise CommandError(f"a location name has no spaces: {' '.join(words[:-1])!r}")
    return map_command(words[0], words[1], locations)


def _exact(words: list[str], count: int, why: str) -> str:
    if len(words) != count:
        raise CommandError(why)
    return " ".join(words)


def _for(kind: str | None, wanted: str, head: str) -> None:
    if kind is not None and kind != wanted:
        raise CommandError(f"the {kind} has no {head!r} command")


# -- replies ------------------------------------------------------------------------------------


def clean_reply(text: str) -> str:
    """Return a received line with junk in front of its reply dropped; else the line as is."""
    m = _REPLY_AT_END.search(text)
    return m.group(0) if m else text


def is_reply(line: str) -> bool:
    """Whether ``line`` is a well-formed line from a board (a reply, or ``ready``)."""
    return _REPLY.fullmatch(line) is not None


def parse_pong(line: str) -> tuple[str, str] | None:
    """Return ``(kind, version)`` of a well-formed answer to ``ping``; else None."""
    m = _PONG.fullmatch(line)
    return (m.group(1), m.group(2)) if m else None


def parse_count(line: str) -> int | None:
    """Return the number in the answer to ``locations`` (``ok 16``); else None."""
    m = re.fullmatch(r"ok ([0-9]{1,3})", line)
    return int(m.group(1)) if m else None


def parse_location(index: int, line: str) -> str | None:
    """Return the name in the answer to ``location <index>`` (``ok 3 chicago``); else None."""
    m = re.fullmatch(rf"ok {index} ([a-z0-9_-]+)", line)
    return m.group(1) if m else None


def answers(command: str, line: str) -> bool:
    """Whether ``line`` is a well-formed reply to ``command``, the one command sent.

    ``ping`` takes ``pong <gong|map> <version>``; every command may take ``err <reason>``; the
    gong's and the map's commands take ``ok`` followed by the command itself (the firmware
    echoes it, in lowercase), any other command ``ok ...``.
    """
    if line == "ready" or not is_reply(line):
        return False
    head = line.split(" ", 1)[0]
    words = command.lower().split()
    if head == "err":
        return True
    if words == ["ping"]:
        return head == "pong"
    if head != "ok":
        return False
    if words == ["gong"] or (len(words) == 2 and words[1] in MAP_STATUSES):
        return line == "ok " + " ".join(words)
    if words == ["locations"]:
        return parse_count(line) is not None
    if len(words) == 2 and words[0] == "location" and words[1].isdigit():
        return parse_location(int(words[1]), line) is not None
    return True
