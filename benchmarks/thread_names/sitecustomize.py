"""Provides thread names the kernel can see, for the benchmarks that measure the monitor.

The benchmarks start gongwatch with this folder on ``PYTHONPATH``: every Python thread then
gives its name (``poll-system``, ``textual-output``, ``daemon-poll`` ...) to its OS thread,
so ``/proc/PID/task/TID/comm`` tells where the CPU time of each thread goes. Python 3.11 does
not do it itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from typing import Any

PR_SET_NAME = 15
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_inner = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]


def _named_bootstrap(self: threading.Thread, *args: Any) -> None:
    # The kernel keeps 15 bytes of a thread's name.
    _libc.prctl(PR_SET_NAME, self.name.encode("utf-8", "replace")[:15], 0, 0, 0)
    _inner(self, *args)


threading.Thread._bootstrap_inner = _named_bootstrap  # type: ignore[attr-defined]
