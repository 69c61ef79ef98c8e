"""Provides the formatting of values, units, durations and times for the screen."""

from __future__ import annotations

import math

_BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi")


def human_bytes(value: float, suffix: str = "B") -> str:
    """Return ``value`` bytes with a binary prefix: ``1.5 GiB``."""
    v = float(value)
    for prefix in _BINARY:
        if abs(v) < 1024 or prefix == _BINARY[-1]:
            return f"{v:.0f} {prefix}{suffix}" if not prefix else f"{v:.1f} {prefix}{suffix}"
        v /= 1024
    return f"{v:.1f} {suffix}"  # unreachable; keeps type checkers content


def duration(seconds: float) -> str:
    """Return a duration as ``3d 04:05`` / ``04:05:06`` / ``5.2 s`` / ``42 ms``."""
    s = float(seconds)
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.1f} s"
    days, rest = divmod(int(s), 86400)
    h, rest = divmod(rest, 3600)
    m, sec = divmod(rest, 60)
    return f"{days}d {h:02d}:{m:02d}" if days else f"{h:02d}:{m:02d}:{sec:02d}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """Return ``1 disk`` / ``3 disks`` (``many`` for irregular plurals)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def age_hours(hours: float) -> str:
    """Return a count of hours as a person reads it: ``30 h``, ``252 h (10 days)``,
    ``26,298 h (3.0 years)``."""
    h = float(hours)
    if h < 48:
        return f"{h:,.0f} h"
    days = h / 24
    if days < 365:
        return f"{h:,.0f} h ({days:,.0f} days)"
    return f"{h:,.0f} h ({h / 8766:.1f} years)"


def number(value: float) -> str:
    """Return a number with about three significant digits, never in scientific notation."""
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    if a >= 1e6:
        return f"{v:,.0f}"
    if a >= 100 or v == int(v):
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}" if a < 1 else f"{v:.1f}"


def value(value: float | None, unit: str, text: str | None = None) -> str:
    """Return a reading's value with its unit, the way the panes show it."""
    if value is None or not math.isfinite(value):
        return text or "-"
    if unit == "B/s":
        return human_bytes(value, "B/s")
    if unit == "B":
        return human_bytes(value)
    if unit == "s" and value >= 60:
        return duration(value)
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    sep = "" if unit in ("%", "°C") else " "
    return f"{number(value)}{sep}{unit}" if unit else number(value)
