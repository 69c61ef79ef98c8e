"""Measures what the daemon costs with 500 series at 1 Hz, detectors on, and what a screen
attached to it costs.

Starts ``gongwatch daemon`` on a temporary socket with 500 synthetic series polled every second
(every other source off), samples its CPU and memory from /proc for ``--minutes`` (or
``--seconds``), then runs the real TUI attached to it in a pseudo terminal (1 s refresh) for
``--tui-seconds`` (0: no screen) and samples both. Prints figures against the targets (the
daemon under 60 MiB of RSS and flat: its slope over the second half of the run, in MiB an
hour); nothing is asserted. ``--threads`` names the daemon's threads to the kernel and prints
the CPU each one spent (it loads ctypes into the daemon: about 1 MiB more RSS).

    .venv/bin/python benchmarks/daemon.py [--minutes 10] [--tui-seconds 60] [--series 500]
        [--threads]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import memory_figures
import overhead

MIB = 1024 * 1024
TUI_TARGET = 1.0
"""CPU % of one core the attached screen should stay under, at a 1 s refresh."""
RSS_TARGET = 60.0
"""MiB of RSS the daemon should stay under with 500 series."""
CONFIG = """
[daemon]
socket = "{socket}"
[collectors.system]
enabled = false
[collectors.sensors]
enabled = false
[collectors.smart]
enabled = false
[collectors.synthetic]
series = {series}
interval = 1.0
"""


def gongwatch() -> str:
    return shutil.which("gongwatch", path=os.path.dirname(sys.executable)) or "gongwatch"


def wait_socket(socket: Path, proc: subprocess.Popen[bytes], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not socket.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the daemon did not start (status {proc.poll()})")
        time.sleep(0.1)


def sample_for(pid: int, seconds: float, every: float = 1.0) -> list[overhead.Sample]:
    """Sample a process every ``every`` seconds for ``seconds``."""
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        out.append(overhead.sample(pid))
        time.sleep(every)
    return out


def cpu_pct(samples: list[overhead.Sample]) -> float:
    first, last = samples[0], samples[-1]
    return 100.0 * (last.cpu - first.cpu) / max(1e-9, last.wall - first.wall)


def thread_cpu(pid: int) -> dict[str, float]:
    """Return the CPU seconds of each of ``pid``'s live threads by name (threads of one name
    summed)."""
    out: dict[str, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = "main" if tid == str(pid) else f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended between the listing and the reading
            continue
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / overhead.TICKS
    return out


def thread_lines(before: dict[str, float], after: dict[str, float], seconds: float) -> list[str]:
    """Lines of the CPU each thread spent between two ``thread_cpu`` readings, most first."""
    spent = {name: cpu - before.get(name, 0.0) for name, cpu in after.items()}
    return [
        f"  {name:<18} {1000 * cpu / seconds:6.2f} ms a second ({100 * cpu / seconds:.2f} %)"
        for name, cpu in sorted(spent.items(), key=lambda item: -item[1])
    ]


def memory_lines(samples: list[overhead.Sample]) -> list[str]:
    last = samples[-1]
    return memory_figures.rss_lines(
        [s.wall for s in samples], [s.rss for s in samples], RSS_TARGET, (last.pss, last.uss)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="daemon alone, measured")
    parser.add_argument("--minutes", type=float, help="daemon alone, measured (over --seconds)")
    parser.add_argument("--tui-seconds", type=float, default=60.0, help="TUI attached, measured")
    parser.add_argument("--series", type=int, default=500, help="synthetic series at 1 Hz")
    parser.add_argument("--threads", action="store_true", help="print the CPU of each thread")
    args = parser.parse_args()
    if args.minutes is not None:
        args.seconds = 60.0 * args.minutes
    folder = Path(tempfile.mkdtemp(prefix="gw-bench-"))
    socket = folder / "run" / "gongwatch.sock"
    config = folder / "config.toml"
    config.write_text(CONFIG.format(socket=socket, series=args.series))
    env = os.environ | {"XDG_RUNTIME_DIR": str(folder / "run"), "XDG_STATE_HOME": str(folder)}
    if args.threads:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (overhead.THREAD_NAMES, os.environ.get("PYTHONPATH")) if p
        )
    cmd = [gongwatch(), "--config", str(config), "daemon", "--log", str(folder / "daemon.log")]
    daemon = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
    try:
        wait_socket(socket, daemon)
        print(f"daemon pid {daemon.pid}: {args.series} series at 1 Hz, detectors on", flush=True)
        time.sleep(overhead.WARMUP)
        threads = thread_cpu(daemon.pid)
        alone = sample_for(daemon.pid, args.seconds)
        seconds = alone[-1].wall - alone[0].wall
        print(f"daemon alone         {seconds:.0f} s")
        print(f"  cpu                {cpu_pct(alone):.2f} % of one core   (target < 1 %)")
        print(f"  cpu seconds        {alone[-1].cpu - alone[0].cpu:.2f}")
        if args.threads:
            print("  cpu by thread")
            for line in thread_lines(threads, thread_cpu(daemon.pid), seconds):
                print(f"  {line}")
        for line in memory_lines(alone):
            print(f"  {line}")
        if args.tui_seconds > 0:
            attached(daemon.pid, config, env, args.tui_seconds)
    finally:
        daemon.send_signal(signal.SIGTERM)
        status = daemon.wait(30)
        print(f"daemon stopped with status {status}")
        shutil.rmtree(folder, ignore_errors=True)


def attached(pid: int, config: Path, env: dict[str, str], seconds: float) -> None:
    """Run the TUI attached to the daemon ``pid`` for ``seconds``; print both's figures."""
    with_tui: list[overhead.Sample] = []
    sampler = threading.Thread(
        target=lambda: with_tui.extend(sample_for(pid, seconds)), daemon=True
    )
    os.environ.update(env)  # the TUI finds the daemon's socket through the config
    sampler.start()
    screen, out_bytes, first_frame = overhead.run(
        [gongwatch(), "--config", str(config)], seconds, 120, 40
    )
    sampler.join()
    print(f"attached TUI         {screen[-1].wall - screen[0].wall:.0f} s at 120x40, 1 s refresh")
    for line in overhead.cpu_lines(screen, overhead.REFRESH, TUI_TARGET):
        print(f"  tui {line}")
    shown = "never" if first_frame is None else f"{first_frame:.2f} s"
    print(f"  first live frame   {shown} from process start")
    print(f"  tui rss peak       {max(s.rss for s in screen) / MIB:.1f} MiB")
    print(f"  daemon cpu         {cpu_pct(with_tui):.2f} % of one core while attached")
    print(f"  terminal output    {out_bytes / max(1.0, seconds) / 1024:.1f} KiB/s")


if __name__ == "__main__":
    main()
