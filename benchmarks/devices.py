"""Measures how long the device commands take: ``gongwatch ports`` on one silent pty and on
one pty with the emulated gong, and ``gongwatch send --timeout 1`` to the silent one.

Each runs the real command line in a fresh process (interpreter start included), with the
emulator of ``tests/emulator.py`` on a pseudo terminal; the ports the system lists are probed
too, at the same time, as a user would see it.

    .venv/bin/python benchmarks/devices.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.serial_link import PROBE_TIMEOUT, discover  # noqa: E402
from tests.emulator import EmulatedDevice  # noqa: E402


def timed(args: list[str]) -> tuple[float, str]:
    """Run ``gongwatch ARGS``; return the wall time and its last output line."""
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "tui", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    took = time.monotonic() - start
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return took, lines[-1] if lines else ""


def report(name: str, args: list[str], runs: int) -> None:
    """Print the median and the worst of ``runs`` runs of one command."""
    times, last = [], ""
    for _ in range(runs):
        took, last = timed(args)
        times.append(took)
    print(f"{name:<36} median {statistics.median(times):5.2f} s   max {max(times):5.2f} s")
    print(f"{'':<36} {last}")


def main() -> None:
    """Run each command ``--runs`` times and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "tui", "--version"], cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    print(f"{'gongwatch --version (start-up)':<36} {time.monotonic() - start:5.2f} s")
    with EmulatedDevice("gong", silent=True) as silent, EmulatedDevice("gong") as gong:
        report("ports, one silent pty", ["ports", silent.port], runs)
        report("ports, one emulated gong", ["ports", gong.port], runs)
        send = ["send", silent.port, "gong", "--timeout", "1"]
        report("send --timeout 1, silent pty", send, runs)
        for name, port in (("silent pty", silent.port), ("emulated gong", gong.port)):
            start = time.monotonic()
            found = discover([port], timeout=PROBE_TIMEOUT)
            took = time.monotonic() - start
            print(f"{'in process, discover, ' + name:<36} {took:5.2f} s   ({len(found)} ports)")


if __name__ == "__main__":
    main()
