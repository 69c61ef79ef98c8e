"""Provides the serial line to the gong and the map: port discovery, the line protocol,
reconnects with backoff, and the ``Gong`` and ``Map`` drivers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from serial.tools import list_ports

from collectors.serial_link.devices import CommandAbandoned, Device, DeviceState, Listener
from collectors.serial_link.drivers import STRIKE_WAIT, Gong, Map
from collectors.serial_link.link import (
    BAUD,
    DeviceGone,
    DeviceTimeout,
    LineEvent,
    PortInfo,
    Reply,
    SerialLink,
    SerialLinkError,
)
from collectors.serial_link.protocol import (
    ALL_STATUSES,
    MAP_STATUSES,
    MAX_LINE,
    CommandError,
    all_command,
    answers,
    check_command,
    check_line,
    map_command,
)

__all__ = [
    "ALL_STATUSES",
    "BAUD",
    "MAP_STATUSES",
    "MAX_LINE",
    "PROBE_TIMEOUT",
    "STRIKE_WAIT",
    "CommandAbandoned",
    "CommandError",
    "Device",
    "DeviceGone",
    "DeviceState",
    "DeviceTimeout",
    "Gong",
    "LineEvent",
    "Listener",
    "Map",
    "PortInfo",
    "Reply",
    "SerialLink",
    "SerialLinkError",
    "all_command",
    "answers",
    "check_command",
    "check_line",
    "discover",
    "identify",
    "list_port_paths",
    "map_command",
]


def list_port_paths(extra: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Return ``(path, description)`` of every serial port found, plus ``extra`` paths."""
    found = [(p.device, p.description or "") for p in list_ports.comports()]
    seen = {os.path.realpath(path) for path, _ in found}
    for path in extra:
        if path and os.path.realpath(path) not in seen:
            seen.add(os.path.realpath(path))
            found.append((path, "given"))
    return found


PROBE_TIMEOUT = 2.0
"""Seconds ``discover`` gives all the ports together: long enough for a board that resets on
open to boot and answer, short enough that a silent port never holds up the list."""


def identify(
    port: str, baud: int = BAUD, ready_timeout: float | None = None, timeout: float | None = None
) -> PortInfo:
    """Open ``port``, ask ``ping``, close it, and say which firmware answered.

    Args:
        port: the port's path.
        baud: line speed.
        ready_timeout: seconds to wait for the board's ``ready`` (None: by port kind).
        timeout: seconds for the whole probe (None: the ready wait, then each ping's own).
    """
    link = SerialLink(port, baud, reply_timeout=1.0, ready_timeout=ready_timeout)
    try:
        link.open(timeout)
    except SerialLinkError as exc:
        return PortInfo(port, error=exc.reason)
    link.close()
    return PortInfo(port, kind=link.kind, version=link.version)


def discover(
    extra: Iterable[str] = (),
    baud: int = BAUD,
    skip: Iterable[str] = (),
    timeout: float = PROBE_TIMEOUT,
    on_port: Callable[[PortInfo], None] | None = None,
) -> list[PortInfo]:
    """Identify the firmware on every port at once; all within ``timeout`` seconds.

    Args:
        extra: paths to probe besides those found (ptys are never listed by the system).
        baud: line speed.
        skip: ports not to open (already in use by us); listed with the error ``in use``.
        timeout: seconds for the whole scan: every port is probed at the same time.
        on_port: told of each port's answer as soon as it comes (from the probing thread).
    """
    ports = list_port_paths(extra)
    busy = {os.path.realpath(p) for p in skip}
    todo = [p for p, _ in ports if os.path.realpath(p) not in busy]
    descriptions = dict(ports)

    def probe(port: str) -> PortInfo:
        info = replace(identify(port, baud, timeout=timeout), description=descriptions[port])
        if on_port is not None:
            on_port(info)
        return info

    with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
        probed = dict(zip(todo, pool.map(probe, todo), strict=True))
    return [
        probed.get(path) or PortInfo(path, description=desc, error="in use") for path, desc in ports
    ]
