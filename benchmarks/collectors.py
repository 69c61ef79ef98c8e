"""Measures what one poll of many sensors costs: 20 chips of about 20 sensors each (copies of the
real nct6775 layout at 20 ISA addresses) on a fake hwmon tree, read through sysfs and through
libsensors, and what the engine then spends on judging and storing those readings.

    .venv/bin/python benchmarks/collectors.py [--chips 20] [--polls 200]

The sysfs figures need nothing special (the tree lives in a temporary folder). libsensors
reads /sys/class/hwmon only, so its figures need root and ``unshare`` (a private mount
namespace with a tmpfs over /sys/class, as the tests use); without them that line says why.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fake tree's builder lives in tests/hardware_fakes

from collectors.base import Batch  # noqa: E402
from collectors.sensors import SensorsCollector  # noqa: E402
from engine import Engine  # noqa: E402
from engine.config_reader import parse  # noqa: E402
from tests.hardware_fakes import hwmon_tree  # noqa: E402


def build_tree(base: str, chips: int) -> str:
    """Create ``chips`` nct6775 chips at distinct ISA addresses under ``base``; return the
    hwmon class directory."""
    for i in range(chips):
        hwmon_tree.add_chip(
            "nct6775", base, hwmon=10 + i, device=f"platform/nct6775.{656 + 16 * i}"
        )
    return os.path.join(base, "hwmon")


def time_polls(collector: SensorsCollector, polls: int) -> dict[str, Any]:
    """Poll ``polls`` times after one warm-up poll; return the readings and the cost per poll."""
    first = collector.poll()
    assert not first.errors, first.errors
    walls, cpus = [], []
    batches = []
    for _ in range(polls):
        w, c = time.perf_counter(), time.process_time()
        batches.append(collector.poll())
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return {
        "readings": len(first.readings),
        "wall_ms": 1e3 * statistics.median(walls),
        "cpu_ms": 1e3 * sum(cpus) / polls,
        "batches": batches,
    }


def line(name: str, got: dict[str, Any]) -> str:
    """One line of figures for a poll measurement."""
    per = 1e3 * got["cpu_ms"] / max(1, got["readings"])
    return (
        f"{name:<28} {got['readings']:4d} readings  CPU {got['cpu_ms']:6.2f} ms/poll "
        f"({per:4.1f} us/reading)  wall {got['wall_ms']:6.2f} ms/poll (median)"
    )


def engine_cost(batches: list[Batch], detector: str, passes: int = 3) -> tuple[float, list[int]]:
    """Return the CPU ms per ingest of one poll's batch with every metric judged by
    ``detector``, and how much memory (KiB) each pass over the batches added after the timed
    one: it levels off once the detectors' windows are full."""
    engine = Engine(parse(f'[detectors]\ndefault = "{detector}"\n'))
    start = time.process_time()
    for b in batches:
        engine.ingest(b)
    took = (time.process_time() - start) / len(batches)
    # tracemalloc slows everything down: it is only on after the timed pass.
    tracemalloc.start()
    growth = []
    for _ in range(passes):
        before = tracemalloc.get_traced_memory()[0]
        for b in batches:
            engine.ingest(b)
        growth.append(round((tracemalloc.get_traced_memory()[0] - before) / 1024))
    tracemalloc.stop()
    return 1e3 * took, growth


def inside_namespace(chips: int, polls: int) -> None:
    """Runs in a private mount namespace: a tmpfs over /sys/class, the tree, libsensors."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "benchsys", "/sys/class"], check=True)
    os.makedirs("/etc/sensors.d", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "benchconf", "/etc/sensors.d"], check=True)
    os.makedirs("/sys/class/hwmon")
    build_tree(hwmon_tree.CLASS, chips)
    collector = SensorsCollector(use_libsensors=True)
    if collector.backend != "libsensors":
        print(json.dumps({"skipped": collector.why_fallback}))
        return
    got = time_polls(collector, polls)
    collector.close()
    del got["batches"]
    print(json.dumps(got))


def libsensors_line(chips: int, polls: int) -> str:
    """Measure libsensors in a namespace of its own, or say why it cannot be measured here."""
    name = "sensors through libsensors"
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return f"{name:<28} skipped: needs root and unshare (a fake /sys/class)"
    argv = ["unshare", "-m", "--propagation", "private", sys.executable, __file__]
    argv += ["--inside-namespace", "--chips", str(chips), "--polls", str(polls)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    if out.returncode != 0:
        return f"{name:<28} failed: {out.stderr.strip().splitlines()[-1:]}"
    got = json.loads(out.stdout.strip().splitlines()[-1])
    if "skipped" in got:
        return f"{name:<28} skipped: {got['skipped']}"
    return line(name, got)


def main(argv: list[str] | None = None) -> int:
    """Print the cost of one poll of the sensors and of the engine's work on it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chips", type=int, default=20, help="nct6775 chips (about 20 sensors each)")
    ap.add_argument("--polls", type=int, default=200, help="polls measured")
    ap.add_argument("--inside-namespace", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.inside_namespace:
        inside_namespace(args.chips, args.polls)
        return 0
    print(f"{args.chips} chips, {args.polls} polls, CPU {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        sysfs = SensorsCollector(root=build_tree(tmp, args.chips), use_libsensors=False)
        got = time_polls(sysfs, args.polls)
    print(line("sensors through sysfs", got))
    print(libsensors_line(args.chips, args.polls))
    for detector in ("auto", "limits"):
        ms, growth = engine_cost(got["batches"], detector)
        grown = ", ".join(f"{g:+d}" for g in growth)
        print(
            f"{'engine ingest, ' + detector:<28} {got['readings']:4d} readings  "
            f"CPU {ms:6.2f} ms/poll  memory KiB added by each further {args.polls} polls: {grown}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
