"""Provides the judgement of a sensor against its chip's own limits and alarm bits, and the
Reading that carries it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from collectors import hwmon
from collectors.base import Reading, Status, against_limits

WANTED = frozenset(
    {
        "input",
        "average",
        "min",
        "max",
        "lcrit",
        "crit",
        "cap",
        "emergency",
        "fault",
        "alarm",
        "min_alarm",
        "max_alarm",
        "crit_alarm",
        "lcrit_alarm",
        "emergency_alarm",
        "cap_alarm",
    }
)
"""Subfeatures that make a reading; hysteresis, beep and the like are never read."""

UNSET_ALARM = "alarm, limits not set"
"""What an alarm bit raised against limits nobody set says (the reason of its reading)."""

_ALARM_LIMITS = {
    "alarm": ("min", "max", "crit", "lcrit", "emergency", "cap"),
    "min_alarm": ("min",),
    "max_alarm": ("max",),
    "crit_alarm": ("crit",),
    "lcrit_alarm": ("lcrit",),
    "emergency_alarm": ("emergency",),
    "cap_alarm": ("cap",),
}
"""The limits each alarm bit compares against: where the chip shows them, the alarm means
something only if one of them was set."""

_CRIT_ALARMS = frozenset({"crit_alarm", "lcrit_alarm", "emergency_alarm"})
_UPPER = ("max", "crit", "emergency", "cap")
_NON_NEGATIVE = frozenset({"fan", "power", "curr", "energy", "humidity"})
"""Kinds whose values are never below 0: a limit of 0 there is a register nobody set."""


class Limits(NamedTuple):
    """The limits of one feature that were really set, scaled to its unit."""

    low: float | None
    high: float | None
    crit: float | None
    lcrit: float | None


def set_limits(kind: str, sub: Mapping[str, float]) -> dict[str, float]:
    """Return the limit subfeatures of a feature that someone really set.

    Chips report registers nobody programmed as 0 (or, for temperatures, -273.15 °C or
    65261.85 °C): none of those is a limit.
    """
    found = {n: sub[n] for n in ("min", "max", "crit", "lcrit", "emergency", "cap") if n in sub}
    if kind in _NON_NEGATIVE:
        return {n: v for n, v in found.items() if v}
    if kind == "temp":
        return {n: v for n, v in found.items() if -273.0 < v < 1000.0 and (v or n not in _UPPER)}
    if kind == "in":
        # min = max = 0: the BIOS never programmed this input's window.
        for pair in (("min", "max"), ("lcrit", "crit")):
            if not any(found.get(n) for n in pair):
                for n in pair:
                    found.pop(n, None)
    return found


def limits_of(kind: str, sub: Mapping[str, float]) -> Limits:
    """Return (low, high, crit, lcrit) of a feature, leaving out limits nobody set."""
    s = set_limits(kind, sub)
    return Limits(s.get("min"), s.get("max"), s.get("crit", s.get("emergency")), s.get("lcrit"))


def _alarms(
    kind: str, sub: Mapping[str, float], limits: Mapping[str, float]
) -> tuple[set[str], set[str]]:
    """Return the alarm bits raised, split into those with a limit set and those without."""
    real: set[str] = set()
    unset: set[str] = set()
    for name, against in _ALARM_LIMITS.items():
        if sub.get(name):
            # A chip that shows none of the limits compares against one of its own (a trip
            # point fixed in silicon), and an intrusion switch has none: those alarms count.
            shown = any(n in sub for n in against)
            meant = kind == "intrusion" or not shown or any(n in limits for n in against)
            (real if meant else unset).add(name)
    return real, unset


def judge(
    kind: str, value: float | None, sub: Mapping[str, float], trust_unset_alarms: bool = False
) -> tuple[Status, str | None]:
    """Judge a feature against its own limits and alarm bits.

    The same rule holds for every kind of feature: an alarm bit counts when the chip compares
    against a limit someone set. An alarm against limits nobody set is reported as such
    (``alarm, limits not set``) and is a warning only when ``trust_unset_alarms`` asks for it.

    Args:
        kind: the feature kind (``temp``, ``fan``, ``in`` ...).
        value: the current value, or None when it could not be read.
        sub: the other subfeatures read (``max``, ``crit``, ``alarm`` ...), scaled.
        trust_unset_alarms: treat alarms against unset limits as real ones.

    Returns:
        The status, and a short reason when it is not OK.
    """
    if sub.get("fault"):
        return Status.WARNING, "FAULT"
    limits = set_limits(kind, sub)
    real, unset = _alarms(kind, sub, limits)
    if real & _CRIT_ALARMS:
        return Status.CRITICAL, "CRIT ALARM"
    low, high, crit, lcrit = limits_of(kind, sub)
    status, why = against_limits(value, low, high, crit, lcrit)
    if status is Status.CRITICAL:
        return status, why
    if real:
        return Status.WARNING, "ALARM"
    if status is not Status.OK:
        return status, why
    if unset:
        if not trust_unset_alarms:
            return Status.OK, UNSET_ALARM
        return (Status.CRITICAL if unset & _CRIT_ALARMS else Status.WARNING), UNSET_ALARM
    return Status.OK, None


def make_reading(
    chip: str,
    label: str,
    kind: str,
    sub: Mapping[str, float],
    now: float,
    trust_unset_alarms: bool = False,
) -> Reading:
    """Build the reading of one feature from its scaled subfeatures."""
    value = sub.get("input", sub.get("average"))
    if kind == "intrusion":
        value = sub.get("alarm")
    if sub.get("fault"):
        value = None  # a faulty sensor's number is noise
    status, why = judge(kind, value, sub, trust_unset_alarms)
    low, high, crit, lcrit = limits_of(kind, sub)
    return Reading(
        f"sensors/{chip}/{label}",
        value,
        hwmon.UNITS.get(kind, ""),
        now,
        low,
        high,
        crit,
        status,
        why,
        lcrit=lcrit,
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
