"""Provides a Python emulator of the gong and map firmwares on a pty pair, for the tests.

It speaks the protocol of ``docs/devices.md``: one reply line per command, ``pong <kind> 1.0``
to ``ping``, the map's ``locations`` and ``location <n>``, and ``ready`` when the host opens the
port (the way an Arduino resets on open; it notices the open through the pty's packet mode,
where the host's input flush shows up). Switches make it misbehave: ``silent`` never answers,
``garbage`` surrounds replies with line noise, ``unplug_on`` vanishes in the middle of a
command, ``slow`` delays every reply, ``replies`` answers some commands with the wrong line.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import struct
import tempfile
import termios
import threading
import time
import tty
from types import TracebackType

LOCATIONS = (
    "sanfrancisco", "losangeles", "dallas", "chicago", "toronto", "newyork", "saopaulo", "london",
    "amsterdam", "paris", "frankfurt", "stockholm", "mumbai", "singapore", "tokyo", "sydney",
)  # fmt: skip
"""LED location names the emulated map knows (the map sketch's table)."""
NOISE = b"\x00\xfe#~\x81\x7f noise\n"
"""A line of junk, as a reset or a loose cable makes."""


class EmulatedDevice:
    """The gong or map firmware, emulated on a pty; ``port`` is a stable path to open.

    ``events`` records what the hardware did: ``strike``, ``<location> <status>``,
    ``all <status>``; ``received`` every line the host sent.
    """

    def __init__(
        self,
        kind: str = "gong",
        *,
        silent: bool = False,
        garbage: bool = False,
        unplug_on: str | None = None,
        slow: float = 0.0,
        reset_on_open: bool = True,
        cooldown: float = 0.0,
        deaf: int = 0,
        replies: dict[str, str] | None = None,
    ) -> None:
        """Args:
        kind: ``gong`` or ``map``.
        silent: never write anything (a board with the wrong sketch, or a dead one).
        garbage: write a noise line before every reply, and junk bytes glued to its front.
        unplug_on: vanish, without replying, when this command arrives.
        slow: seconds to wait before every reply.
        reset_on_open: print ``ready`` whenever the host opens the port; else never.
        cooldown: seconds after a strike in which ``gong`` is answered ``err cooldown``.
        deaf: how many commands are lost first (a bootloader still running eats them).
        replies: commands answered with the given line instead (a confused board), doing nothing.
        """
        assert kind in ("gong", "map")
        self.kind, self.silent, self.garbage = kind, silent, garbage
        self.unplug_on, self.slow, self.reset_on_open = unplug_on, slow, reset_on_open
        self.cooldown, self.deaf = cooldown, deaf
        self.replies = dict(replies or {})
        self.events: list[str] = []
        self.received: list[str] = []
        self.opens = 0
        """How many times the host opened the port."""
        self._changed = threading.Condition()
        self._dir = tempfile.mkdtemp(prefix="gongwatch-emu-")
        self.port = os.path.join(self._dir, f"tty-{kind}")
        self._master = self._slave = -1
        self._thread: threading.Thread | None = None
        self._wake_r = self._wake_w = -1
        self._plug_lock = threading.Lock()
        self._last_strike: float | None = None

    def __enter__(self) -> EmulatedDevice:
        self.plug()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def plug(self) -> None:
        """Make a new pty, point ``port`` at it, and start answering."""
        # An unplug still finishing (it unlinks ``port`` last) must not remove the new link.
        with self._plug_lock:
            self._plug()

    def _plug(self) -> None:
        self._master, self._slave = os.openpty()
        self._wake_r, self._wake_w = os.pipe()
        tty.setraw(self._slave)
        fcntl.ioctl(self._master, termios.TIOCPKT, struct.pack("i", 1))
        tmp = self.port + ".new"
        os.symlink(os.ttyname(self._slave), tmp)
        os.replace(tmp, self.port)
        self._thread = threading.Thread(
            target=self._run, args=(self._master, self._wake_r), daemon=True
        )
        self._thread.start()

    def unplug(self) -> None:
        """Vanish: close the pty, so the host's next read or write fails."""
        with self._plug_lock:
            master, self._master = self._master, -1
            if master < 0:
                return
            os.write(self._wake_w, b"x")
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(2)
            for fd in (master, self._slave, self._wake_r, self._wake_w):
                os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.port)

    def close(self) -> None:
        """Unplug and clean up."""
        self.unplug()
        os.rmdir(self._dir)

    def wait_event(self, prefix: str, timeout: float = 5.0) -> str:
        """Return the first event starting with ``prefix``, waiting up to ``timeout`` seconds."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((e for e in self.events if e.startswith(prefix)), None), timeout
            )
        if found is None:
            raise TimeoutError(f"no event {prefix!r} within {timeout} s; got {self.events}")
        return found

    def wait_opens(self, count: int, timeout: float = 5.0) -> None:
        """Wait until the host has opened the port ``count`` times."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.opens >= count, timeout):
                raise TimeoutError(f"the port was opened {self.opens} times, not {count}")

    def _run(self, master: int, wake: int) -> None:
        buf = b""
        while True:
            ready, _, _ = select.select([master, wake], [], [])
            if wake in ready:
                return
            try:
                packet = os.read(master, 1024)
            except OSError:
                return
            if packet[:1] != b"\x00":
                if packet[0] & termios.TIOCPKT_FLUSHREAD:
                    self._opened()
                continue
            buf += packet[1:]
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if not self._command(line.decode("ascii", "replace").strip()):
                    return

    def _opened(self) -> None:
        with self._changed:
            self.opens += 1
            self._changed.notify_all()
        if self.reset_on_open and not self.silent:
            self._write(b"ready\n")

    def _command(self, line: str) -> bool:
        """Act on one line; return False when the device has just been unplugged."""
        if not line:
            return True
        with self._changed:
            self.received.append(line)
            self._changed.notify_all()
        if len(self.received) <= self.deaf:
            return True
        if line == self.unplug_on:
            threading.Thread(target=self.unplug, daemon=True).start()
            return False
        reply, event = self._answer(line.lower().split())
        if line in self.replies:
            reply, event = self.replies[line], None
        if event:
            with self._changed:
                self.events.append(event)
                self._changed.notify_all()
        if self.silent:
            return True
        if self.slow:
            time.sleep(self.slow)  # the emulated board is slow; nothing to wait on
        if self.garbage:
            self._write(NOISE + b"\xff\x13")
        self._write(reply.encode("ascii") + b"\n")
        return True

    def _answer(self, words: list[str]) -> tuple[str, str | None]:
        """Return the reply and the hardware event (if any) of one command."""
        if words == ["ping"]:
            return f"pong {self.kind} 1.0", None
        if self.kind == "gong":
            if words != ["gong"]:
                return ("err bad arguments" if words[0] == "gong" else "err unknown command"), None
            now = time.monotonic()
            if self._last_strike is not None and now - self._last_strike < self.cooldown:
                return "err cooldown", None
            self._last_strike = now
            return "ok gong", "strike"
        if words == ["locations"]:
            return f"ok {len(LOCATIONS)}", None
        if words[0] == "location" and len(words) == 2:
            i = int(words[1]) if words[1].isdigit() and words[1] == str(int(words[1])) else -1
            ok = 0 <= i < len(LOCATIONS)
            return (f"ok {i} {LOCATIONS[i]}" if ok else "err unknown location"), None
        if words[0] != "all" and words[0] not in LOCATIONS:
            return ("err unknown command" if len(words) == 1 else "err unknown location"), None
        if len(words) != 2:
            return "err bad arguments", None
        if words[1] not in ("up", "slow", "down", "off"):
            return "err bad status", None
        return f"ok {' '.join(words)}", " ".join(words)

    def _write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):  # unplugged between the command and the reply
            os.write(self._master, data)
