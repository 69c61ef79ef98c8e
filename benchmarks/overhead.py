"""Measures what the running monitor costs: CPU % of one core, peak RSS and RSS growth.

Runs the real ``gongwatch`` TUI in a pseudo terminal (120x40 by default) at its default 1 s
refresh, drains its output as a terminal would, and samples /proc for the process alone.

    .venv/bin/python benchmarks/overhead.py [--seconds 60] [--size 120x40] [--config PATH]
        [--setup default|full|scale|all] [--starts N] [--floor-seconds 20]

``--setup full`` runs it with every kind of source on (a fake sensors tree, smartctl replaying
recorded disks, a local Server Density-style server, the gong and map emulated, an alert rule)
and ``--setup scale`` with about 500 metrics (twenty chips of twenty sensors, 50 HTTP checks
every 5 s): both build the tests' stand-ins inside a private mount namespace, so they need root.

Each run also measures the floor first: ``floor_app.py``, numpy and Textual running one label,
in the same kind of pseudo terminal. Its peak RSS is what any monitor built on them takes on
this machine today, and the monitor's memory is printed above it too.
"""

from __future__ import annotations

import argparse
import fcntl
import itertools
import os
import re
import select
import selectors
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import memory_figures

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_EVERY = 1.0
"""Seconds between two samples of the process."""
WARMUP = 5.0
"""Seconds left out at the start: imports and the first layout are not the steady state."""
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
LIVE = re.compile(r"[1-9]\d* metrics? ·")
SPARK = set("▁▂▃▄▅▆▇█")
REFRESH = 1.0
"""Seconds between two refreshes of the screen (the default ``refresh``)."""
FIRST_FRAME = 1.0
"""Seconds from process start the first live frame should take at most."""


def is_live(screen: str) -> bool:
    """True once the screen shows a count of metrics and a sparkline: the first useful frame."""
    return bool(LIVE.search(screen)) and any(ch in SPARK for ch in screen)


THREAD_NAMES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "thread_names")
"""Put on the monitor's ``PYTHONPATH``: its threads show their names to the kernel."""
GROUPS = (
    ("screen", ("textual-",)),
    ("link", ("daemon-",)),
    ("collectors", ("poll-", "remote-poll", "device-", "statsd-", "background")),
)
"""Threads by the part of the monitor they run, from their name's start; the main thread runs
the screen (Textual's event loop), and a thread no group names is the engine's (observers,
history writer, exporters)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of the process from /proc."""

    wall: float
    """Monotonic seconds."""
    cpu: float
    """User plus system CPU seconds so far."""
    rss: int
    """Resident set size, bytes."""
    groups: dict[str, float] = field(default_factory=dict)
    """CPU seconds so far of the threads alive now, by ``GROUPS`` (and ``engine``)."""
    pss: int = 0
    """Proportional set size (shared pages divided among their users), bytes."""
    uss: int = 0
    """Unique set size (pages no other process has), bytes."""


def _cpu_seconds(stat_path: str) -> float:
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def group_of(name: str, main: bool) -> str:
    """Return the ``GROUPS`` name of a thread (``engine`` when none starts its name)."""
    if main:
        return "screen"
    return next((g for g, starts in GROUPS if name.startswith(starts)), "engine")


def thread_groups(pid: int) -> dict[str, float]:
    """Sum the CPU seconds of ``pid``'s live threads by group."""
    out: dict[str, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            cpu = _cpu_seconds(f"/proc/{pid}/task/{tid}/stat")
        except OSError:  # the thread ended between the listing and the reading
            continue
        group = group_of(name, tid == str(pid))
        out[group] = out.get(group, 0.0) + cpu
    return out


def sample(pid: int) -> Sample:
    """Read the CPU time (the whole process's, and by thread group), RSS, PSS and USS of
    ``pid``."""
    with open(f"/proc/{pid}/statm") as f:
        rss_pages = int(f.read().split()[1])
    groups = thread_groups(pid)
    cpu = _cpu_seconds(f"/proc/{pid}/stat")
    pss, uss = memory_figures.smaps(pid)
    return Sample(time.monotonic(), cpu, rss_pages * PAGE, groups, pss, uss)


def group_cpu(samples: list[Sample], group: str) -> float:
    """CPU seconds a thread group spent over the samples; a thread that began or ended in
    between counts for what it spent while both samples saw it (its gains are summed)."""
    spent = 0.0
    for a, b in itertools.pairwise(samples):
        spent += max(0.0, b.groups.get(group, 0.0) - a.groups.get(group, 0.0))
    return spent


def cpu_lines(samples: list[Sample], refresh: float, target: float) -> list[str]:
    """Lines of CPU figures: % of one core against ``target``, CPU ms per refresh, and where
    they go by thread group."""
    first, last = samples[0], samples[-1]
    elapsed = last.wall - first.wall
    total = last.cpu - first.cpu
    ticks = elapsed / refresh
    lines = [
        f"cpu                  {100 * total / elapsed:.2f} % of one core   (target < {target:g} %)",
        f"cpu per refresh      {1000 * total / ticks:.1f} ms   "
        f"(target < {10 * target * refresh:.1f} ms at a {refresh:g} s refresh)",
    ]
    for group in ("screen", "link", "collectors", "engine"):
        spent = group_cpu(samples, group)
        if spent > 0:
            lines.append(
                f"  {group:<18} {1000 * spent / ticks:6.1f} ms per refresh"
                f" ({100 * spent / elapsed:.2f} %)"
            )
    return lines


def start(cmd: list[str], cols: int, rows: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``cmd`` on a new pseudo terminal of the given size; return it and the master fd."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    path = os.pathsep.join(p for p in (THREAD_NAMES, os.environ.get("PYTHONPATH")) if p)
    env = {
        **os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows),
        "PYTHONPATH": path,
    }  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    return proc, master


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("collectors", "detectors", "engine", "tui")


def compile_bytecode() -> None:
    """Compile gongwatch's own modules, as installing it does.

    With ``PYTHONDONTWRITEBYTECODE`` set (as it may be where gongwatch is developed), an
    editable install compiles every module of its own from source at each start, which an
    installed gongwatch never does: the first frame would be timed with a cost users do not
    pay. Python still reads bytecode compiled beforehand.
    """
    dirs = [os.path.join(ROOT, p) for p in PACKAGES]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *dirs], check=True)


def run(
    cmd: list[str], seconds: float, cols: int, rows: int
) -> tuple[list[Sample], int, float | None]:
    """Run the monitor, drain its screen output and sample it every second; also return the
    seconds from process start to the first frame with live values and sparklines."""
    compile_bytecode()
    started = time.monotonic()
    first_frame: float | None = None
    seen = b""
    proc, master = start(cmd, cols, rows)
    sel = selectors.DefaultSelector()
    sel.register(master, selectors.EVENT_READ)
    samples: list[Sample] = []
    out_bytes = 0
    end = time.monotonic() + WARMUP + seconds
    next_sample = time.monotonic() + WARMUP
    try:
        while time.monotonic() < end and proc.poll() is None:
            for _key, _ in sel.select(timeout=0.2):
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                out_bytes += len(chunk)
                if first_frame is None:
                    seen = (seen + chunk)[-200_000:]
                    if is_live(ANSI.sub(b"", seen).decode("utf-8", "replace")):
                        first_frame = time.monotonic() - started
            if time.monotonic() >= next_sample:
                samples.append(sample(proc.pid))
                next_sample += SAMPLE_EVERY
    finally:
        stop(proc, master)
    if proc.returncode not in (None, 0, -signal.SIGTERM) and len(samples) < 2:
        raise SystemExit(f"the monitor exited early with status {proc.returncode}")
    return samples, out_bytes, first_frame


def stop(proc: subprocess.Popen[bytes], master: int) -> None:
    """End the monitor's process group (SIGTERM, then SIGKILL after 5 s) and close its pty."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    os.close(master)


def time_first_frame(cmd: list[str], cols: int, rows: int, limit: float = 15.0) -> float | None:
    """Start the monitor, return the seconds to its first live frame (None if none came
    within ``limit``), and stop it."""
    started = time.monotonic()
    proc, master = start(cmd, cols, rows)
    seen = b""
    try:
        while time.monotonic() - started < limit and proc.poll() is None:
            if not select.select([master], [], [], 0.2)[0]:
                continue
            try:
                seen = (seen + os.read(master, 65536))[-200_000:]
            except OSError:
                break
            if is_live(ANSI.sub(b"", seen).decode("utf-8", "replace")):
                return time.monotonic() - started
        return None
    finally:
        stop(proc, master)


def report_starts(cmd: list[str], starts: int, cols: int, rows: int) -> None:
    """Start the monitor ``starts`` times and print its first live frame: the best start
    says what the code costs, the median what a busy machine adds."""
    compile_bytecode()
    got = [time_first_frame(cmd, cols, rows) for _ in range(starts)]
    times = sorted(t for t in got if t is not None)
    if not times:
        raise SystemExit("no live frame in any start")
    print(
        f"first live frame     best {times[0]:.2f} s, median {statistics.median(times):.2f} s"
        f" of {len(times)} starts (target < {FIRST_FRAME:g} s)"
    )


FLOOR_APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "floor_app.py")


def measure_floor(seconds: float, cols: int, rows: int) -> float | None:
    """Peak RSS in MiB of ``floor_app.py`` run for ``seconds`` (None when 0)."""
    if seconds <= 0:
        return None
    print(f"measuring the floor (numpy and Textual, one label) for {seconds:.0f} s ...", flush=True)
    samples, _, _ = run([sys.executable, FLOOR_APP], seconds, cols, rows)
    return max(s.rss for s in samples) / memory_figures.MIB


def report(
    samples: list[Sample],
    out_bytes: int,
    first_frame: float | None,
    target: tuple[float, float],
    refresh: float = REFRESH,
    floor: float | None = None,
) -> None:
    """Print the figures."""
    if len(samples) < 3:
        raise SystemExit("too few samples: did the monitor start?")
    first, last = samples[0], samples[-1]
    elapsed = last.wall - first.wall
    print(f"measured             {elapsed:.0f} s after {WARMUP:.0f} s warm-up")
    shown = "never" if first_frame is None else f"{first_frame:.2f} s"
    print(f"first live frame     {shown} from process start (target < {FIRST_FRAME:g} s)")
    print("                     (gongwatch's bytecode compiled beforehand, as installed)")
    for line in cpu_lines(samples, refresh, target[0]):
        print(line)
    print(f"terminal output      {out_bytes / elapsed / 1024:.1f} KiB/s")
    last = samples[-1]
    for line in memory_figures.rss_lines(
        [s.wall for s in samples], [s.rss for s in samples], target[1], (last.pss, last.uss)
    ):
        print(line)
    if floor is not None:
        above = max(s.rss for s in samples) / memory_figures.MIB - floor
        print(
            f"floor                {floor:.1f} MiB: numpy and Textual running one label, this run;"
            f" the monitor's peak is {above:.1f} MiB above it, the target {target[1] - floor:.1f}"
        )


TARGETS = {
    "default": (1.0, 50.0),
    "full": (1.0, 55.0),
    "scale": (3.0, 80.0),
}
"""Per setup: (CPU % of a core, RSS MiB) the monitor should stay under."""


def on_stand_ins(
    setup: str, seconds: float, cols: int, rows: int, floor: float | None = None
) -> None:
    """Measure the monitor on a setup of stand-ins, built inside a mount namespace."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, root)
    from tests.hardware_fakes import hwmon_tree
    from tests.hardware_fakes.nsworker import FakeSys

    print(f"running gongwatch on the {setup!r} stand-ins at {cols}x{rows} ...", flush=True)
    with FakeSys(hwmon_tree.LAYOUTS, env={"GONGWATCH_PYTHON": sys.executable}) as fs:
        got = fs.call(
            "benchmarks.stand_ins:measure", setup=setup, seconds=seconds, cols=cols, rows=rows
        )
    samples = [Sample(*s) for s in got["samples"]]
    report(samples, got["out_bytes"], got["first_frame"], TARGETS[setup], floor=floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time")
    parser.add_argument("--size", default="120x40", help="terminal COLSxROWS")
    parser.add_argument("--config", help="gongwatch config file (default setup only)")
    parser.add_argument("--setup", choices=("default", "full", "scale", "all"), default="default")
    parser.add_argument(
        "--starts", type=int, default=0,
        help="only time the first live frame of this many starts (default setup)",
    )  # fmt: skip
    parser.add_argument(
        "--floor-seconds", type=float, default=20.0,
        help="run floor_app.py this long first, to print the monitor's RSS above it (0: skip)",
    )  # fmt: skip
    args = parser.parse_args()
    cols, rows = (int(v) for v in args.size.lower().split("x"))
    floor = None if args.starts else measure_floor(args.floor_seconds, cols, rows)
    for setup in ("default", "full", "scale") if args.setup == "all" else (args.setup,):
        if setup != "default":
            on_stand_ins(setup, args.seconds, cols, rows, floor)
            continue
        exe = shutil.which("gongwatch", path=os.path.dirname(sys.executable)) or "gongwatch"
        cmd = [exe] + (["--config", args.config] if args.config else [])
        if args.starts:
            report_starts(cmd, args.starts, cols, rows)
            continue
        print(f"running {' '.join(cmd)} at {cols}x{rows} for {args.seconds:.0f} s ...", flush=True)
        samples, out_bytes, first_frame = run(cmd, args.seconds, cols, rows)
        report(samples, out_bytes, first_frame, TARGETS["default"], floor=floor)


if __name__ == "__main__":
    main()
