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


LIMITS = frozenset({"min", "max", "lcrit", "crit", "emergency", "cap"})
"""Subfeatures that are limits: they change only when someone sets them, so a reader may keep
them between polls (see ``Feature``)."""


LIMITS_EVERY = 60.0
"""Seconds a reader keeps a chip's limits before reading them again: limits change only when
someone sets them (``sensors -s``), while every poll reads inputs and alarm bits."""

Judgement = tuple[Status, str | None]
"""A status, and a short reason when it is not OK."""


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
    found = {n: v for n, v in sub.items() if n in LIMITS}
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


class Feature:
    """One sensor as probed: its key, unit and kind, and the limits its chip showed when they
    were last read. Readers keep one per sensor, so a poll only reads the live values
    (input, alarms, fault) and judges them."""

    __slots__ = ("bounds", "chip", "key", "kind", "label", "limits", "set", "unit")

    def __init__(self, chip: str, label: str, kind: str) -> None:
        self.chip, self.label, self.kind = chip, label, kind
        self.key = f"sensors/{chip}/{label}"
        self.unit = hwmon.UNITS.get(kind, "")
        self.limits: dict[str, float] = {}
        """Every limit the chip shows, as read (set or not)."""
        self.set: dict[str, float] = {}
        self.bounds = Limits(None, None, None, None)

    def set_limit_values(self, limits: Mapping[str, float]) -> None:
        """Keep the limits just read from the chip."""
        self.limits = {n: v for n, v in limits.items() if n in LIMITS}
        self.set = set_limits(self.kind, self.limits)
        s = self.set
        self.bounds = Limits(
            s.get("min"), s.get("max"), s.get("crit", s.get("emergency")), s.get("lcrit")
        )

    def judge(self, value: float | None, live: Mapping[str, float], trust: bool) -> Judgement:
        """Judge a value and the live subfeatures (alarms, fault) against the kept limits."""
        if live.get("fault"):
            return Status.WARNING, "FAULT"
        real, unset = self._alarms(live)
        if real & _CRIT_ALARMS:
            return Status.CRITICAL, "CRIT ALARM"
        status, why = against_limits(value, *self.bounds)
        if status is Status.CRITICAL:
            return status, why
        if real:
            return Status.WARNING, "ALARM"
        if status is not Status.OK:
            return status, why
        if unset:
            if not trust:
                return Status.OK, UNSET_ALARM
            return (Status.CRITICAL if unset & _CRIT_ALARMS else Status.WARNING), UNSET_ALARM
        return Status.OK, None

    def _alarms(self, live: Mapping[str, float]) -> tuple[set[str], set[str]]:
        """Return the alarm bits raised, split into those with a limit set and those without."""
        real: set[str] = set()
        unset: set[str] = set()
        for name, bit in live.items():
            against = _ALARM_LIMITS.get(name)
            if not bit or against is None:
                continue
            # A chip that shows none of the limits compares against one of its own (a trip
            # point fixed in silicon), and an intrusion switch has none: those alarms count.
            shown = any(n in self.limits for n in against)
            meant = self.kind == "intrusion" or not shown or any(n in self.set for n in against)
            (real if meant else unset).add(name)
        return real, unset

    def reading(self, live: Mapping[str, float], now: float, trust: bool = False) -> Reading:
        """Build the reading from the live subfeatures just read (input, alarms, fault)."""
        value = live.get("input", live.get("average"))
        if self.kind == "intrusion":
            value = live.get("alarm")
        if live.get("fault"):
            value = None  # a faulty sensor's number is noise
        status, why = self.judge(value, live, trust)
        low, high, crit, lcrit = self.bounds
        return Reading(self.key, value, self.unit, now, low, high, crit, status, why, None, lcrit)

    def unreadable(self, why: str, now: float) -> Reading:
        """Build the reading of the sensor when its value could not be read."""
        return Reading(self.key, None, self.unit, now, status=Status.UNKNOWN, text=why)


def judge(
    kind: str, value: float | None, sub: Mapping[str, float], trust_unset_alarms: bool = False
) -> Judgement:
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
    feature = Feature("", "", kind)
    feature.set_limit_values(sub)
    return feature.judge(value, sub, trust_unset_alarms)


def make_reading(
    chip: str,
    label: str,
    kind: str,
    sub: Mapping[str, float],
    now: float,
    trust_unset_alarms: bool = False,
) -> Reading:
    """Build the reading of one feature from all its scaled subfeatures, limits included."""
    feature = Feature(chip, label, kind)
    feature.set_limit_values(sub)
    return feature.reading(sub, now, trust_unset_alarms)


def unique_label(label: str, feature: str, used: set[str]) -> str:
    """Return a label usable as the last part of a metric key, unique within its chip."""
    label = label.replace("/", "_").strip() or feature
    if label in used:
        label = f"{label} ({feature})"
    used.add(label)
    return label
