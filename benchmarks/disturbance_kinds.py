"""Provides the known disturbances that record_disturbances.py runs while it records.

Each disturbance runs as its own process (``python disturbance_kinds.py KIND SECONDS``), in its
own process group so the recorder can stop it and everything it started with one signal. Every one
is bounded: it ends by itself after ``SECONDS`` (plus a hard cap), holds at most the memory
stated below, writes only to a temporary file it deletes, and talks only to 127.0.0.1. On
SIGTERM or SIGINT it cleans up (kills and reaps its children, deletes its file) and exits.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

import psutil

GIB = 1 << 30
MIB = 1 << 20
BALLOON_BYTES = 3 * GIB
"""What the memory balloon allocates and touches, if the machine has it to spare."""
BALLOON_SPARE = 4 * GIB
"""Memory the balloon always leaves available to everyone else."""
DISK_BYTES = 1 * GIB
"""What the disk burst writes and fsyncs before deleting its file."""
NET_RATE = 100 * MIB
"""Bytes per second the loopback sender aims at: enough to stand out, not a CPU burn."""
FORK_COUNT = 400
"""Short-lived processes the fork storm starts over its duration."""
FORK_LIFE = 2.0
"""Seconds each of them lives (``sleep``), so a process-table scan every 5 s sees them."""
ZOMBIES = 50
"""Children the zombie burst leaves unreaped for its duration."""

EXPECTED_KEYS: dict[str, tuple[str, ...]] = {
    "cpu_burn": ("system/cpu/total", "system/cpu/*", "system/load/1m"),
    "memory_balloon": ("system/memory/used", "system/memory/available"),
    "disk_write": ("system/disk/write",),
    "fork_storm": ("system/procs/total", "system/cpu/total"),
    "net_loopback": ("system/net/rx", "system/net/tx"),
    "zombie_burst": ("system/procs/zombies", "system/procs/total"),
}
"""Metric keys each disturbance is expected to move (``*``: every per-core key)."""

NOMINAL_SECONDS: dict[str, float] = {
    "cpu_burn": 30.0,
    "memory_balloon": 40.0,  # touching 3 GiB takes this VM ~15 s; then it is held
    "disk_write": 60.0,  # a cap: the burst ends as soon as its 1 GiB is on disk
    "fork_storm": 20.0,
    "net_loopback": 30.0,
    "zombie_burst": 30.0,
}
"""How long each disturbance lasts (the disk burst: at most)."""


class Stop(Exception):
    """Raised in a disturbance when it is told to stop early."""


def _stop(signum: int, frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


def _burn(deadline: float) -> None:
    while time.monotonic() < deadline:
        sum(i * i for i in range(10_000))


def cpu_burn(seconds: float) -> str:
    """Keep every core busy with one spinning process each."""
    deadline = time.monotonic() + seconds
    pids = []
    for _ in range(os.cpu_count() or 1):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _burn(deadline)
            os._exit(0)
        pids.append(pid)
    try:
        for pid in pids:
            os.waitpid(pid, 0)
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                continue  # already reaped above
    return f"{len(pids)} spinning processes"


def memory_balloon(seconds: float) -> str:
    """Allocate and touch up to 3 GiB, hold it, then let it go."""
    size = min(BALLOON_BYTES, psutil.virtual_memory().available - BALLOON_SPARE)
    chunks = []
    deadline = time.monotonic() + seconds
    while size > 0 and time.monotonic() < deadline:
        chunk = bytearray(min(64 * MIB, size))
        chunk[::4096] = b"\x01" * len(range(0, len(chunk), 4096))  # make every page resident
        chunks.append(chunk)
        size -= len(chunk)
    held = sum(len(c) for c in chunks)
    took = time.monotonic() - deadline + seconds
    time.sleep(max(0.0, deadline - time.monotonic()))
    return f"{held / GIB:.2f} GiB touched in {took:.1f} s"


def disk_write(seconds: float) -> str:
    """Write and fsync 1 GiB to a temporary file, then delete it."""
    deadline = time.monotonic() + seconds
    block = os.urandom(8 * MIB)  # random, so no layer below can compress it away
    fd, path = tempfile.mkstemp(prefix="gongwatch-disturb-", dir=tempfile.gettempdir())
    try:
        written = 0
        while written < DISK_BYTES and time.monotonic() < deadline:
            written += os.write(fd, block)
            if written % (128 * MIB) == 0:
                os.fsync(fd)  # in steps, so the writes reach the disk while we run
        os.fsync(fd)
        return f"{written / MIB:.0f} MiB written in {time.monotonic() - deadline + seconds:.1f} s"
    finally:
        os.close(fd)
        os.unlink(path)


def fork_storm(seconds: float) -> str:
    """Start a few hundred short-lived processes, evenly over ``seconds``."""
    children: list[subprocess.Popen[bytes]] = []
    start = time.monotonic()
    try:
        for i in range(FORK_COUNT):
            time.sleep(max(0.0, start + i * seconds / FORK_COUNT - time.monotonic()))
            children.append(subprocess.Popen(["sleep", str(FORK_LIFE)]))
            children = [c for c in children if c.poll() is None]
        for child in children:
            child.wait(timeout=FORK_LIFE + 5)
        return f"{FORK_COUNT} processes of {FORK_LIFE:.0f} s"
    finally:
        for child in children:
            child.kill()
            child.wait()


def zombie_burst(seconds: float) -> str:
    """Leave a few dozen exited children unreaped for ``seconds``, then reap them."""
    children: list[subprocess.Popen[bytes]] = []
    try:
        children = [subprocess.Popen(["true"]) for _ in range(ZOMBIES)]
        time.sleep(seconds)  # no poll() or wait(): they stay zombies until the finally
        return f"{len(children)} zombies"
    finally:
        for child in children:
            child.wait()


def _receive(server: socket.socket) -> None:
    conn, _ = server.accept()
    with conn:
        while conn.recv(4 * MIB):
            pass


def net_loopback(seconds: float) -> str:
    """Push about 100 MiB/s through a TCP connection on 127.0.0.1."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        receiver = threading.Thread(target=_receive, args=(server,), daemon=True)
        receiver.start()
        block = b"\0" * MIB
        with socket.create_connection(server.getsockname()) as sender:
            start = time.monotonic()
            sent = 0
            while (now := time.monotonic()) < start + seconds:
                ahead = sent / NET_RATE - (now - start)
                if ahead > 0:
                    time.sleep(ahead)  # paced, so this stays a network and not a CPU event
                sender.sendall(block)
                sent += len(block)
        receiver.join(timeout=5)
    return f"{sent / MIB:.0f} MiB sent over 127.0.0.1 in {now - start:.1f} s"


KINDS: dict[str, Callable[[float], str]] = {
    "cpu_burn": cpu_burn,
    "memory_balloon": memory_balloon,
    "disk_write": disk_write,
    "fork_storm": fork_storm,
    "net_loopback": net_loopback,
    "zombie_burst": zombie_burst,
}


def main(argv: list[str]) -> int:
    """Run one disturbance: ``KIND SECONDS``."""
    kind, seconds = argv[0], min(float(argv[1]), 120.0)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        print(KINDS[kind](seconds), flush=True)
    except Stop as why:
        print(f"{kind}: stopped early by {why}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
