"""Measures what judging its series costs the engine per poll, in CPU time of this process.

    .venv/bin/python benchmarks/engine_judging.py [--series 500 10000] [--polls 20] [--warm 1000]

For each count of series: one source whose every poll brings that many values, fed to a real
``Engine`` (no history file, no threads: ``ingest`` as a collector's thread calls it). After 40
polls (``auto`` judges nothing during its warm-up of 30 points), the median CPU time of one
``ingest`` over ``--polls`` polls, first with every series on ``auto``, then on ``nothing`` (a
detector, registered here, whose verdict is always ``QUIET``): the difference is what judging
with ``auto`` costs per poll; the rest is the engine's own bookkeeping (series, states).

Then the warm start of ``--warm`` new series (their ``WARM_POINTS`` stored points each,
replayed before their first verdict, as after a restart): CPU seconds in one bank
(``AutoRows.warm``, a group at a time, as the engine does it), and with one ``Auto`` per
series (measured on 50 of them, scaled), as the engine did it before banks.
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
from detectors.auto import Auto
from detectors.auto_rows import AutoRows
from detectors.base import QUIET, Verdict, register
from engine.config_reader import parse
from engine.engine import Engine
from engine.remember import WARM_GROUP, WARM_POINTS

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


def warm_cpu(series: int) -> tuple[float, float]:
    """CPU seconds to warm ``series`` new series: in a bank (a group at a time, as the engine
    does), and with one ``Auto`` each (measured on 50, scaled)."""
    rng = np.random.default_rng(3)
    t = 1.7e9 + 15.0 * np.arange(WARM_POINTS)
    past = {f"s{i}": (t, rng.normal(50, 5, WARM_POINTS)) for i in range(series)}
    rows = AutoRows()
    rows.add(past)
    names = list(past)
    start = time.process_time()
    for g in range(0, series, WARM_GROUP):
        rows.warm({n: past[n] for n in names[g : g + WARM_GROUP]})
    bank = time.process_time() - start
    sample = names[:50]
    start = time.process_time()
    for n in sample:
        det = Auto()
        for a, b in zip(past[n][0].tolist(), past[n][1].tolist(), strict=True):
            det.update(a, b)
    return bank, (time.process_time() - start) * series / len(sample)


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print them."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", type=int, nargs="+", default=[500, 10000])
    ap.add_argument("--polls", type=int, default=20)
    ap.add_argument("--warm", type=int, default=1000)
    args = ap.parse_args(argv)
    print("CPU ms per poll of one source (Engine.ingest, median)")
    print(f"  {'series':>7} {'auto':>9} {'nothing':>9} {'auto costs':>10}")
    for n in args.series:
        batches = polls(n, WARMUP + args.polls)
        auto = ingest_cpu("auto", batches)
        base = ingest_cpu("nothing", batches)
        print(f"  {n:>7} {auto:>9.2f} {base:>9.2f} {auto - base:>10.2f}")
    if args.warm:
        bank, single = warm_cpu(args.warm)
        print(f"warm start of {args.warm} series, {WARM_POINTS} points each, CPU seconds:")
        print(f"  in a bank {bank:.2f}, one auto each {single:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
