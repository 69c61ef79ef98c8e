"""Measures what judging its series costs the engine per poll, in CPU time of this process.

    .venv/bin/python benchmarks/engine_judging.py [--series 500 10000] [--polls 20]

For each count of series: one source whose every poll brings that many values, fed to a real
``Engine`` (no history file, no threads: ``ingest`` as a collector's thread calls it). After 40
polls (``auto`` judges nothing during its warm-up of 30 points), the median CPU time of one
``ingest`` over ``--polls`` polls, first with every series on ``auto``, then on ``nothing`` (a
detector, registered here, whose verdict is always ``QUIET``): the difference is what judging
with ``auto`` costs per poll; the rest is the engine's own bookkeeping (series, states).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.base import Batch, Reading
from detectors.base import QUIET, Verdict, register
from engine.config_reader import parse
from engine.engine import Engine

WARMUP = 40
"""Polls before the measured ones: past ``auto``'s warm-up, so its verdicts are all built."""


@register("nothing", "streaming", "no opinion on any point (a benchmark's baseline)")
class Nothing:
    """A detector that costs only its call."""

    def update(self, t: float, x: float) -> Verdict:
        """Say nothing."""
        return QUIET


def polls(series: int, count: int, seed: int = 0) -> list[Batch]:
    """``count`` polls of one source, each with a value of every series, a minute apart."""
    rng = np.random.default_rng(seed)
    keys = [f"bench/host{i // 20}/m{i % 20}" for i in range(series)]
    levels = rng.uniform(0, 100, series)
    out = []
    for p in range(count):
        t = 1.7e9 + 60.0 * p
        values = (levels + rng.normal(0, 1, series)).tolist()
        out.append(
            Batch("bench", tuple(Reading(k, v, "", t) for k, v in zip(keys, values, strict=True)))
        )
    return out


def ingest_cpu(detector: str, batches: list[Batch]) -> float:
    """Median CPU milliseconds of one ``Engine.ingest`` after the warm-up polls."""
    engine = Engine(parse(f'[detectors]\ndefault = "{detector}"\n'))
    times = []
    for i, batch in enumerate(batches):
        start = time.process_time()
        engine.ingest(batch)
        if i >= WARMUP:
            times.append(time.process_time() - start)
    return statistics.median(times) * 1e3


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print them."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", type=int, nargs="+", default=[500, 10000])
    ap.add_argument("--polls", type=int, default=20)
    args = ap.parse_args(argv)
    print("CPU ms per poll of one source (Engine.ingest, median)")
    print(f"  {'series':>7} {'auto':>9} {'nothing':>9} {'auto costs':>10}")
    for n in args.series:
        batches = polls(n, WARMUP + args.polls)
        auto = ingest_cpu("auto", batches)
        base = ingest_cpu("nothing", batches)
        print(f"  {n:>7} {auto:>9.2f} {base:>9.2f} {auto - base:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
