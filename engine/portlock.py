"""Provides port locks: one owner per serial port across processes, so the gong is never
driven by two gongwatch processes (a daemon and an embedded screen) at once.

A lock is ``fcntl.flock`` on a file in the runtime directory, taken before the port is opened
(opening an Arduino's port resets it, so finding out afterwards would be too late). The kernel
drops it when its process dies, so a killed daemon never leaves a port locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from engine.paths import private_dir, runtime_dir


def lock_dir() -> Path:
    """Return the folder of the port locks."""
    return runtime_dir() / "ports"


class PortLock:
    """The exclusive claim of one process on one serial port."""

    def __init__(self, port: str, folder: Path | None = None) -> None:
        """Args:
        port: the port's path; links are resolved, so two names of one port share a lock.
        folder: where lock files live (default: ``lock_dir()``).
        """
        self.port = port
        real = os.path.realpath(port)
        self.path = (folder or lock_dir()) / (real.strip("/").replace("/", "_") + ".lock")
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; return False when another process holds it."""
        if self._fd is not None:
            return True
        private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> int | None:
        """Return the pid written by the process that holds the lock, if it can be read."""
        with contextlib.suppress(OSError, ValueError):
            return int(self.path.read_text().split()[0])
        return None

    def why_not(self) -> str:
        """Return one line saying who holds the port."""
        pid = self.holder()
        who = f"gongwatch pid {pid}" if pid else "another gongwatch"
        return f"{self.port} is driven by {who} (one owner per port)"

    def release(self) -> None:
        """Let the port go (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @property
    def held(self) -> bool:
        """Whether this process holds the lock."""
        return self._fd is not None
