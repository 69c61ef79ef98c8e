"""Measures the history store and prints the figures.

    .venv/bin/python benchmarks/history.py [--series 500] [--hours 24] [--days 30]

(``--hours 0`` leaves the simulated day out.)

- bytes per sample of recorded real metrics (NAB's real series and a recorded minute of
  ``gongwatch once``), measured on the SQLite file, pages and all, with the rollup tiers
  dropped and the file vacuumed; and what the chunk blobs alone take, per data set;
- the codec alone: microseconds per point to encode, and the share of a core that 500 series
  at 1 Hz cost;
- ``--series`` series at 1 Hz for ``--hours`` simulated hours (fast-forwarded, flushed every 5
  simulated seconds as the real writer is): CPU seconds per simulated hour (both threads),
  bytes per sample, the file per day and its steady state under the default tiers
  (raw 2 days, 1-minute 30 days, 15-minute 2 years);
- one series at 1 Hz for ``--days`` simulated days, then the time to read the whole span at
  the 1-minute and 15-minute tiers (median of five reads).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.history import HistoryConfig, HistoryReader, HistoryStore, Tier
from engine.history.blocks import encode_block
from engine.history.maintenance import BLOCK_ROWS
from engine.history.open_chunk import OpenChunk
from engine.history.sealing import seal

ROOT = Path(__file__).resolve().parents[1]
NAB = ROOT.parent / "shared" / "data" / "nab-dev" / "data"
READINGS = ROOT / "tests" / "data" / "system_readings.jsonl"
DAY = 86400.0
YEAR = 365 * DAY
KEEP_ALL = HistoryConfig(raw=100 * YEAR, minute=100 * YEAR, quarter=100 * YEAR)


class SimulatedClock:
    """A monotonic clock the benchmark moves, so flushes follow simulated time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def real_series() -> dict[str, tuple[list[float], list[float]]]:
    """NAB's real series and the recorded system readings: key -> (times, values)."""
    series: dict[str, tuple[list[float], list[float]]] = {}
    for path in sorted(NAB.glob("real*/*.csv")):
        with path.open() as handle:
            rows = list(csv.reader(handle))[1:]
        times = [datetime.fromisoformat(r[0]).replace(tzinfo=UTC).timestamp() for r in rows]
        series[f"nab/{path.parent.name}/{path.stem}"] = (times, [float(r[1]) for r in rows])
    with READINGS.open() as handle:
        for line in handle:
            reading = json.loads(line)
            times, values = series.setdefault(reading["key"], ([], []))
            times.append(reading["time"])
            values.append(reading["value"])
    return series


def thread_cpu(thread: threading.Thread) -> float:
    """CPU seconds a thread has used (Linux: /proc/self/task/TID/stat)."""
    fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1]
    user, system = fields.split()[11:13]
    return (int(user) + int(system)) / os.sysconf("SC_CLK_TCK")


def table_bytes(store: HistoryReader) -> dict[str, int]:
    """Bytes of pages each table and index takes in the file."""
    with store._borrow() as conn:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    return {name: int(size) for name, size in rows}


def compression(tmp: Path) -> None:
    series = real_series()
    path = tmp / "real.db"
    with HistoryStore(KEEP_ALL, path=path) as store:
        for key, (times, values) in series.items():
            for t, v in zip(times, values, strict=True):
                store.append(key, t, v)
    with HistoryStore(KEEP_ALL, path=path) as store, store._borrow() as conn:
        blobs = dict(
            conn.execute(
                "SELECT key, sum(length(data) + length(flags)) FROM "
                "(SELECT series, data, flags FROM chunks UNION ALL "
                "SELECT series, data, flags FROM open_chunks) JOIN series ON series.id = series "
                "GROUP BY key"
            )
        )
        for table in ("minute", "quarter", "minute_blocks", "quarter_blocks"):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("VACUUM")
    # Closing checkpoints the WAL into the file, which only then shrinks.
    samples = sum(len(v) for _, v in series.values())
    size = path.stat().st_size
    print(f"real metrics: {len(series)} series, {samples} samples")
    print(f"  raw tier on file (pages included): {size / samples:.2f} bytes/sample")
    groups: dict[str, list[str]] = {}
    for key in series:
        groups.setdefault("/".join(key.split("/")[:2]), []).append(key)
    for group, keys in sorted(groups.items()):
        n = sum(len(series[k][1]) for k in keys)
        print(f"  chunk blobs {group:<22} {sum(blobs[k] for k in keys) / n:5.2f} bytes/sample")


def codec_cost() -> None:
    values = [v for _, (_, vs) in sorted(real_series().items()) for v in vs]
    rng = np.random.default_rng(0)
    jitter = rng.integers(-3, 4, len(values)).tolist()
    start = time.process_time()
    chunk = OpenChunk()
    for i, value in enumerate(values):
        chunk.append(1_700_000_000_000 + 1000 * i + jitter[i], value)
        if chunk.count == 240:
            seal(chunk)
            chunk = OpenChunk()
    per_point = (time.process_time() - start) / len(values)
    print(
        f"codec: {per_point * 1e6:.2f} us to take and encode a point (240-point chunks); "
        f"500 series at 1 Hz = "
        f"{per_point * 500 * 100:.3f} % of a core"
    )


def simulate(tmp: Path, n_series: int, hours: float) -> None:
    """``n_series`` at 1 Hz for ``hours``, values taken from the real series in turn."""
    pool = [np.asarray(v) for _, (_, v) in sorted(real_series().items()) if len(v) > 500]
    rng = np.random.default_rng(1)
    keys = [f"sim/{i // 16}/{i % 16}" for i in range(n_series)]
    offsets = rng.integers(0, 1000, n_series)
    data = [pool[i % len(pool)] for i in range(n_series)]
    clock = SimulatedClock()
    path = tmp / "sim.db"
    t0 = 1_790_000_000.0
    seconds = int(hours * 3600)
    store = HistoryStore(path=path, clock=clock)
    cpu0 = time.process_time()
    for second in range(seconds):
        jitter = rng.integers(-5, 6, n_series) / 1000
        t = t0 + second
        for i, key in enumerate(keys):
            series = data[i]
            store.append(key, t + jitter[i], float(series[(offsets[i] + second) % len(series)]))
        clock.now = float(second)
        if second % 5 == 4:
            store.flush()
        if second % 3600 == 3599:
            cpu = time.process_time() - cpu0
            print(f"  hour {second // 3600 + 1}: {cpu / (second + 1) * 3600:.1f} CPU s/h so far")
    store.flush()
    cpu = time.process_time() - cpu0
    writer_cpu = thread_cpu(store._thread)
    stats = store.stats()
    store.close()
    with HistoryReader(path) as reader:
        report_sizes(reader, n_series, hours)
    per_hour = cpu / hours
    print(f"  CPU: {per_hour:.1f} s per simulated hour = {per_hour / 36:.2f} % of a core")
    print(
        f"  of which the writer thread: {writer_cpu / hours:.1f} s per simulated hour "
        f"({writer_cpu / hours / 36:.2f} % of a core); the rest is the benchmark's own loop "
        "making the points and append()"
    )
    print(f"  dropped {stats.dropped}; file {path.stat().st_size / 1e6:.1f} MB")


def report_sizes(reader: HistoryReader, n_series: int, hours: float) -> None:
    """Bytes per sample and per rollup, the file per day, and its steady state."""
    sizes = table_bytes(reader)
    with reader._borrow() as conn:
        _report_sizes(conn, sizes, n_series, hours)


def _report_sizes(
    conn: sqlite3.Connection, sizes: dict[str, int], n_series: int, hours: float
) -> None:
    samples = conn.execute("SELECT sum(count) FROM chunks").fetchone()[0]
    raw = sum(v for k, v in sizes.items() if k.startswith(("chunks", "open_chunks")))
    print(f"simulated {n_series} series at 1 Hz for {hours:g} h ({samples} samples)")
    print(f"  raw tier: {raw / samples:.2f} bytes/sample (pages and index included)")
    keep = {"minute": 30 * DAY, "quarter": 730 * DAY}
    steady = raw / samples * n_series * 2 * DAY
    day = raw / hours * 24
    for table, seconds in (("minute", 60), ("quarter", 900)):
        per_row = block_row_bytes(conn, table, sizes)
        loose = sizes[table]
        steady += per_row * n_series * keep[table] / seconds + loose
        day += per_row * n_series * DAY / seconds
        print(
            f"  {table} rollups: {per_row:.1f} bytes a packed bucket; "
            f"loose rows {loose / 1e6:.1f} MB"
        )
    print(f"  file growth per day until the tiers are full: {day / 1e6:.0f} MB")
    print(f"  steady state (raw 2d, 1-minute 30d, 15-minute 2y): {steady / 1e9:.2f} GB")


def block_row_bytes(conn: sqlite3.Connection, table: str, sizes: dict[str, int]) -> float:
    """Bytes a packed bucket takes: from the blocks written, else by packing the loose rows."""
    blocks = int(conn.execute(f"SELECT count(*) FROM {table}_blocks").fetchone()[0])
    if blocks:
        pages = sizes[f"{table}_blocks"] + sizes[f"{table}_blocks_by_series"]
        return pages / (blocks * BLOCK_ROWS[table])
    # No block is full yet: pack each series' rows as the store will (pages add ~10 %).
    packed, count = 0, 0
    for (sid,) in conn.execute("SELECT id FROM series").fetchall():
        data = np.array(
            conn.execute(
                f"SELECT t, min, max, sum, count, anomalies FROM {table} "
                "WHERE series = ? ORDER BY t",
                (sid,),
            ).fetchall(),
            dtype=np.float64,
        )
        if len(data):
            packed += len(encode_block(data)) + 30
            count += len(data)
    return 1.1 * packed / max(count, 1)


def read_month(tmp: Path, days: int) -> None:
    clock = SimulatedClock()
    path = tmp / "month.db"
    t0 = 1_790_000_000.0
    rng = np.random.default_rng(2)
    values = (50 + 10 * np.sin(np.arange(days * 86400) / 86400 * 2 * np.pi)).round(1)
    values += rng.integers(0, 5, values.size) / 10
    with HistoryStore(path=path, clock=clock) as store:
        for second, value in enumerate(values.tolist()):
            store.append("system/cpu/total", t0 + second, value)
            if second % 3600 == 0:
                clock.now = float(second)
                store.flush()
    with HistoryStore(path=path) as store:
        until = t0 + days * 86400
        for tier in (Tier.MINUTE, Tier.QUARTER):
            runs, cpu, count = [], [], 0
            for _ in range(5):
                start, start_cpu = time.perf_counter(), time.process_time()
                count = len(store.points("system/cpu/total", until - days * 86400, until, tier))
                runs.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            ms, cpu_ms = statistics.median(runs) * 1000, statistics.median(cpu) * 1000
            print(
                f"read {days} days at the {tier.name.lower()} tier: {count} points in {ms:.1f} ms "
                f"({cpu_ms:.1f} ms of CPU)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=500)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        compression(Path(tmp))
        codec_cost()
        read_month(Path(tmp), args.days)
        if args.hours > 0:
            simulate(Path(tmp), args.series, args.hours)


if __name__ == "__main__":
    main()
