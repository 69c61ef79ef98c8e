"""Measures ``gongwatch import`` of collectd RRD files and ``gongwatch replay`` over them.

    .venv/bin/python benchmarks/imports.py [--hosts 4]

Makes a day of collectd files per host with Debian's rrdtool (load, memory, running
processes, zombies: 6 series, 10 s step, collectd's archives), then prints the wall and CPU
time of importing them all into a new history file (``rrdtool dump`` children included), of
importing them again (nothing new), and of replaying every series with ``gaussian`` and every
machine with ``gaussian-machine``.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.history import HistoryReader, Tier
from engine.imports.cli import cmd_import
from engine.replay_cli import cmd_replay
from tests.engine import rrd_files


def timed(what: str, call: Callable[[], object]) -> None:
    """Run ``call`` and print its wall time and the CPU time of this process and its children."""
    wall, cpu = time.perf_counter(), _cpu()
    call()
    print(f"{what}: {time.perf_counter() - wall:.2f} s wall, {_cpu() - cpu:.2f} s CPU")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    """Make the files, then print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=4)
    args = parser.parse_args()
    rrdtool = shutil.which("rrdtool")
    if rrdtool is None:
        sys.exit("rrdtool is not installed (apt-get install rrdtool)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = [
            f for h in range(args.hosts) for f in rrd_files.machine(rrdtool, root, f"host{h}", h)
        ]
        db = root / "h.db"
        quiet = io.StringIO()
        timed(f"import {len(files)} RRD files", lambda: cmd_import(db, files, out=quiet))
        with HistoryReader(db) as reader:
            keys = reader.keys()
            points = sum(len(reader.points(k, 0, rrd_files.END + 1, Tier.RAW)) for k in keys)
        print(f"  {len(keys)} series, {points} points, file {db.stat().st_size / 1024:.0f} KiB")
        timed("import them again", lambda: cmd_import(db, files, out=quiet))
        timed(f"replay {len(keys)} series, gaussian", lambda: cmd_replay(db, out=quiet))
        timed(
            f"replay {args.hosts} machines, gaussian-machine",
            lambda: cmd_replay(db, detector="gaussian-machine", out=quiet),
        )


if __name__ == "__main__":
    main()
