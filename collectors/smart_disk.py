"""Provides the readings of one disk from what pySMART parsed: identity, health, temperature,
the attributes that predict failure, the last self-test, and what changed since the start."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from collectors.base import Reading, Status

ATA_FAILURE_ATTRIBUTES = (5, 187, 188, 197, 198, 199)
"""Reallocated sectors, reported uncorrectable, command timeouts, pending sectors, offline
uncorrectable and interface CRC errors: the attributes that predict a failure."""

PENDING = (197, 198)
"""Attributes whose raw value should be zero on a healthy disk."""

HEALTH = {"PASS": "PASSED", "FAIL": "FAILED", "WARN": "WARNING"}
"""pySMART's assessment to the words smartctl prints."""

_NVME_LIMITS = {
    "high": re.compile(r"Warning\s+Comp\. Temp\. Threshold:\s+(-?\d+)"),
    "crit": re.compile(r"Critical\s+Comp\. Temp\. Threshold:\s+(-?\d+)"),
}


def disk_id(name: str, interface: str | None) -> str:
    """Return the disk's name as a metric key part: ``sda``, ``nvme0``, ``bus_0-megaraid16``."""
    base = re.sub(r"[^\w.,@-]+", "_", name.removeprefix("/dev/")).strip("_") or "disk"
    if interface and "megaraid" in interface:
        base += "-" + re.sub(r"\W+", "", interface)
    return base


@dataclass(slots=True)
class DiskMemory:
    """What the collector remembers of one disk between polls."""

    baseline: dict[str, Any] = field(default_factory=dict)
    """The first value of every tracked field, from the first poll that read the disk."""
    last: dict[str, Any] = field(default_factory=dict)
    """The latest value of every tracked field."""


class DiskReader:
    """Turns one parsed pySMART Device into readings, tracking growth against the baseline."""

    def __init__(self, did: str, memory: DiskMemory, now: float, lines: list[str]) -> None:
        self.did = did
        self.memory = memory
        self.now = now
        self.lines = lines
        self.out: list[Reading] = []

    def add(self, part: str, value: float | None, unit: str = "", **kw: Any) -> None:
        """Append the reading ``disk/<id>/<part>``."""
        self.out.append(Reading(f"disk/{self.did}/{part}", value, unit, self.now, **kw))

    def track(self, name: str, value: Any) -> Any:
        """Remember a field; return its value at the start."""
        self.memory.last[name] = value
        return self.memory.baseline.setdefault(name, value)

    def read(self, dev: Any) -> list[Reading]:
        """Return every reading of the disk."""
        self.add("state", None, text="active")
        self.identity(dev)
        self.health(dev)
        self.temperature(dev)
        self.attributes(dev)
        self.selftest(dev)
        self.changes()
        return self.out

    def identity(self, dev: Any) -> None:
        model = " ".join(p for p in (dev.model, f"({dev.family})" if dev.family else "") if p)
        self.add("model", None, text=model or "unknown")
        self.add("serial", None, text=dev.serial or "unknown")
        self.track("serial", dev.serial)
        capacity = getattr(dev, "_capacity", None)  # bytes, as smartctl printed them
        if capacity:
            self.add("capacity", float(capacity), "B", text=dev.capacity)
        self.add("interface", None, text=dev.interface or "unknown")

    def health(self, dev: Any) -> None:
        word = HEALTH.get(dev.assessment or "", "unknown")
        status = {"FAILED": Status.CRITICAL, "WARNING": Status.WARNING}.get(word, Status.OK)
        if word == "unknown":
            status = Status.UNKNOWN
        detail = "; ".join(dev.messages)
        self.add("health", None, text=f"{word}: {detail}" if detail else word, status=status)
        self.track("health", word)

    def temperature(self, dev: Any) -> None:
        temp = dev.temperature
        if temp is None:
            return
        limits = {}
        for name, rx in _NVME_LIMITS.items():
            for line in self.lines:
                if m := rx.search(line):
                    limits[name] = float(m[1])
                    break
        # Past its thresholds the reading judges itself (Reading's one rule for limits).
        self.add("temperature", float(temp), "°C", **limits)

    def counter(self, part: str, value: int | None, unit: str = "", **kw: Any) -> None:
        """Add a failure counter: anomalous when it grew since the start."""
        if value is None:
            return
        start = self.track(part, value)
        status, text = kw.pop("status", Status.OK), kw.pop("text", None)
        if start is not None and value > start and status == Status.OK:
            status, text = Status.WARNING, f"grew from {start:g} since start"
        self.add(part, float(value), unit, status=status, text=text, **kw)

    def attributes(self, dev: Any) -> None:
        ifa = dev.if_attributes
        kind = type(ifa).__name__
        if kind == "AtaAttributes":
            self.ata(dev)
        elif kind == "NvmeAttributes":
            self.nvme(ifa)
        elif kind == "SCSIAttributes" and dev.diagnostics is not None:
            diag = dev.diagnostics
            self.counter("smart/grown_defects", diag.Reallocated_Sector_Ct)
            bad = [diag.Uncorrected_Reads, diag.Uncorrected_Writes, diag.Uncorrected_Verifies]
            known = [b for b in bad if b is not None]
            self.counter("smart/uncorrected_errors", sum(known) if known else None)
            if diag.Power_On_Hours is not None:
                self.add("power_on_hours", float(diag.Power_On_Hours), "h")

    def ata(self, dev: Any) -> None:
        attrs = dev.attributes
        hours = attrs[9]
        if hours is not None and hours.raw_int is not None:
            self.add("power_on_hours", float(hours.raw_int), "h")
        for num in ATA_FAILURE_ATTRIBUTES:
            attr = attrs[num]
            if attr is None or attr.raw_int is None:
                continue
            status, text = Status.OK, None
            if attr.when_failed == "FAILING_NOW":
                status, text = Status.CRITICAL, "FAILING_NOW"
            elif attr.when_failed not in ("-", "", None):
                status, text = Status.WARNING, f"failed {attr.when_failed}"
            elif num in PENDING and attr.raw_int > 0:
                status, text = Status.WARNING, "should be 0"
            self.counter(f"smart/{num}_{attr.name}", attr.raw_int, status=status, text=text)

    def nvme(self, ifa: Any) -> None:
        if ifa.powerOnHours is not None:
            self.add("power_on_hours", float(ifa.powerOnHours), "h")
        warn = ifa.criticalWarning
        if warn is not None:
            bad = Status.CRITICAL if warn else Status.OK
            text = f"0x{warn:02x}" if warn else None
            self.counter("smart/critical_warning", warn, status=bad, text=text)
        errors = ifa.integrityErrors
        if errors is not None:
            status = Status.WARNING if errors else Status.OK
            self.counter("smart/media_errors", errors, status=status)
        used = ifa.percentageUsed
        if used is not None:
            status = Status.WARNING if used >= 100 else Status.OK
            self.counter("smart/percentage_used", used, "%", status=status, high=100.0)
        spare, floor = ifa.availableSpare, ifa.availableSpareThreshold
        if spare is not None:
            status = Status.CRITICAL if floor is not None and spare < floor else Status.OK
            low = float(floor) if floor is not None else None
            self.add("smart/available_spare", float(spare), "%", status=status, low=low)
            self.track("smart/available_spare", spare)

    def selftest(self, dev: Any) -> None:
        if not dev.tests:
            self.add("selftest", None, text="no self-test logged")
            return
        test = dev.tests[0]
        status_text = str(test.status).strip()
        text = f"{str(test.type).strip()}: {status_text}"
        if test.hours not in (None, "", "-"):
            text += f" at {test.hours} h"
        bad = re.search(r"fail|error", status_text, re.I) and "without error" not in status_text
        self.add("selftest", None, text=text, status=Status.WARNING if bad else Status.OK)
        self.track("selftest", text)

    def changes(self) -> None:
        """Add one line that says what changed since the monitor started."""
        diffs = []
        for name, start in self.memory.baseline.items():
            now = self.memory.last.get(name)
            if now != start:
                label = name.removeprefix("smart/")
                diffs.append(f"{label}: {_fmt(start)} → {_fmt(now)}")
        text = "; ".join(diffs) if diffs else "nothing changed since start"
        self.add("changes", None, text=text)


def _fmt(value: Any) -> str:
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
