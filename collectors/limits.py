"""Provides the judgement of a sensor against its chip's own limits and alarm bits, and the
Reading that carries it."""

from __future__ import annotations

from collections.abc import Mapping

from collectors import hwmon
from collectors.base import Reading, Status

_CRIT_ALARMS = ("crit_alarm", "lcrit_alarm", "emergency_alarm")
_ALARMS = ("alarm", "min_alarm", "max_alarm", "cap_alarm")


def _limits(kind: str, sub: Mapping[str, float]) -> tuple[float | None, ...]:
    """Return (low, high, crit, lcrit) of a feature, leaving out limits a chip never set."""
    low, high = sub.get("min"), sub.get("max")
    crit, lcrit = sub.get("crit", sub.get("emergency")), sub.get("lcrit")
    if kind == "in" and not low and not high:
        low = high = None  # min = max = 0: the BIOS never programmed this input's limits
    if kind == "fan":
        low = low or None  # a fan minimum of 0 means "no minimum"
        high = high or None
    if kind == "temp":
        # An upper limit of exactly 0 °C is an unset register, and chips write -273.15 °C or
        # 65261.85 °C (0xffff kelvin) for "no limit": none of those is a real limit.
        low, lcrit = _real_temp(low), _real_temp(lcrit)
        high, crit = _real_temp(high or None), _real_temp(crit or None)
    return low, high, crit, lcrit


def _real_temp(v: float | None) -> float | None:
    return v if v is not None and -273.0 < v < 1000.0 else None


def judge(kind: str, value: float | None, sub: Mapping[str, float]) -> tuple[Status, str | None]:
    """Judge a feature against its own limits and alarm bits.

    Args:
        kind: the feature kind (``temp``, ``fan``, ``in`` ...).
        value: the current value, or None when it could not be read.
        sub: the other subfeatures read (``max``, ``crit``, ``alarm`` ...), scaled.

    Returns:
        The status, and a short reason when it is not OK.
    """
    if sub.get("fault"):
        return Status.WARNING, "FAULT"
    low, high, crit, lcrit = _limits(kind, sub)
    if any(sub.get(k) for k in _CRIT_ALARMS):
        return Status.CRITICAL, "CRIT ALARM"
    if value is not None and crit is not None and value >= crit:
        return Status.CRITICAL, "above crit"
    if value is not None and lcrit is not None and value <= lcrit:
        return Status.CRITICAL, "below lcrit"
    alarm = any(sub.get(k) for k in _ALARMS)
    if kind == "in" and low is None and high is None:
        alarm = False  # the chip compares against limits nobody set: its alarm means nothing
    if alarm:
        return Status.WARNING, "ALARM"
    if value is not None and high is not None and value > high:
        return Status.WARNING, "above max"
    if value is not None and low is not None and value < low:
        return Status.WARNING, "below min"
    return Status.OK, None


def make_reading(chip: str, label: str, kind: str, sub: Mapping[str, float], now: float) -> Reading:
    """Build the reading of one feature from its scaled subfeatures."""
    value = sub.get("input", sub.get("average"))
    if kind == "intrusion":
        value = sub.get("alarm")
    if sub.get("fault"):
        value = None  # a faulty sensor's number is noise
    status, why = judge(kind, value, sub)
    low, high, crit, _ = _limits(kind, sub)
    return Reading(
        key=f"sensors/{chip}/{label}",
        value=value,
        unit=hwmon.UNITS.get(kind, ""),
        time=now,
        low=low,
        high=high,
        crit=crit,
        status=status,
        text=why,
    )


def unreadable(chip: str, label: str, kind: str, why: str, now: float) -> Reading:
    """Build the reading of a feature whose value could not be read."""
    return Reading(
        f"sensors/{chip}/{label}",
        None,
        hwmon.UNITS.get(kind, ""),
        now,
        status=Status.UNKNOWN,
        text=why,
    )


def unique_label(label: str, feature: str, used: set[str]) -> str:
    """Return a label usable as the last part of a metric key, unique within its chip."""
    label = label.replace("/", "_").strip() or feature
    if label in used:
        label = f"{label} ({feature})"
    used.add(label)
    return label
