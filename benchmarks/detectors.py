"""Measures what the detectors cost and prints the figures.

    .venv/bin/python benchmarks/detectors.py [--points 20000] [--series 10000]

- per point: each streaming detector's ``update`` over a synthetic minute series with daily
  seasonality and noise (median of three runs);
- per point and per tick in CPU time of this process, so that other work on a shared machine
  does not inflate them (wall time for the batch detectors);
- one tick of ``AutoBank`` over ``--series`` series (median over 50 ticks, after warm-up), and
  the bytes of state it keeps per series;
- S-H-ESD on 14,400 one-minute points with a daily period (1440), max_anoms 0.10, both tails;
- EDM (multi) on 1,000 points.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import detectors
from detectors.auto_bank import AutoBank, bytes_per_series
from detectors.edm import breakout
from detectors.gaussian import MultiGaussian
from detectors.shesd import shesd_indices


def minute_series(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A daily-seasonal one-minute series with noise and a few spikes."""
    rng = np.random.default_rng(seed)
    t = 1.7e9 + 60.0 * np.arange(n)
    x = 100 + 20 * np.sin(2 * np.pi * t / 86400) + rng.normal(0, 3, n)
    x[rng.integers(0, n, max(1, n // 500))] += 40
    return t, x


def per_point(name: str, t: list[float], x: list[float]) -> float:
    """Microseconds per ``update`` of a fresh detector over the whole series."""
    runs = []
    for _ in range(3):
        det = detectors.create(name)
        update = det.update
        start = time.process_time()
        for a, b in zip(t, x, strict=True):
            update(a, b)
        runs.append((time.process_time() - start) / len(t) * 1e6)
    return statistics.median(runs)


def multi_gaussian_per_point(t: list[float], n_dims: int = 5) -> float:
    """Microseconds per ``MultiGaussian.update`` over ``n_dims`` series."""
    rng = np.random.default_rng(1)
    xs = rng.normal(0, 1, (len(t), n_dims))
    det = MultiGaussian(n_dims)
    start = time.process_time()
    for a, row in zip(t, xs, strict=True):
        det.update(a, row)
    return (time.process_time() - start) / len(t) * 1e6


def bank_tick(series: int) -> float:
    """Milliseconds per tick of ``AutoBank`` over ``series`` series."""
    rng = np.random.default_rng(2)
    bank = AutoBank(series)
    for i in range(bank.params.warmup + 10):
        bank.update(float(i), rng.normal(0, 1, series))
    ticks = [rng.normal(0, 1, series) for _ in range(50)]
    times = []
    for i, row in enumerate(ticks):
        start = time.process_time()
        bank.update(float(1000 + i), row)
        times.append(time.process_time() - start)
    return statistics.median(times) * 1e3


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    """Best wall time of ``fn()`` over ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print them."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=20000)
    ap.add_argument("--series", type=int, default=10000)
    args = ap.parse_args(argv)
    t, x = minute_series(args.points)
    tl, xl = t.tolist(), x.tolist()
    print(f"streaming detectors, {args.points} one-minute points")
    print(f"  {'detector':<14} {'us/point':>9}")
    for name in detectors.names("streaming"):
        print(f"  {name:<14} {per_point(name, tl, xl):>9.1f}")
    print(f"  {'multigaussian5':<14} {multi_gaussian_per_point(tl):>9.1f}")
    print(f"AutoBank, one tick over {args.series} series: {bank_tick(args.series):.2f} ms")
    print(f"auto state per series in a bank: {bytes_per_series()} bytes")
    _, xs = minute_series(14400, seed=3)
    secs = timed(lambda: shesd_indices(xs, 1440, 0.10, "both"))
    found = len(shesd_indices(xs, 1440, 0.10, "both"))
    print(f"S-H-ESD, 14400 points, period 1440: {secs * 1e3:.0f} ms ({found} anomalies)")
    _, xe = minute_series(1000, seed=4)
    xe[500:] += 30
    secs = timed(lambda: breakout(xe, 30, "multi"), repeat=1)
    print(f"EDM multi, 1000 points: {secs * 1e3:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
