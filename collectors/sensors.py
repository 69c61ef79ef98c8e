"""Provides the sensors collector: every temperature, fan, voltage, power and current that
libsensors knows (so sensors3.conf labels and ignores apply), with psutil and /sys/class/hwmon
as the fallback where libsensors is missing."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import psutil

from collectors import hwmon
from collectors.base import Batch, Reading, Status
from collectors.libsensors import LibSensors, load_libsensors
from collectors.limits import make_reading, unique_label, unreadable

NO_SENSORS = (
    "no sensors found: load the kernel module of this board's sensor chip "
    "(run 'sudo sensors-detect' to find which one, then 'sudo modprobe <module>')"
)
"""What a machine without any hwmon chip says, with the hint that fixes it."""


def _psutil_order(chip: hwmon.Chip, kind: str) -> list[str]:
    """Return the chip's features of one kind in the order psutil lists them (sorted as
    strings, only those with an input)."""
    feats = hwmon.features(chip).items()
    return sorted(f for f, p in feats if f.rstrip("0123456789") == kind and "input" in p)


class SysfsFallback:
    """Reads temperatures and fans through psutil and the rest straight from /sys/class/hwmon,
    for machines without libsensors. Chip names follow libsensors' rules where psutil's chip
    name is unambiguous."""

    def __init__(self, root: str = hwmon.HWMON) -> None:
        self.root = root

    def read(self, now: float) -> tuple[list[Reading], list[str]]:
        """Read everything once."""
        readings: list[Reading] = []
        errors: list[str] = []
        chips = hwmon.chips(self.root)
        used: dict[str, set[str]] = {}
        for kind, groups in self._psutil(errors):
            for prefix, entries in groups.items():
                same = [c for c in chips if c.prefix == prefix]
                readings.extend(self._from_psutil(kind, prefix, entries, same, used, now))
        for chip in chips:
            self._direct(chip, used.setdefault(chip.name, set()), now, readings, errors)
        return readings, errors

    def _from_psutil(
        self,
        kind: str,
        prefix: str,
        entries: list[Any],
        same: list[hwmon.Chip],
        used: dict[str, set[str]],
        now: float,
    ) -> Iterable[Reading]:
        """Turn psutil's entries of one driver into readings.

        psutil names chips by driver only: name the chip as libsensors does when that is
        unambiguous, and recover the feature names when the counts agree.
        """
        name = same[0].name if len(same) == 1 else prefix
        features = _psutil_order(same[0], kind) if len(same) == 1 else []
        if len(features) != len(entries):
            features = [f"{kind}{i}" for i in range(1, len(entries) + 1)]
        seen = used.setdefault(name, set())
        for feature, entry in zip(features, entries, strict=True):
            label = unique_label(entry.label, feature, seen)
            sub = {"input": entry.current}
            if kind == "temp":
                sub.update({"max": entry.high, "crit": entry.critical})
            values = {k: float(v) for k, v in sub.items() if v is not None}
            yield make_reading(name, label, kind, values, now)

    def _psutil(self, errors: list[str]) -> Iterable[tuple[str, dict[str, Any]]]:
        for kind, read in (("temp", "sensors_temperatures"), ("fan", "sensors_fans")):
            try:
                yield kind, getattr(psutil, read)()
            except (OSError, AttributeError, ValueError) as exc:
                errors.append(f"psutil {read}: {exc}")

    def _direct(
        self, chip: hwmon.Chip, used: set[str], now: float, out: list[Reading], errors: list[str]
    ) -> None:
        """Read the voltages, power and currents of one chip from sysfs."""
        for feature, paths in hwmon.features(chip).items():
            kind = feature.rstrip("0123456789")
            if kind not in ("in", "power", "curr", "energy", "humidity", "intrusion"):
                continue
            label = feature
            if "label" in paths:
                try:
                    label = hwmon.read_text(paths.pop("label")) or feature
                except OSError:
                    label = feature
            label = unique_label(label, feature, used)
            sub: dict[str, float] = {}
            for name, path in paths.items():
                try:
                    sub[name] = hwmon.read_value(kind, name, path)
                except (OSError, ValueError) as exc:
                    why = getattr(exc, "strerror", None) or str(exc)
                    errors.append(f"{chip.name}/{feature}_{name}: {why}")
                    if name in ("input", "average"):
                        out.append(unreadable(chip.name, label, kind, why, now))
            if kind == "intrusion" or "input" in sub or "average" in sub:
                out.append(make_reading(chip.name, label, kind, sub, now))


class SensorsCollector:
    """Reads every hardware sensor of the machine, with the limits and alarms of its chip."""

    name = "sensors"

    def __init__(
        self, interval: float = 5.0, root: str = hwmon.HWMON, use_libsensors: bool = True
    ) -> None:
        """Args:
        interval: seconds between polls.
        root: the hwmon class directory (for the fallback and to notice new chips).
        use_libsensors: False to skip libsensors even where it is installed.
        """
        self.interval = interval
        self._lib: LibSensors | None = None
        self.why_fallback: str | None = "disabled"
        if use_libsensors:
            self._lib, self.why_fallback = load_libsensors(root)
        self._fallback = SysfsFallback(root)
        self._last: dict[str, str] = {}

    @property
    def backend(self) -> str:
        """``libsensors``, or ``psutil+sysfs`` where libsensors is missing."""
        return "libsensors" if self._lib is not None else "psutil+sysfs"

    def poll(self) -> Batch:
        """Read every sensor once; a sensor that fails to read is one error line."""
        now = time.time()
        if self._lib is not None:
            readings, errors = self._lib.read(now)
        else:
            readings, errors = self._fallback.read(now)
        readings.extend(self._vanished(readings, now))
        if not readings and not errors:
            return Batch(self.name, unavailable=NO_SENSORS)
        return Batch(self.name, tuple(readings), tuple(errors))

    def _vanished(self, readings: list[Reading], now: float) -> list[Reading]:
        """Say once of each sensor read last time and not now that it is gone, so no screen
        keeps showing its last value as if it were current."""
        units = {r.key: r.unit for r in readings}
        gone = [
            Reading(key, None, unit, now, status=Status.UNKNOWN, text="no longer read")
            for key, unit in sorted(self._last.items())
            if key not in units
        ]
        self._last = units
        return gone

    def close(self) -> None:
        """Let go of libsensors."""
        if self._lib is not None:
            self._lib.release()
            self._lib = None
