"""Measures the backfill of a ``[[sources.prometheus]]`` source: one ``query_range`` of every
series' recent past (its time and CPU, the points, the memory it takes) and the engine's work
feeding it to a detector per series, against Debian's Prometheus scraping a real node exporter
(its default collectors) under many instance names, as if it were that many hosts.

    .venv/bin/python benchmarks/backfill.py [--hosts 4] [--wait 60] [--max-series 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.hosts import start  # noqa: E402
from collectors.prometheus import PrometheusCollector  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.engine import Engine  # noqa: E402
from tests.prometheus_servers import wait_for  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=4)
    ap.add_argument("--wait", type=float, default=60.0, help="seconds of past to let build up")
    ap.add_argument("--max-series", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        node, prom, url = start(Path(tmp), args.hosts)
        try:
            collector = PrometheusCollector(
                "bench", url, '{job="node"}', interval=1.0, max_series=args.max_series
            )
            wait_for("every host scraped", lambda: sum(
                r.value == 1 for r in collector.poll().readings if r.key.endswith("/up")
            ) == args.hosts or None, 30.0)  # fmt: skip
            time.sleep(args.wait)
            engine = Engine(Config(), [collector])
            engine.ingest(collector.poll())
            # Times first, then the same again under tracemalloc (which slows what it traces).
            wall, cpu = time.perf_counter(), time.process_time()
            past = collector.backfill()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            feed = time.process_time()
            engine.backfills._feed(collector.name, past.series)
            feed = time.process_time() - feed
            tracemalloc.start()
            again = collector.backfill()
            _, read_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            other = Engine(Config(), [collector])
            other.backfills._feed(collector.name, again.series)
            _, feed_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            prom.stop()
            node.stop()
    longest = max((len(p) for p in past.series.values()), default=0)
    print(f"hosts: {args.hosts}, series: {len(past.series):,}, points: {past.points:,} "
          f"(at most {longest} a series), error: {past.error}")  # fmt: skip
    print(f"query_range (ask, parse, keep): {wall * 1e3:.0f} ms wall, {cpu * 1e3:.0f} ms CPU, "
          f"peak {read_peak / 2**20:.1f} MiB traced")  # fmt: skip
    print(f"feeding the detectors and series:  {feed * 1e3:.0f} ms CPU, "
          f"peak {feed_peak / 2**20:.1f} MiB traced")  # fmt: skip


if __name__ == "__main__":
    main()
