"""Provides the sensors collector: every temperature, fan, voltage, power and current that
libsensors knows (so sensors3.conf labels and ignores apply), with /sys/class/hwmon read
directly where libsensors is missing, and psutil where there is no hwmon tree at all."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psutil

from collectors import hwmon
from collectors.base import Batch, Reading, Status
from collectors.libsensors import LibSensors, load_libsensors
from collectors.limits import LIMITS, LIMITS_EVERY, WANTED, Feature, make_reading, unique_label

NO_SENSORS = (
    "no sensors found: load the kernel module of this board's sensor chip "
    "(run 'sudo sensors-detect' to find which one, then 'sudo modprobe <module>')"
)
"""What a machine without any hwmon chip says, with the hint that fixes it."""


@dataclass(frozen=True, slots=True)
class _Probed:
    """One sensor of one chip as probed: where its numbers are and how to scale them."""

    feature: Feature
    live: tuple[tuple[str, str, float], ...]
    """(subfeature, sysfs path, divisor) of the input, alarm bits and fault: read every poll."""
    limits: tuple[tuple[str, str, float], ...]
    """The same for its limits: read when probed, then every ``LIMITS_EVERY`` seconds."""


def probe_chip(chip: hwmon.Chip) -> list[_Probed]:
    """Return the sensors of one chip, labelled as ``sensors`` labels them without a
    configuration (the chip's own ``*_label`` files)."""
    out: list[_Probed] = []
    used: set[str] = set()
    for feature, paths in hwmon.features(chip).items():
        kind = feature.rstrip("0123456789")
        label = feature
        if "label" in paths:
            try:
                label = hwmon.read_text(paths["label"]) or feature
            except OSError:
                label = feature
        files = [(sub, path, hwmon.divisor(kind, sub)) for sub, path in paths.items()]
        live = tuple(f for f in files if f[0] in WANTED and f[0] not in LIMITS)
        if live:
            limits = tuple(f for f in files if f[0] in LIMITS)
            found = Feature(chip.name, unique_label(label, feature, used), kind)
            out.append(_Probed(found, live, limits))
    return out


class SysfsFallback:
    """Reads every chip straight from /sys/class/hwmon, for machines without libsensors.

    Chips, labels and limits are probed once (chips again when they come or go, limits every
    ``LIMITS_EVERY`` seconds): a poll reads only inputs, alarm bits and faults. Where there
    is no hwmon tree at all, psutil's temperatures and fans are read instead.
    """

    def __init__(
        self, root: str = hwmon.HWMON, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.root = root
        self._clock = clock
        self._dirs: list[str] | None = None
        self._sensors: list[_Probed] = []
        self._limits_at = -math.inf

    @property
    def backend(self) -> str:
        """``sysfs``, or ``psutil`` where the machine has no hwmon tree."""
        return "psutil" if self._dirs == [] else "sysfs"

    def read(self, now: float, trust_unset_alarms: bool = False) -> tuple[list[Reading], list[str]]:
        """Read everything once."""
        dirs = hwmon.chip_dirs(self.root)
        if dirs != self._dirs:
            self._dirs = dirs
            self._sensors = [s for c in hwmon.chips(self.root) for s in probe_chip(c)]
            self._limits_at = -math.inf
        readings: list[Reading] = []
        errors: list[str] = []
        if not dirs:
            readings.extend(self._psutil(now, errors, trust_unset_alarms))
        if self._clock() - self._limits_at >= LIMITS_EVERY:
            self._limits_at = self._clock()
            for s in self._sensors:
                s.feature.set_limit_values(self._numbers(s.feature, s.limits, errors))
        for s in self._sensors:
            failed: dict[str, str] = {}
            live = self._numbers(s.feature, s.live, errors, failed)
            if "input" in live or "average" in live or (s.feature.kind == "intrusion" and live):
                readings.append(s.feature.reading(live, now, trust_unset_alarms))
            elif why := failed.get("input", failed.get("average")):
                readings.append(s.feature.unreadable(why, now))
        return readings, errors

    @staticmethod
    def _numbers(
        f: Feature,
        files: tuple[tuple[str, str, float], ...],
        errors: list[str],
        failed: dict[str, str] | None = None,
    ) -> dict[str, float]:
        """Read and scale some subfeatures; each that fails is one error line (and its reason
        goes into ``failed``)."""
        out: dict[str, float] = {}
        for name, path, div in files:
            try:
                out[name] = hwmon.read_number(path) / div
            except (OSError, ValueError) as exc:
                why = getattr(exc, "strerror", None) or str(exc)
                errors.append(f"{f.chip}/{f.label}: {path.rsplit('/', 1)[-1]}: {why}")
                if failed is not None:
                    failed[name] = why
        return out

    def _psutil(self, now: float, errors: list[str], trust: bool) -> Iterable[Reading]:
        """Read psutil's temperatures and fans (where the OS has no hwmon tree)."""
        for kind, read in (("temp", "sensors_temperatures"), ("fan", "sensors_fans")):
            try:
                groups: dict[str, list[Any]] = getattr(psutil, read)()
            except (OSError, AttributeError, ValueError) as exc:
                errors.append(f"psutil {read}: {exc}")
                continue
            for chip, entries in groups.items():
                used: set[str] = set()
                for i, entry in enumerate(entries, 1):
                    label = unique_label(entry.label, f"{kind}{i}", used)
                    sub = {"input": entry.current}
                    if kind == "temp":
                        sub.update({"max": entry.high, "crit": entry.critical})
                    values = {k: float(v) for k, v in sub.items() if v is not None}
                    yield make_reading(chip, label, kind, values, now, trust)


class SensorsCollector:
    """Reads every hardware sensor of the machine, with the limits and alarms of its chip."""

    name = "sensors"

    def __init__(
        self,
        interval: float = 5.0,
        root: str = hwmon.HWMON,
        use_libsensors: bool = True,
        trust_unset_alarms: bool = False,
    ) -> None:
        """Args:
        interval: seconds between polls.
        root: the hwmon class directory (for the fallback and to notice new chips).
        use_libsensors: False to skip libsensors even where it is installed.
        trust_unset_alarms: make an alarm raised against limits nobody set a warning (by
            default it is shown as ``alarm, limits not set`` and is not anomalous).
        """
        self.interval = interval
        self.trust_unset_alarms = trust_unset_alarms
        self._lib: LibSensors | None = None
        self.why_fallback: str | None = "disabled"
        if use_libsensors:
            self._lib, self.why_fallback = load_libsensors(root)
        self._fallback = SysfsFallback(root)
        self._last: dict[str, str] = {}

    @property
    def backend(self) -> str:
        """``libsensors``; where it is missing ``sysfs``, or ``psutil`` without a hwmon tree."""
        return "libsensors" if self._lib is not None else self._fallback.backend

    def poll(self) -> Batch:
        """Read every sensor once; a sensor that fails to read is one error line."""
        now = time.time()
        if self._lib is not None:
            readings, errors = self._lib.read(now, self.trust_unset_alarms)
        else:
            readings, errors = self._fallback.read(now, self.trust_unset_alarms)
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
