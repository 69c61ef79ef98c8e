"""Provides the serial line to the gong and the map: port discovery, the line protocol,
reconnects with backoff, and the ``Gong`` and ``Map`` drivers."""

from __future__ import annotations

import os
from collections.abc import Iterable
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


def identify(port: str, baud: int = BAUD, ready_timeout: float | None = None) -> PortInfo:
    """Open ``port``, ask ``ping``, close it, and say which firmware answered."""
    link = SerialLink(port, baud, reply_timeout=1.0, ready_timeout=ready_timeout)
    try:
        link.open()
    except SerialLinkError as exc:
        return PortInfo(port, error=str(exc))
    link.close()
    return PortInfo(port, kind=link.kind, version=link.version)


def discover(
    extra: Iterable[str] = (), baud: int = BAUD, skip: Iterable[str] = ()
) -> list[PortInfo]:
    """Identify the firmware on every port at once (each probe may wait for a board's reset).

    Args:
        extra: paths to probe besides those found (ptys are never listed by the system).
        baud: line speed.
        skip: ports not to open (already in use by us); listed with the error ``in use``.
    """
    ports = list_port_paths(extra)
    busy = {os.path.realpath(p) for p in skip}
    todo = [p for p, _ in ports if os.path.realpath(p) not in busy]
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(todo)))) as pool:
        probed = dict(zip(todo, pool.map(lambda p: identify(p, baud), todo), strict=True))
    return [
        replace(probed.get(path) or PortInfo(path, error="in use"), description=desc)
        for path, desc in ports
    ]
