"""Provides the reading of Server Density JSON: the services of the inventory and the state of
each location from a ``last`` row, where a malformed value costs its own entry only.

JSON allows what Python's parser accepts and no sane API sends: ``NaN``, ``Infinity`` and
integers of a thousand digits. Every number goes through ``finite`` before it is used, so one
such value makes its location unknown, with the reason, and never stops the rest of the poll.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from collectors.locations import slug
from collectors.remote import LocationResult, State

DEFAULT_SLOW = 0.4
"""Slow threshold in seconds of a service that does not say its own."""


class ApiError(Exception):
    """One call of the API failed; the message is a stable, secret-free line."""


@dataclass(frozen=True, slots=True)
class Service:
    """One monitored service, as the inventory describes it."""

    id: str
    name: str
    key: str
    """Metric-key-safe name."""
    slow: float
    """Slow threshold in seconds."""
    locations: tuple[str, ...] = ()
    """The node ids it is checked from (``checkLocations``), for naming its locations before
    any result came."""


def finite(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None for anything else (text, bool, NaN,
    infinities, integers too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def shown(value: Any) -> str:
    """Return a short, printable form of a JSON value for an error line."""
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def parse_services(data: Any) -> tuple[list[Service], list[str]]:
    """Return the services of an inventory answer, and one line per entry that is unusable.

    Raises:
        ApiError: the answer is not a list at all.
    """
    if not isinstance(data, list):
        raise ApiError("services: unexpected JSON (not a list)")
    services: list[Service] = []
    problems: list[str] = []
    for item in data:
        ident = item.get("_id") if isinstance(item, dict) else None
        if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
            problems.append("services: unexpected JSON (an entry without _id)")
            continue
        name = item.get("name")
        name = name if isinstance(name, str) and name.strip() else str(ident)
        slow, problem = _slow_threshold(name, item.get("slowThreshold"))
        if problem:
            problems.append(problem)
        places = item.get("checkLocations")
        nodes = (
            tuple(str(p) for p in places if isinstance(p, str | int))
            if isinstance(places, list)
            else ()
        )
        services.append(Service(str(ident), name, slug(name), slow, nodes))
    return services, list(dict.fromkeys(problems))


def _slow_threshold(name: str, value: Any) -> tuple[float, str | None]:
    """Return the slow threshold in seconds from ``slowThreshold`` (ms), and what was wrong."""
    if value is None:
        return DEFAULT_SLOW, None
    ms = finite(value)
    if ms is None or ms <= 0:
        return DEFAULT_SLOW, (
            f"service {name!r}: slowThreshold {shown(value)} is not a positive number of "
            f"milliseconds; using {DEFAULT_SLOW * 1000:g} ms"
        )
    return ms / 1000.0, None


def parse_nodes(data: Any) -> dict[str, str]:
    """Return node id to name from a ``nodes`` answer (entries without both are skipped).

    Raises:
        ApiError: the answer is not a list.
    """
    if not isinstance(data, list):
        raise ApiError("nodes: unexpected JSON (not a list)")
    return {
        str(n["id"]): n["name"]
        for n in data
        if isinstance(n, dict)
        and isinstance(n.get("id"), str | int)
        and not isinstance(n.get("id"), bool)
        and isinstance(n.get("name"), str)
        and n["name"].strip()
    }


def judge(service: Service, location: str, label: str, row: dict[str, Any]) -> LocationResult:
    """Decide up, slow, down or unknown from one ``last`` row: down as the API says, slow by
    threshold; a value that is not what it should be makes the location unknown, with why."""

    def unknown(why: str, seconds: float | None = None, code: int | None = None) -> LocationResult:
        return LocationResult(
            service.key, location, State.UNKNOWN, seconds, service.slow, code, why, label
        )

    raw_time, raw_code, raw_status = row.get("time"), row.get("code"), row.get("status")
    seconds = finite(raw_time)
    if raw_time is not None and (seconds is None or seconds < 0):
        return unknown(f"time {shown(raw_time)} is not a number of seconds")
    code = _status_code(raw_code)
    if raw_code is not None and code is None:
        return unknown(f"HTTP code {shown(raw_code)} is not a status code", seconds)
    if not isinstance(raw_status, str):
        return unknown(f"status {shown(raw_status)} is not text", seconds, code)
    status = raw_status.lower()
    if status == "down":
        why = f"down from {label}" + (f" (HTTP {code})" if code else "")
        return LocationResult(
            service.key, location, State.DOWN, seconds, service.slow, code, why, label
        )
    if status not in ("up", "slow"):
        return unknown(f"unknown status {status[:20]!r}", seconds, code)
    slow = status == "slow" or (seconds is not None and seconds > service.slow)
    state = State.SLOW if slow else State.UP
    return LocationResult(service.key, location, state, seconds, service.slow, code, None, label)


def _status_code(value: Any) -> int | None:
    """Return an HTTP status code (0, for no answer, up to 999), or None when it is not one."""
    number = finite(value)
    if number is None or not number.is_integer() or not 0 <= number <= 999:
        return None
    return int(number)
