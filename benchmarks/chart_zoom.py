"""Measures the detail chart zoomed over 30 days, and prints the figures.

    .venv/bin/python benchmarks/chart_zoom.py [--days 30] [--width 120] [--runs 7] [--keep FILE]

A real history file is filled through the store with one series at 1 Hz for ``--days`` days
(2.6 million points for 30, with their 1-minute and 15-minute rollups; ``--keep`` keeps the
file and reuses it next time). Then the chart's 30-day span goes from nothing to its first
draw the way the screen's worker does it (``tui.zoom.draw_span``: the tier chosen, the
1-minute rollups read and merged into buckets, Holt-Winters and S-H-ESD over them, plotext's
build), median of ``--runs``:

- embedded: the engine's own archive reads the file;
- attached: a real ``gongwatch daemon`` on that file answers over its socket (the screen's
  view keeps its connection from the moment it attaches; the first run here makes it).

The first run of each, in a fresh process, also pays for the imports; it is printed apart.

Target: under 100 ms to the first draw. Wall-clock figures depend on the load of the machine;
the CPU time of this process is printed beside them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.client import RemoteEngineView
from engine.config import Config
from engine.config_reader import parse
from engine.daemon.status import fetch_status
from engine.history import HistoryStore
from engine.runtime import Runtime
from tui.chart import analyse
from tui.zoom import FORECAST_SHARE, ZOOMS, chart_points, draw_span

ROOT = Path(__file__).resolve().parents[1]
KEY = "system/cpu/total"
DAY = 86400.0
QUIET = "[collectors.system]\nenabled = false\n[collectors.sensors]\nenabled = false\n" \
        "[collectors.smart]\nenabled = false\n"  # fmt: skip


class SimulatedClock:
    """A monotonic clock the fill moves, so the store flushes as it would in real time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fill(path: Path, days: int, end: float) -> None:
    """One series at 1 Hz for ``days`` days ending at ``end``, through the store."""
    rng = np.random.default_rng(2)
    t0 = end - days * DAY
    values = 50 + 10 * np.sin(np.arange(int(days * DAY)) / DAY * 2 * np.pi)
    values = (values + rng.normal(0, 1, values.size)).round(1)
    clock = SimulatedClock()
    start = time.perf_counter()
    with HistoryStore(path=path, clock=clock) as store:
        for second, value in enumerate(values.tolist()):
            store.append(KEY, t0 + second, value)
            if second % 3600 == 0:
                clock.now = float(second)
                store.flush()
    took = time.perf_counter() - start
    print(f"filled {days} days at 1 Hz ({values.size} points) in {took:.0f} s")


def measure(name: str, run: Callable[[], object], runs: int) -> None:
    """Print the median wall-clock and CPU milliseconds of ``run``, and the first run's."""
    wall = time.perf_counter()
    run()  # the first pays for imports, plotext's set-up and the connection
    first = (time.perf_counter() - wall) * 1000
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    wall_ms, cpu_ms = statistics.median(walls) * 1000, statistics.median(cpus) * 1000
    print(f"  {name:<44} {wall_ms:7.1f} ms  ({cpu_ms:.1f} ms of CPU here; first {first:.0f} ms)")


def embedded(path: Path, end: float, size: tuple[int, int], runs: int) -> None:
    zoom = ZOOMS[-1]
    config = parse(f'{QUIET}[history]\npath = "{path}"\n', "bench.toml")
    runtime = Runtime(config, collectors=[], history=True, lock_ports=False)
    try:
        span = runtime.span(KEY, end - zoom.seconds, end, chart_points(size[0]))
        print(f"30 days at {size[0]} columns: {len(span)} points of the {span.tier} tier, "
              f"{span.step:g}-second buckets")  # fmt: skip
        print("embedded:")
        read = lambda: runtime.span(KEY, end - zoom.seconds, end, chart_points(size[0]))  # noqa: E731
        measure("read (tier, rollups, buckets)", read, runs)
        hist = span.history()
        horizon = int(len(span) * FORECAST_SHARE)
        measure("Holt-Winters and S-H-ESD", lambda: analyse(hist, "shesd", horizon), runs)
        draw = lambda: draw_span(runtime, KEY, zoom, end, size, title=KEY)  # noqa: E731
        measure("first draw (read + analysis + plotext)", draw, runs)
    finally:
        runtime.stop()


def attached(path: Path, end: float, size: tuple[int, int], runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="gw-") as tmp:
        socket = Path(tmp) / "gongwatch.sock"
        config_path = Path(tmp) / "config.toml"
        text = f'[daemon]\nsocket = "{socket}"\n{QUIET}[history]\npath = "{path}"\n'
        config_path.write_text(text)
        argv = [sys.executable, "-m", "engine.cli", "--config", str(config_path), "daemon"]
        env = {"XDG_RUNTIME_DIR": tmp, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
        daemon = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            config = Config(daemon_socket=str(socket))
            deadline = time.monotonic() + 30
            while fetch_status(config, timeout=1.0) is None:
                if time.monotonic() > deadline or daemon.poll() is not None:
                    raise SystemExit("the daemon did not start")
                time.sleep(0.1)
            view = RemoteEngineView.attach(socket, config)
            assert view is not None
            print(f"attached to a daemon (pid {daemon.pid}):")
            draw = lambda: draw_span(view, KEY, ZOOMS[-1], end, size, title=KEY)  # noqa: E731
            measure("first draw (ask the daemon + analysis + plotext)", draw, runs)
        finally:
            daemon.terminate()
            daemon.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--width", type=int, default=120)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="history file to keep and reuse")
    args = parser.parse_args()
    size = (args.width, 34)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "month.db"
        if not path.exists():
            fill(path, args.days, time.time())
        with HistoryStore(path=path) as store:
            end = max(p.time for p in store.recent(KEY, 1)) + 1
        embedded(path, end, size, args.runs)
        attached(path, end, size, args.runs)


if __name__ == "__main__":
    main()
