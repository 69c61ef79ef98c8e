"""Provides the system collector: CPU, load, memory, processes, disk and network rates, uptime."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil

from collectors.base import Batch, Deltas, Reading, not_known_yet

PROC_SCAN_EVERY = 5.0
"""Seconds between two scans of the process table: walking /proc costs far more than the rest
of a poll, and process and zombie counts rarely need a 1 s resolution."""


class SystemCollector:
    """Reads the machine's own vital signs through psutil, without ever blocking."""

    name = "system"

    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        """Args:
        interval: seconds between polls.
        clock: monotonic clock, for rates and the process-scan schedule.
        """
        self.interval = interval
        self._clock = clock
        # Rates and CPU shares are differences between this collector's own samples: the
        # first poll has no earlier sample, so it says "not known yet" instead of 0.
        self._deltas = Deltas()
        self._last_procs: tuple[float, int, int] | None = None

    def poll(self) -> Batch:
        """Read everything once; a failing part becomes one error line, the rest still comes."""
        now = time.time()
        readings: list[Reading] = []
        errors: list[str] = []
        parts: list[tuple[str, Callable[[float], Iterator[Reading]]]] = [
            ("cpu", self._cpu),
            ("load", self._load),
            ("memory", self._memory),
            ("processes", self._processes),
            ("disk I/O", self._disk),
            ("network", self._net),
            ("uptime", self._uptime),
        ]
        for what, part in parts:
            try:
                readings.extend(part(now))
            except (OSError, psutil.Error, TypeError, AttributeError, ValueError) as exc:
                errors.append(f"{what}: {type(exc).__name__}: {exc}".rstrip(": "))
        return Batch(self.name, tuple(readings), tuple(errors))

    def _cpu(self, now: float) -> Iterator[Reading]:
        total = psutil.cpu_times(percpu=False)
        yield self._cpu_reading("system/cpu/total", total, now, None)
        for i, times in enumerate(psutil.cpu_times(percpu=True)):
            yield self._cpu_reading(f"system/cpu/{i}", times, now, f"cpu{i}")

    def _cpu_reading(self, key: str, times: Any, now: float, label: str | None) -> Reading:
        """Return the busy share of one CPU since the last poll, or "not known yet"."""
        # Guest time is already counted in user time (as psutil and top count it).
        spent = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
        busy = spent - times.idle - getattr(times, "iowait", 0.0)
        share = self._deltas.ratio(key, busy, spent)
        if share is None:
            return not_known_yet(key, "%", now, label)
        return Reading(key, round(100.0 * min(1.0, share), 1), "%", now, label=label)

    def _load(self, now: float) -> Iterator[Reading]:
        cores = psutil.cpu_count() or 1
        for name, value in zip(("1m", "5m", "15m"), os.getloadavg(), strict=True):
            yield Reading(f"system/load/{name}", float(value), "", now, high=float(cores))

    def _memory(self, now: float) -> Iterator[Reading]:
        vm = psutil.virtual_memory()
        yield Reading("system/memory/used", float(vm.percent), "%", now, high=90.0, crit=97.0)
        yield Reading("system/memory/available", float(vm.available), "B", now)
        sw = psutil.swap_memory()
        yield Reading("system/swap/used", float(sw.percent), "%", now)

    def _processes(self, now: float) -> Iterator[Reading]:
        mono = self._clock()
        if self._last_procs is None or mono - self._last_procs[0] >= PROC_SCAN_EVERY:
            total = zombies = 0
            for proc in psutil.process_iter(["status"]):
                total += 1
                # A process that exits mid-scan has info["status"] None: not a zombie.
                zombies += proc.info.get("status") == psutil.STATUS_ZOMBIE
            self._last_procs = (mono, total, zombies)
        _, total, zombies = self._last_procs
        yield Reading("system/procs/total", float(total), "", now)
        yield Reading("system/procs/zombies", float(zombies), "", now, high=0.5)

    def _rates(self, now: float, pairs: dict[str, float]) -> Iterator[Reading]:
        mono = self._clock()
        for key, value in pairs.items():
            rate = self._deltas.ratio(key, value, mono)
            yield not_known_yet(key, "B/s", now) if rate is None else Reading(key, rate, "B/s", now)

    def _disk(self, now: float) -> Iterator[Reading]:
        io = psutil.disk_io_counters(perdisk=False)
        if io is None:  # no disks, or a kernel without the statistics
            return
        yield from self._rates(
            now,
            {"system/disk/read": float(io.read_bytes), "system/disk/write": float(io.write_bytes)},
        )

    def _net(self, now: float) -> Iterator[Reading]:
        io = psutil.net_io_counters(pernic=False)
        if io is None:
            return
        yield from self._rates(
            now, {"system/net/rx": float(io.bytes_recv), "system/net/tx": float(io.bytes_sent)}
        )

    def _uptime(self, now: float) -> Iterator[Reading]:
        yield Reading("system/uptime", max(0.0, now - psutil.boot_time()), "s", now)
