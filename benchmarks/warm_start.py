"""Measures the engine's warm start from a history file: the CPU it takes to feed each new
series' detector its stored points, and how many read transactions of the file that takes.

    .venv/bin/python benchmarks/warm_start.py [--hours 3] [--runs 3] [--keep FILE]

A real history file is filled through the store, shaped as the overhead benchmark's
``scale`` setup: twenty chips of twenty sensors polled together every 5 s (one source), 50
HTTP checks every 5 s (a source each, a response time each, their polls a little apart),
the system's twenty metrics every second and a Server Density-style API's four response
times every 30 s, for ``--hours`` hours (``--keep`` keeps the file and reuses it).

Then an engine opens the file and each source's first poll after it is judged, every
series new to the engine, so every detector is warmed from the file first:

- one after another: the sources' first polls ingested in turn on one thread;
- at once: each source's first poll ingested on a thread of its own, all let go together,
  as the engine's poll threads do at start.

Printed: CPU seconds of this process for the whole warm start (median of ``--runs``, a
fresh engine each), of which reading the file, and the read transactions it took.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.base import Batch, Reading
from engine.config_reader import parse
from engine.engine import Engine
from engine.history import HistoryStore
from engine.history import reader as history_reader
from engine.remember import StoreArchive

END = 1_750_000_000.0
"""When the stored history ends (the file's data time, not the wall clock)."""


def layout() -> dict[str, tuple[list[str], float, float]]:
    """Each source of the ``scale`` setup: its keys, its interval and its phase (seconds)."""
    sources: dict[str, tuple[list[str], float, float]] = {
        "sensors": (
            [f"sensors/ina3221-i2c-1-{0x40 + c:x}/rail {n}" for c in range(20) for n in range(20)],
            5.0,
            0.3,
        ),
        "system": ([f"system/m{n}" for n in range(20)], 1.0, 0.1),
        "sd": ([f"remote/web/{loc}/time" for loc in ("lon", "nyc", "syd", "fra")], 30.0, 2.0),
    }
    for i in range(50):
        sources[f"check{i}"] = ([f"remote/check{i}/local/time"], 5.0, 0.5 + 0.07 * i)
    return sources


class SimulatedClock:
    """A monotonic clock the fill moves, so the store flushes as it would in real time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fill(path: Path, hours: float) -> None:
    """Every source's points for ``hours`` hours before ``END``, through the store."""
    rng = np.random.default_rng(7)
    start, clock = time.perf_counter(), SimulatedClock()
    events: list[tuple[float, str, float]] = []
    for keys, interval, phase in layout().values():
        times = np.arange(END - hours * 3600.0 + phase, END, interval)
        for key in keys:
            values = (rng.uniform(1, 100) + rng.normal(0, 1, times.size)).round(3)
            events += zip(times.tolist(), [key] * times.size, values.tolist(), strict=True)
    events.sort()
    with HistoryStore(path=path, clock=clock) as store:
        for n, (t, key, value) in enumerate(events):
            store.append(key, t, value)
            if n % 50_000 == 0:
                clock.now = t - END
                store.flush()
    took = time.perf_counter() - start
    print(f"filled {hours:g} h of {len(layout())} sources ({len(events)} points) in {took:.0f} s")


def first_polls() -> list[Batch]:
    """Each source's first poll after the stored history."""
    rng = np.random.default_rng(8)
    return [
        Batch(source, tuple(Reading(k, float(rng.uniform(1, 100)), "", END + phase) for k in keys))
        for source, (keys, _, phase) in layout().items()
    ]


@contextlib.contextmanager
def counted() -> Iterator[dict[str, float]]:
    """Count the read transactions of the file (BEGINs on reading connections) and the CPU
    spent inside them (each thread's own, from its BEGIN to its COMMIT, all threads summed)."""
    got = {"reads": 0, "cpu": 0.0}
    lock, began = threading.Lock(), threading.local()
    connect = history_reader.connect

    def trace(sql: str) -> None:
        if sql.startswith("BEGIN"):
            began.cpu = time.thread_time()
            with lock:
                got["reads"] += 1
        elif sql.startswith("COMMIT"):
            with lock:
                got["cpu"] += time.thread_time() - began.cpu

    def tracing(path: Path) -> sqlite3.Connection:
        conn = connect(path)
        conn.set_trace_callback(trace)
        return conn

    history_reader.connect = tracing
    try:
        yield got
    finally:
        history_reader.connect = connect


def warm_start(path: Path, together: bool) -> tuple[float, float, int]:
    """CPU seconds of one warm start of every source (on a copy of the file, which the new
    points change), of which in read transactions, and how many read transactions."""
    config = parse('[detectors]\ndefault = "auto"\n', "bench.toml")
    with tempfile.TemporaryDirectory() as tmp, counted() as got:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        engine = Engine(config, archive=StoreArchive(HistoryStore(path=copy)))
        batches = first_polls()
        cpu = time.process_time()
        if together:
            gate = threading.Barrier(len(batches))

            def poll(batch: Batch) -> None:
                gate.wait()
                engine.ingest(batch)

            threads = [threading.Thread(target=poll, args=(b,)) for b in batches]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        else:
            for batch in batches:
                engine.ingest(batch)
        cpu = time.process_time() - cpu
        read_cpu, reads = got["cpu"], got["reads"]
        engine.stop()
    return cpu, read_cpu, int(reads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="history file to keep and reuse")
    args = parser.parse_args()
    series = sum(len(keys) for keys, _, _ in layout().values())
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "scale.db"
        if not path.exists():
            fill(path, args.hours)
        print(f"warm start of {series} series from {path.name}, CPU seconds (median of "
              f"{args.runs}), read transactions:")  # fmt: skip
        for together in (False, True):
            runs = [warm_start(path, together) for _ in range(args.runs)]
            how = "at once, a thread per source" if together else "one source after another"
            cpu = statistics.median(c for c, _, _ in runs)
            read = statistics.median(r for _, r, _ in runs)
            print(f"  {how:<30} {cpu:6.2f} s, of which {read:5.2f} s reading   "
                  f"{runs[0][2]:4d} reads")  # fmt: skip


if __name__ == "__main__":
    main()
