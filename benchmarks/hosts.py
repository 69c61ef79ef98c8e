"""Measures what watching many hosts through Prometheus costs: one poll of a
``[[sources.prometheus]]`` source (both queries, parsing, the readings) and the engine's work on
its batch (detectors on every series), against Debian's Prometheus scraping a real node exporter
(its default collectors) under many instance names, as if it were that many hosts.

    .venv/bin/python benchmarks/hosts.py [--hosts 4] [--polls 10] [--max-series 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.prometheus import PrometheusCollector  # noqa: E402
from engine.config import Config  # noqa: E402
from engine.engine import Engine  # noqa: E402
from tests.prometheus_servers import Process, free_port, get, wait_for  # noqa: E402


def start(workdir: Path, hosts: int) -> tuple[Process, Process, str]:
    """Start a node exporter and a Prometheus scraping it as ``hosts`` instances."""
    node_port = free_port()
    node = Process(
        ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{node_port}"],
        workdir / "node.log",
    )
    wait_for("node exporter", lambda: get(f"http://127.0.0.1:{node_port}/metrics") and True)
    statics = [
        {"targets": [f"127.0.0.1:{node_port}"], "labels": {"instance": f"host{i}:9100"}}
        for i in range(hosts)
    ]
    config = workdir / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
        f"  - job_name: node\n    static_configs: {json.dumps(statics)}\n"
    )
    port = free_port()
    prom = Process(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        workdir / "prometheus.log",
    )
    url = f"http://127.0.0.1:{port}"
    wait_for("prometheus", lambda: get(f"{url}/-/ready") and True, 30.0)
    return node, prom, url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=4)
    ap.add_argument("--polls", type=int, default=10)
    ap.add_argument("--max-series", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        node, prom, url = start(Path(tmp), args.hosts)
        try:
            collector = PrometheusCollector(
                "bench", url, '{job="node"}', max_series=args.max_series
            )
            wait_for(
                "every host scraped",
                lambda: (
                    sum(r.value == 1 for r in collector.poll().readings if r.key.endswith("/up"))
                    == args.hosts
                    or None
                ),
                30.0,
            )
            engine = Engine(Config(), [collector])
            polls, ingests = [], []
            for _ in range(args.polls):
                t0 = time.perf_counter()
                batch = collector.poll()
                t1 = time.perf_counter()
                engine.ingest(batch)
                polls.append(t1 - t0)
                ingests.append(time.perf_counter() - t1)
        finally:
            prom.stop()
            node.stop()
    print(f"hosts: {args.hosts}, readings per poll: {len(batch.readings)}, errors: {batch.errors}")
    print(f"poll (two queries, parse, readings): median {statistics.median(polls) * 1e3:.1f} ms")
    print(f"engine ingest (detectors on each):   median {statistics.median(ingests) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
