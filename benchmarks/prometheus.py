"""Measures what one Prometheus scrape costs the engine with 500 metrics: building the text
in-process (a fresh snapshot each scrape, and an unchanged one), and a whole HTTP scrape of
the running exporter on 127.0.0.1.

The 500 metrics are hardware sensors with limits, disk attributes, remote checks and other
numbers, as a busy machine would have; each also exports its anomaly score and flag.

    .venv/bin/python benchmarks/prometheus.py [--metrics 500] [--scrapes 200]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from prometheus_client import generate_latest  # noqa: E402

from collectors.base import Batch, Reading  # noqa: E402
from engine.config_reader import parse  # noqa: E402
from engine.engine import Engine  # noqa: E402
from engine.exporters.prometheus import PrometheusExporter  # noqa: E402


def readings(count: int, t: float) -> tuple[Reading, ...]:
    """Return ``count`` readings across the families the exporter names."""
    kinds = [
        lambda i: Reading(f"sensors/chip{i % 7}-isa-0000/temp{i}", 40 + i % 9, "°C", t,
                          high=80.0, crit=95.0),
        lambda i: Reading(f"sensors/chip{i % 7}-isa-0290/fan{i}", 1000 + i, "RPM", t, low=300.0),
        lambda i: Reading(f"disk/sd{i % 26}/smart/{i}_Attribute_{i}", float(i), "", t),
        lambda i: Reading(f"remote/service{i % 13}/loc{i}/time", 0.1 + i / 1000, "s", t),
        lambda i: Reading(f"statsd/app.requests{i}/count", float(i), "", t),
    ]  # fmt: skip
    return tuple(kinds[i % len(kinds)](i) for i in range(count))


def main() -> None:
    """Fill an engine with ``--metrics`` metrics and time ``--scrapes`` scrapes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=500)
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine = Engine(parse(f'[prometheus]\nlisten = "127.0.0.1:{port}"\n[detectors]\n'
                          'default = "robust_z"'))  # fmt: skip
    for n in range(30):  # enough points for the detectors to have an opinion
        engine.ingest(Batch("bench", readings(args.metrics, time.time() + n)))
    exporter = engine.exporters.get("prometheus")
    assert isinstance(exporter, PrometheusExporter)
    engine.start()
    try:
        text = generate_latest(exporter.registry)
        samples = sum(1 for line in text.splitlines() if not line.startswith(b"#"))
        print(f"{args.metrics} metrics -> {samples} samples, {len(text) / 1024:.0f} KiB a scrape")
        print(f"{'ms per scrape':<34} {'wall':>7} {'CPU':>7}")
        fresh = timed(args.scrapes, lambda: (engine.ingest(Batch("bench")),
                                             generate_latest(exporter.registry)))  # fmt: skip
        ingest = timed(args.scrapes, lambda: engine.ingest(Batch("bench")))
        show("text, new snapshot each scrape", fresh[0] - ingest[0], fresh[1] - ingest[1])
        same = timed(args.scrapes, lambda: generate_latest(exporter.registry))
        show("text, unchanged snapshot", *same)
        with httpx.Client() as client:
            url = f"http://127.0.0.1:{port}/metrics"
            http = timed(args.scrapes, lambda: client.get(url).raise_for_status())
        show("HTTP GET /metrics (both ends)", *http)
        print("load average: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    finally:
        engine.stop()


def show(name: str, wall: float, cpu: float) -> None:
    """Print one line of figures."""
    print(f"{name:<34} {wall:7.2f} {cpu:7.2f}")


def timed(runs: int, call: object) -> tuple[float, float]:
    """Return the mean milliseconds of ``runs`` calls: wall time, and this process's CPU time
    (the figure that holds on a busy machine; the HTTP server's thread is in this process)."""
    assert callable(call)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(runs):
        call()
    wall = (time.perf_counter() - start) * 1000 / runs
    return wall, (time.process_time() - cpu) * 1000 / runs


if __name__ == "__main__":
    main()
