"""RRD files as collectd writes them, made by Debian's rrdtool for the import tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

STEP = 10
END = 1_790_000_000
"""Time of the last update (a multiple of the step, and of every archive's row width)."""
DAY = 86_400
ARCHIVES = ((1, 1200), (7, 1234), (50, 1210))
"""collectd's default archives at a 10 s step: 200 min at 10 s, 1 day at 70 s, 1 week at 500 s."""
SPIKE = (END - 1800, END - 1680)
"""Two minutes, half an hour before the end: inside the finest archive."""


def in_spike(t: np.ndarray) -> np.ndarray:
    """Whether each time falls in the anomaly."""
    return (t >= SPIKE[0]) & (t < SPIKE[1])


def create(
    rrdtool: str,
    path: Path,
    sources: Sequence[str],
    start: int = END - DAY,
    archives: Sequence[tuple[int, int]] = ARCHIVES,
    functions: Sequence[str] = ("AVERAGE", "MIN", "MAX"),
) -> Path:
    """``rrdtool create`` a file with GAUGE data sources and collectd's archives."""
    path.parent.mkdir(parents=True, exist_ok=True)
    argv = [rrdtool, "create", str(path), "--step", str(STEP), "--start", str(start - STEP)]
    argv += [f"DS:{name}:GAUGE:{2 * STEP}:U:U" for name in sources]
    argv += [f"RRA:{cf}:0.1:{pdp}:{rows}" for cf in functions for pdp, rows in archives]
    subprocess.run(argv, check=True, capture_output=True, timeout=30)
    return path


def update(
    rrdtool: str,
    path: Path,
    series: Callable[[np.ndarray], Sequence[np.ndarray]],
    start: int = END - DAY,
    end: int = END,
) -> np.ndarray:
    """``rrdtool update`` one value per data source every step from ``start`` to ``end``.

    Returns:
        The times updated.
    """
    t = np.arange(start, end + 1, STEP)
    columns = series(t)
    lines = [f"{ti}:" + ":".join(f"{c[i]:.6g}" for c in columns) for i, ti in enumerate(t.tolist())]
    for i in range(0, len(lines), 2000):  # keep each command line a reasonable length
        subprocess.run(
            [rrdtool, "update", str(path), *lines[i : i + 2000]],
            check=True,
            capture_output=True,
            timeout=60,
        )
    return t


def machine(rrdtool: str, root: Path, host: str = "web1", seed: int = 7) -> list[Path]:
    """A day of one machine's collectd files with an anomaly at ``SPIKE``: the load jumps to 8
    and zombies appear, while memory and running processes stay as they were.

    Returns:
        The RRD files made.
    """
    rng = np.random.default_rng(seed)
    base = root / host
    load = create(rrdtool, base / "load" / "load.rrd", ["shortterm", "midterm", "longterm"])

    def load_series(t: np.ndarray) -> list[np.ndarray]:
        short = np.where(in_spike(t), 8.0, 0.5) + rng.normal(0, 0.05, len(t))
        return [short, short * 0.8 + 0.1, short * 0.5 + 0.25]

    update(rrdtool, load, load_series)
    memory = create(rrdtool, base / "memory" / "memory-used.rrd", ["value"])
    update(rrdtool, memory, lambda t: [2e9 + rng.normal(0, 1e7, len(t))])
    running = create(rrdtool, base / "processes" / "ps_state-running.rrd", ["value"])
    update(rrdtool, running, lambda t: [rng.integers(1, 4, len(t)).astype(float)])
    zombies = create(rrdtool, base / "processes" / "ps_state-zombies.rrd", ["value"])
    update(rrdtool, zombies, lambda t: [np.where(in_spike(t), 3.0, 0.0)])
    return [load, memory, running, zombies]
