"""Records this machine's metrics at 1 s while known disturbances run at logged times.

    .venv/bin/python benchmarks/record_disturbances.py [--duration 3600] [--seed 7]
                                                       [--out benchmarks/data/disturbances]

The system collector (the one the monitor itself polls) is read once a second; every numeric
reading goes to ``recording.csv.gz`` as ``time,key,value`` rows (long format). A scheduler
runs the disturbances of ``disturbance_kinds.py`` one at a time, in an order and with quiet
gaps of several minutes drawn from ``--seed``, and logs each one's ``kind``, ``start``, ``end``
and expected metric keys to ``labels.json`` (rewritten after every disturbance, so a recording
cut short still has consistent labels). Ctrl-C or SIGTERM stops the running disturbance and
everything it started, and closes both files properly.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.system import SystemCollector  # noqa: E402

KINDS_SCRIPT = Path(__file__).with_name("disturbance_kinds.py")
sys.path.insert(0, str(KINDS_SCRIPT.parent))
from disturbance_kinds import EXPECTED_KEYS, NOMINAL_SECONDS  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / "data" / "disturbances"
SKIPPED_KEYS = frozenset({"system/uptime"})
"""A counter of seconds: nothing to detect in it, and it would not compress."""
WARMUP = 120.0
"""Quiet seconds before the first disturbance, so detectors can learn the machine first."""
TAIL = 90.0
"""Quiet seconds kept after the last disturbance."""
GAP = (180.0, 330.0)
"""Range of the quiet gap between the end of one disturbance and the start of the next."""


@dataclass
class Label:
    """One disturbance as it actually ran."""

    kind: str
    start: float
    end: float
    keys: list[str]
    planned_seconds: float
    exit_code: int | None = None
    notes: list[str] = field(default_factory=list)


def expand_keys(kind: str, cores: int) -> list[str]:
    """Return the metric keys ``kind`` is expected to move, ``*`` spelled out per core."""
    keys: list[str] = []
    for key in EXPECTED_KEYS[kind]:
        if key.endswith("/*"):
            keys.extend(f"{key[:-1]}{i}" for i in range(cores))
        else:
            keys.append(key)
    return keys


def plan(seed: int, duration: float, warmup: float = WARMUP) -> list[tuple[float, str]]:
    """Return ``(offset, kind)`` pairs: every kind in turn, in a seeded order, with gaps."""
    rng = random.Random(seed)
    kinds = sorted(EXPECTED_KEYS)
    out: list[tuple[float, str]] = []
    at = warmup
    order: list[str] = []
    while True:
        if not order:
            order = rng.sample(kinds, len(kinds))
        kind = order.pop()
        if at + NOMINAL_SECONDS[kind] + TAIL > duration:
            return out
        out.append((at, kind))
        at += NOMINAL_SECONDS[kind] + rng.uniform(*GAP)


class Scheduler(threading.Thread):
    """Runs the planned disturbances, one process group at a time, and logs them."""

    def __init__(self, steps: list[tuple[float, str]], t0: float, labels_path: Path) -> None:
        super().__init__(name="disturbances", daemon=True)
        self.steps = steps
        self.t0 = t0
        self.labels_path = labels_path
        self.labels: list[Label] = []
        self.stopping = threading.Event()
        self._child: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._cores = os.cpu_count() or 1

    def run(self) -> None:
        for offset, kind in self.steps:
            if self.stopping.wait(max(0.0, self.t0 + offset - time.time())):
                return
            self._run_one(kind)

    def _run_one(self, kind: str) -> None:
        seconds = NOMINAL_SECONDS[kind]
        with self._lock:
            if self.stopping.is_set():
                return
            start = time.time()
            self._child = child = subprocess.Popen(
                [sys.executable, str(KINDS_SCRIPT), kind, str(seconds)],
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,  # its own group: one signal stops all it started
            )
        said, _ = child.communicate()
        code = child.returncode
        label = Label(
            kind,
            start,
            time.time(),
            expand_keys(kind, self._cores),
            seconds,
            code,
            said.strip().splitlines(),
        )
        self.labels.append(label)
        self.write_labels()
        print(
            f"{time.strftime('%H:%M:%S')} {kind} {label.end - start:.1f} s, exit {code}: "
            f"{'; '.join(label.notes)}",
            flush=True,
        )

    def write_labels(self) -> None:
        """Write every finished disturbance to the labels file (atomically)."""
        tmp = self.labels_path.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(x) for x in self.labels], indent=1) + "\n")
        tmp.replace(self.labels_path)

    def stop(self) -> None:
        """Stop scheduling and end the running disturbance with all it started."""
        with self._lock:
            self.stopping.set()
            child = self._child
        if child is not None and child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.join(timeout=5)


def record(out: TextIO, duration: float, stopping: threading.Event, t0: float) -> int:
    """Poll the system collector every second until ``duration`` or ``stopping``; rows out."""
    collector = SystemCollector(interval=1.0)
    rows = ticks = 0
    while not stopping.is_set() and ticks < duration:
        ticks += 1
        if stopping.wait(max(0.0, t0 + ticks - time.time())):
            break
        batch = collector.poll()
        for err in batch.errors:
            print(f"system collector: {err}", file=sys.stderr, flush=True)
        for r in batch.readings:
            if r.value is not None and r.key not in SKIPPED_KEYS:
                out.write(f"{r.time:.3f},{r.key},{r.value:.6g}\n")
                rows += 1
        if ticks % 60 == 0:
            out.flush()  # a killed recorder still leaves a readable file up to here
    return rows


def main() -> int:
    """Record, disturb, and write the recording and its labels."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=3600.0, help="seconds to record")
    ap.add_argument("--seed", type=int, default=7, help="seed of the disturbance order and gaps")
    ap.add_argument("--warmup", type=float, default=WARMUP, help="quiet seconds at first")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for the files")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    steps = plan(args.seed, args.duration, args.warmup)
    print(
        f"recording {args.duration:.0f} s from {time.strftime('%H:%M:%S')}, "
        f"{len(steps)} disturbances: {', '.join(k for _, k in steps)}",
        flush=True,
    )
    scheduler = Scheduler(steps, t0, args.out / "labels.json")
    scheduler.write_labels()
    stopping = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    meta = {
        "started": t0,
        "seed": args.seed,
        "duration": args.duration,
        "cores": os.cpu_count(),
        "host_memory": _memory_total(),
        "plan": steps,
    }
    scheduler.start()
    path = args.out / "recording.csv.gz"
    try:
        with gzip.open(path, "wt", compresslevel=9, newline="") as out:
            out.write("time,key,value\n")
            rows = record(out, args.duration, stopping, t0)
    finally:
        scheduler.stop()
        scheduler.write_labels()
    meta.update(ended=time.time(), rows=rows, interrupted=stopping.is_set())
    (args.out / "recording.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {rows} rows to {path}, {len(scheduler.labels)} labels", flush=True)
    return 0


def _memory_total() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


if __name__ == "__main__":
    sys.exit(main())
