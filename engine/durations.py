"""Provides the parser of durations as the configuration and the CLI write them (``90s``)."""

from __future__ import annotations

import re

UNITS: dict[str, float] = {
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
    "y": 365 * 86400.0,
}
"""Seconds in each unit. A year is 365 days: retention needs no calendar."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([smhdwy]?)\s*$")


def parse_duration(text: str | float) -> float:
    """Return the number of seconds a duration stands for.

    Args:
        text: ``90s``, ``10m``, ``2h``, ``7d``, ``2w``, ``2y`` or ``1.5h``; a bare number (or an
            int or float, as TOML gives them) counts seconds.

    Returns:
        The duration in seconds, never negative.

    Raises:
        ValueError: the text is not a duration; the message quotes it and shows the forms.
    """
    if isinstance(text, bool):
        raise ValueError(f"not a duration: {text!r} (write 90s, 10m, 2h, 7d or 2y)")
    if isinstance(text, int | float):
        if text < 0 or text != text:
            raise ValueError(f"not a duration: {text!r} (must be a positive number of seconds)")
        return float(text)
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (write 90s, 10m, 2h, 7d or 2y)")
    number, unit = match.groups()
    return float(number) * UNITS[unit or "s"]


def format_duration(seconds: float) -> str:
    """Write seconds as the largest unit that divides them exactly (``7200`` gives ``2h``)."""
    for unit in ("y", "w", "d", "h", "m"):
        size = UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
