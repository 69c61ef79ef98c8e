"""Provides the system collector: CPU, load, memory, processes, disk and network rates, uptime."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import psutil

from collectors.base import Batch, Reading

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
        self._last_io: dict[str, tuple[float, float]] = {}
        self._last_procs: tuple[float, int, int] | None = None
        # The first cpu_percent(interval=None) call only primes psutil's counters.
        self._prime()

    def _prime(self) -> None:
        # Take the first sample of every counter, so the first poll already has rates.
        for part in (self._cpu, self._disk, self._net):
            try:
                for _ in part(0.0):
                    pass
            except (OSError, psutil.Error, TypeError, AttributeError, ValueError):
                continue  # reported by the first poll that fails the same way

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
        yield Reading("system/cpu/total", float(psutil.cpu_percent(interval=None)), "%", now)
        for i, pct in enumerate(psutil.cpu_percent(interval=None, percpu=True)):
            yield Reading(f"system/cpu/{i}", float(pct), "%", now, label=f"cpu{i}")

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

    def _rate(self, key: str, value: float, mono: float) -> float | None:
        last = self._last_io.get(key)
        self._last_io[key] = (mono, value)
        if last is None or mono <= last[0] or value < last[1]:
            return None  # first sample, or a counter that wrapped or reset
        return (value - last[1]) / (mono - last[0])

    def _rates(self, now: float, pairs: dict[str, float]) -> Iterator[Reading]:
        mono = self._clock()
        for key, value in pairs.items():
            rate = self._rate(key, value, mono)
            if rate is not None:
                yield Reading(key, rate, "B/s", now)

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
