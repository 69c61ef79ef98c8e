"""Provides ``gongwatch ports`` and ``gongwatch send``: the devices from the command line."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from collectors.base import printable
from collectors.serial_link import (
    BAUD,
    MAP_STATUSES,
    PROBE_TIMEOUT,
    CommandError,
    LineEvent,
    Reply,
    SerialLink,
    SerialLinkError,
    check_command,
    discover,
)
from engine.config import Config


def configured_ports(config: Config) -> list[str]:
    """Return the ports the configuration names for the gong and the map."""
    return [d.port for d in (config.gong, config.map) if d.port]


def baud_for(config: Config, port: str) -> int:
    """Return the baud rate configured for ``port``, or the protocol's default."""
    for device in (config.gong, config.map):
        if device.port and os.path.realpath(device.port) == os.path.realpath(port):
            return device.baud
    return BAUD


def cmd_ports(
    config: Config,
    extra: Sequence[str] = (),
    baud: int | None = None,
    out: TextIO | None = None,
    timeout: float | None = None,
) -> int:
    """List the serial ports, and which firmware answers ``ping`` on each.

    Args:
        config: its device ports are probed too (a pty is never listed by the system).
        extra: more paths to probe.
        baud: line speed; None for the configured or default one.
        out: where to print (stdout).
        timeout: seconds for the whole scan (None: ``PROBE_TIMEOUT``); every port is probed
            at the same time.
    """
    out = out or sys.stdout
    found = discover(
        [*configured_ports(config), *extra], baud or BAUD, timeout=timeout or PROBE_TIMEOUT
    )
    if not found:
        out.write("no serial ports found\n")
        return 0
    width = max(len(p.port) for p in found)
    for info in found:
        device = f"{info.kind} {info.version}" if info.kind else "-"
        note = info.description if info.kind else info.error or ""
        line = f"{info.port:<{width}}  {device:<10}  {note}".rstrip()
        out.write(printable(line) + "\n")  # descriptions come from the USB device itself
    return 0


def cmd_send(
    config: Config,
    port: str,
    line: str,
    *,
    baud: int | None = None,
    timeout: float = 2.0,
    verbose: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Send one command to the device on ``port`` and print its reply.

    Args:
        timeout: seconds for all of it: opening the port, the board's reset, the reply.

    Returns:
        0 when the device answered ``ok``/``pong``; 1 on ``err``, a timeout or a lost port
        (the reason goes to ``err``); 2 when the line is not a valid command for the board
        that answers on ``port`` (the command is not sent). Every error names the port.
    """
    out, err = out or sys.stdout, err or sys.stderr
    try:
        text = check_command(line)
    except CommandError as exc:
        err.write(printable(f"gongwatch: {port}: not sent: {exc}") + "\n")
        return 2

    def trace(event: LineEvent) -> None:
        latency = f" ({event.latency * 1000:.0f} ms)" if event.latency is not None else ""
        err.write(printable(f"{event.kind:>8}: {event.text}{latency}") + "\n")

    link = SerialLink(
        port, baud or baud_for(config, port), reply_timeout=timeout,
        on_line=trace if verbose else None,
    )  # fmt: skip
    try:
        reply = _exchange(link, text, timeout)
    except CommandError as exc:
        err.write(printable(f"gongwatch: {port}: not sent: {exc}") + "\n")
        return 2
    except SerialLinkError as exc:
        err.write(printable(f"gongwatch: {exc}") + "\n")
        return 1
    finally:
        link.close()
    out.write(printable(reply.line) + "\n")
    if not reply.ok:
        reason = reply.line.removeprefix("err").strip() or "error"
        err.write(printable(f"gongwatch: {port}: {reason}") + "\n")
        return 1
    return 0


def _exchange(link: SerialLink, text: str, timeout: float) -> Reply:
    """Open the link, check ``text`` against the board that answers, and send it, all within
    ``timeout`` seconds.

    Raises:
        CommandError: the board would not take it (another firmware, a location it lacks).
        SerialLinkError: the board did not answer in time, or the port failed.
    """
    end = time.monotonic() + timeout
    link.open(timeout)
    words = text.split()
    sets_a_location = len(words) == 2 and words[0] != "all" and words[1] in MAP_STATUSES
    known = link.read_locations() if link.kind == "map" and sets_a_location else None
    command = check_command(text, link.kind, known)
    return link.command(command, max(0.05, end - time.monotonic()))
