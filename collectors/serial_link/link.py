"""Provides the line protocol over one serial port: validation, replies, ``ready`` and noise."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from collectors.serial_link.protocol import (
    answers,
    check_command,
    clean_reply,
    is_reply,
    parse_count,
    parse_location,
    parse_pong,
)

try:
    import termios

    _IO_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
except ImportError:  # not POSIX
    _IO_ERRORS = (serial.SerialException, OSError)

BAUD = 9600
"""Default baud rate of both firmwares."""
_MAX_BUFFER = 256  # bytes without a newline before they are dropped as line noise


class SerialLinkError(Exception):
    """A conversation with a device failed; the message says why, for a person."""

    def __init__(self, reason: str, port: str | None = None) -> None:
        super().__init__(f"{port}: {reason}" if port else reason)
        self.reason = reason
        """Why, without the port."""
        self.port = port
        """The port it happened on, when known (the message starts with it)."""


class DeviceGone(SerialLinkError):
    """The port cannot be opened, was unplugged, or is not connected."""

    def __init__(self, reason: str, port: str | None = None, *, sent: bool = False) -> None:
        super().__init__(reason, port)
        self.sent = sent
        """Whether the command may have reached the board before the port was lost."""


class DeviceTimeout(SerialLinkError):
    """The device did not answer in time."""


@dataclass(frozen=True, slots=True)
class Reply:
    """The one reply line to one command."""

    line: str
    """The reply as received (``ok gong``, ``pong map 1.0``, ``err cooldown``)."""
    latency: float
    """Seconds from writing the command to reading the reply."""

    @property
    def ok(self) -> bool:
        """Whether the device did what it was asked."""
        return not self.line.startswith("err")


@dataclass(frozen=True, slots=True)
class LineEvent:
    """One line on the wire, or a note about the link, for the devices log."""

    time: float
    """Wall-clock time, seconds since the epoch."""
    port: str
    kind: str
    """``sent``, ``received``, ``garbage`` (line noise, ignored) or ``info``/``error`` notes."""
    text: str
    latency: float | None = None
    """Round trip in seconds, on the received line that answers a command."""


@dataclass(frozen=True, slots=True)
class PortInfo:
    """A serial port and the firmware that answers on it."""

    port: str
    description: str = ""
    kind: str | None = None
    """``gong`` or ``map``; None when nothing answered ``ping``."""
    version: str | None = None
    error: str | None = None
    """Why no firmware was identified."""


def _show(raw: bytes) -> str:
    """Return line noise as printable text, with escapes for the bytes that are not."""
    text = raw.decode("ascii", errors="backslashreplace")
    return "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in text)


def _why(exc: Exception) -> str:
    """Return the short reason a port would not open."""
    code = getattr(exc, "errno", None)
    if code in (errno.EAGAIN, errno.EWOULDBLOCK):
        return "in use by another program"
    return os.strerror(code) if isinstance(code, int) else str(exc)


def default_ready_timeout(port: str) -> float:
    """Seconds to wait for ``ready`` after opening: an Arduino resets and boots, a pty does not."""
    return 0.5 if os.path.realpath(port).startswith("/dev/pts/") else 3.0


class SerialLink:
    """One open port speaking the line protocol, one command at a time."""

    def __init__(
        self,
        port: str,
        baud: int = BAUD,
        *,
        reply_timeout: float = 2.0,
        ready_timeout: float | None = None,
        on_line: Callable[[LineEvent], None] | None = None,
    ) -> None:
        """Args:
        port: device path (``/dev/ttyUSB0``, a pty) or a pyserial URL.
        baud: line speed.
        reply_timeout: seconds to wait for the reply to a command.
        ready_timeout: seconds to wait for ``ready`` after opening; None picks by port kind.
        on_line: told of every line sent and received, from the calling thread.
        """
        self.port, self.baud, self.reply_timeout = port, baud, reply_timeout
        self.ready_timeout = default_ready_timeout(port) if ready_timeout is None else ready_timeout
        self.kind: str | None = None
        """Firmware that answered ``ping``: ``gong`` or ``map``."""
        self.version: str | None = None
        self._on_line = on_line
        self._lock = threading.Lock()
        self._serial: serial.Serial | None = None
        self._buf = bytearray()
        self._written = False
        self._odd: str | None = None
        """The last line received that was not a reply to the command sent (noise included)."""

    def _note(self, kind: str, text: str, latency: float | None = None) -> None:
        if self._on_line is not None:
            self._on_line(LineEvent(time.time(), self.port, kind, text, latency))

    @property
    def is_open(self) -> bool:
        """Whether the port is open."""
        return self._serial is not None

    def open(self, timeout: float | None = None) -> None:
        """Open the port, wait for ``ready`` (a fresh board resets), then identify with ``ping``.

        Args:
            timeout: seconds for all of it; None waits ``ready_timeout`` for ``ready`` and
                ``reply_timeout`` for each ``ping``.

        Raises:
            DeviceGone: the port cannot be opened or vanished.
            DeviceTimeout: nothing answered ``ping``.
            SerialLinkError: something answered, but not our firmware.
        """
        end = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            try:
                self._serial = serial.serial_for_url(
                    self.port, self.baud, timeout=0.05, write_timeout=self.reply_timeout,
                    exclusive=True,
                )  # fmt: skip
            except (serial.SerialException, OSError, ValueError) as exc:
                raise DeviceGone(f"cannot open: {_why(exc)}", self.port) from None
            self._note("info", f"opened at {self.baud} baud")
            wait = self.ready_timeout if timeout is None else min(self.ready_timeout, timeout / 2)
            deadline = time.monotonic() + wait
            ready = False
            while not ready and (line := self._read_line(deadline)) is not None:
                ready = line == "ready"
        try:
            reply = self._ping(retry=not ready, end=end)
        except DeviceTimeout:
            self.close()
            if self._odd is None and timeout is not None:
                raise DeviceTimeout(f"no reply to 'ping' within {timeout:g} s", self.port) from None
            if self._odd is None:
                raise
            # Something talks on this port, but not our protocol.
            why = f"not gongwatch firmware: ping answered {self._odd!r}"
            raise SerialLinkError(why, self.port) from None
        except SerialLinkError:
            self.close()
            raise
        pong = parse_pong(reply.line)
        if pong is None:
            self.close()
            why = f"not gongwatch firmware: ping answered {reply.line!r}"
            raise SerialLinkError(why, self.port)
        self.kind, self.version = pong

    def _ping(self, retry: bool, end: float | None) -> Reply:
        # Without a ready, the board may still have been booting: its bootloader eats bytes.
        def budget() -> float | None:
            left = None if end is None else end - time.monotonic()
            return None if left is None else max(0.01, min(self.reply_timeout, left))

        try:
            return self.command("ping", budget())
        except DeviceTimeout:
            if not retry or (end is not None and end - time.monotonic() < 0.05):
                raise
            return self.command("ping", budget())

    def read_locations(self) -> frozenset[str] | None:
        """Ask the map for its location table; None when its firmware cannot tell it.

        Raises:
            DeviceGone: the port was lost meanwhile.
        """
        try:
            count = parse_count(self.command("locations").line)
            if count is None:
                return None  # an older map firmware: "err unknown command"
            names = [parse_location(i, self.command(f"location {i}").line) for i in range(count)]
        except DeviceTimeout:
            return None
        known = [n for n in names if n is not None]
        return frozenset(known) if len(known) == count else None

    def close(self) -> None:
        """Close the port (safe to call twice)."""
        port, self._serial = self._serial, None
        if port is not None:
            # An unplugged port can fail to close; it is gone either way.
            with contextlib.suppress(*_IO_ERRORS):
                port.close()
            self._note("info", "closed")

    def command(self, line: str, timeout: float | None = None) -> Reply:
        """Send one command and return its reply; never two at once.

        Raises:
            CommandError: the line is not a command of the protocol for this firmware; nothing
                was sent.
            DeviceGone: the port is closed or was unplugged (it is closed then).
            DeviceTimeout: no reply in time (line noise is skipped, not taken for a reply).
        """
        text = check_command(line, self.kind)
        with self._lock:
            if self._serial is None:
                raise DeviceGone("not open", self.port)
            self._written = False
            try:
                return self._exchange(self._serial, text, timeout or self.reply_timeout)
            except serial.SerialTimeoutException:
                raise DeviceTimeout(f"writing {text!r} timed out", self.port) from None
            except _IO_ERRORS as exc:
                self._note("error", f"lost: {exc}")
                self.close()
                raise DeviceGone(f"disconnected: {exc}", self.port, sent=self._written) from None

    def _exchange(self, port: serial.Serial, text: str, timeout: float) -> Reply:
        # A late reply to an earlier, timed-out command must not pass for this one's. (Read it
        # rather than flush it: the log shows it, and a flush looks like a reopen to a pty.)
        if port.in_waiting:
            self._buf += port.read(port.in_waiting)
        while (stale := self._read_line(0.0)) is not None:
            if stale != "ready":
                self._note("received", f"{stale} (late, ignored)")
        start = time.monotonic()
        self._written = True  # from here on, the board may have got it
        port.write(text.encode("ascii") + b"\n")
        port.flush()
        self._note("sent", text)
        deadline = start + timeout
        while (line := self._read_line(deadline)) is not None:
            if answers(text, line):
                latency = time.monotonic() - start
                self._note("received", line, latency)
                return Reply(line, latency)
            if line != "ready":  # a reset on its own; the command may still be answered
                self._odd = line
                self._note("received", f"{line} (not an answer to {text!r}, ignored)")
        self._note("error", f"no reply to {text!r} within {timeout:g} s")
        raise DeviceTimeout(f"no reply to {text!r} within {timeout:g} s", self.port)

    def _read_line(self, deadline: float) -> str | None:
        """Return the next well-formed line (noise reported and skipped), or None at the
        deadline."""
        assert self._serial is not None
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                raw, self._buf = bytes(self._buf[:nl]), self._buf[nl + 1 :]
                line = clean_reply(raw.decode("ascii", errors="replace").rstrip("\r"))
                if is_reply(line):
                    if line == "ready":
                        self._note("received", line)
                    return line
                if line.strip():
                    self._odd = _show(raw)
                    self._note("garbage", self._odd)
                continue
            if len(self._buf) > _MAX_BUFFER:
                self._note("garbage", _show(bytes(self._buf)))
                self._buf.clear()
            if time.monotonic() >= deadline:
                return None
            self._buf += self._serial.read(max(1, self._serial.in_waiting))
