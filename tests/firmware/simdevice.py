"""Provides the real gong and map firmwares, running in the simulator harness, as test devices.

``SimulatedDevice("gong")`` builds the firmware (once per process), starts
``firmware/build/gongsim`` on ``firmware/build/gong.elf`` and gives the pseudo terminal
that carries the board's serial port::

    from tests.firmware.simdevice import SimulatedDevice, require_firmware

    def test_strike() -> None:
        require_firmware()  # skips without avr-gcc or simavr; fails instead when CI=true
        with SimulatedDevice("gong") as device, serial.Serial(device.port, 9600, timeout=2) as s:
            assert s.readline() == b"ready\\n"  # opening the port resets the board
            s.write(b"gong\\n")
            assert s.readline() == b"ok gong\\n"
            device.wait_event("servo 2000")

The board behaves like an Arduino: opening the port resets it, and ``ready`` follows after
a short boot delay. Simulated time runs at real speed. ``events`` collects what the
harness saw on the pins, one line each, with the simulated time at the end:
``servo 1000 @0.001162``, ``pulse-period 20000 @...``, ``servo off @...``,
``ws2812 000000 800000 ... @...`` (one RRGGBB colour a LED, in chain order),
``timing-error ws2812 ... @...`` and ``reset @...``.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

FIRMWARE_DIR = Path(__file__).resolve().parents[2] / "firmware"
"""The firmware sources: sketches, shared parser, Makefile and simulator harness."""
BUILD_DIR = FIRMWARE_DIR / "build"
"""Where ``make -C firmware`` puts the images and the harness."""
KINDS = ("gong", "map")
"""The two firmwares."""
BAUD = 9600
"""The serial line's speed, as the firmware sets it."""
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
"""In CI a missing tool fails the tests that need it instead of skipping them."""

_TOOLS = ("make", "avr-gcc", "avr-g++", "avr-objcopy", "g++", "cc")
_FILES = (
    (Path("/usr/share/arduino/hardware/arduino/avr/cores/arduino/Arduino.h"), "arduino-core-avr"),
    (Path("/usr/lib/avr/include/avr/io.h"), "avr-libc"),
    (Path("/usr/include/simavr/sim_avr.h"), "libsimavr-dev"),
    (Path("/usr/include/libelf.h"), "libelf-dev"),
)
_build_lock = threading.Lock()
_built = False


class FirmwareUnavailable(RuntimeError):
    """A tool or library that building or simulating the firmware needs is not installed."""


def missing_tools() -> list[str]:
    """Return what building and simulating the firmware needs and this machine lacks."""
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    missing += [package for path, package in _FILES if not path.exists()]
    return missing


def build() -> Path:
    """Build both firmware images and the harness (once per process) and return the build dir.

    Raises:
        FirmwareUnavailable: a tool or library is missing.
        RuntimeError: the build failed; the message holds make's output.
    """
    global _built
    with _build_lock:
        if _built:
            return BUILD_DIR
        missing = missing_tools()
        if missing:
            raise FirmwareUnavailable(
                "the firmware cannot be built here; missing: " + ", ".join(missing)
            )
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        # Several test processes may build at once; make is not safe against itself.
        with open(BUILD_DIR / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            result = subprocess.run(
                ["make", "-C", str(FIRMWARE_DIR), "-j2", "all", "sim"],
                capture_output=True,
                text=True,
                timeout=300,
            )
        if result.returncode != 0:
            raise RuntimeError(f"make -C firmware failed:\n{result.stdout}\n{result.stderr}")
        _built = True
        return BUILD_DIR


def require_firmware() -> Path:
    """Build the firmware for a test; skip the test if tools are missing, or fail it in CI."""
    import pytest

    try:
        return build()
    except FirmwareUnavailable as missing:
        if IN_CI:
            pytest.fail(str(missing))
        pytest.skip(str(missing))


class EventLog:
    """A thread-safe, append-only list of event lines that can be waited on."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._changed = threading.Condition()

    def append(self, line: str) -> None:
        """Add a line and wake whoever waits."""
        with self._changed:
            self._lines.append(line)
            self._changed.notify_all()

    def snapshot(self) -> list[str]:
        """Return a copy of every line so far."""
        with self._changed:
            return list(self._lines)

    def __len__(self) -> int:
        with self._changed:
            return len(self._lines)

    def __getitem__(self, index: int) -> str:
        with self._changed:
            return self._lines[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self.snapshot())

    def wait_for(self, prefix: str, timeout: float, since: int = 0) -> str | None:
        """Return the first line from index ``since`` on that starts with the words of
        ``prefix``, waiting up to ``timeout`` seconds for it; None if none came."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self._lines[since:]:
                    if line == prefix or line.startswith(prefix + " "):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)


class SimulatedDevice:
    """The gong or map firmware running in the simavr harness, with its serial port on a pty.

    Use as a context manager; ``port`` is the pty path to open at ``BAUD``.
    """

    def __init__(
        self,
        kind: str,
        *,
        boot_delay: float = 0.25,
        reset_on_open: bool = True,
        speed: float = 1.0,
    ) -> None:
        """Args:
        kind: ``gong`` or ``map``.
        boot_delay: real seconds between opening the port and the sketch starting (the
            bootloader's wait on a real board); what the host sends meanwhile is lost.
        reset_on_open: reset the board whenever the port is opened, as an Arduino does.
        speed: simulated seconds per real second (1: real time; 0: as fast as possible).
        """
        if kind not in KINDS:
            raise ValueError(f"unknown firmware {kind!r}: expected one of {', '.join(KINDS)}")
        self.kind = kind
        self.port = ""
        """The pty path that carries the board's serial port (set by ``start``)."""
        self.events = EventLog()
        """Pin events, one line each, in the order the harness saw them."""
        self.stderr: list[str] = []
        """What the harness wrote on stderr (diagnostics)."""
        self._options = [f"--boot-delay={boot_delay}", f"--speed={speed}"]
        if not reset_on_open:
            self._options.append("--no-reset-on-open")
        self._process: subprocess.Popen[str] | None = None
        self._started = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> SimulatedDevice:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self, timeout: float = 10.0) -> None:
        """Build if needed, start the harness and wait for its pty.

        Raises:
            FirmwareUnavailable: a tool or library is missing.
            RuntimeError: the harness did not start.
        """
        build_dir = build()
        command = [
            str(build_dir / "gongsim"),
            "--exit-with-stdin",
            *self._options,
            str(build_dir / f"{self.kind}.elf"),
        ]
        # stdin stays open for the harness's life: when this process dies, the pipe
        # closes and the harness exits with it.
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._threads = [
            threading.Thread(target=self._read_events, name=f"sim-{self.kind}-events", daemon=True),
            threading.Thread(target=self._read_stderr, name=f"sim-{self.kind}-stderr", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        if not self._started.wait(timeout) or not self.port:
            self.stop()
            raise RuntimeError(f"gongsim did not start: {' '.join(self.stderr)}")

    def stop(self) -> None:
        """Stop the harness (the pty goes away with it)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for thread in self._threads:
            thread.join(timeout=2)

    @property
    def running(self) -> bool:
        """Whether the harness is still running."""
        return self._process is not None and self._process.poll() is None

    def mark(self) -> int:
        """Return how many events there are so far, to wait only for later ones."""
        return len(self.events)

    def wait_event(self, prefix: str, timeout: float = 5.0, since: int = 0) -> str:
        """Return the first event from index ``since`` on that starts with the words of
        ``prefix`` (``servo 2000`` matches ``servo 2000 @1.2``, not ``servo 20000 @1.2``).

        Raises:
            TimeoutError: no such event within ``timeout`` seconds.
        """
        line = self.events.wait_for(prefix, timeout, since)
        if line is None:
            recent = "\n  ".join(self.events.snapshot()[since:][-10:])
            raise TimeoutError(f"no {prefix!r} event in {timeout} s; last events:\n  {recent}")
        return line

    def _read_events(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        first = stdout.readline().strip()
        if first.startswith("pty "):
            self.port = first.split(" ", 1)[1]
        self._started.set()
        for line in stdout:
            self.events.append(line.rstrip("\n"))

    def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for line in self._process.stderr:
            self.stderr.append(line.rstrip("\n"))
        self._started.set()


def event_time(line: str) -> float:
    """Return the simulated time, in seconds, at the end of an event line."""
    return float(line.rsplit("@", 1)[1])


def event_words(line: str) -> list[str]:
    """Return an event's words without its time: ``servo 1000 @0.1`` gives ``[servo, 1000]``."""
    return line.rsplit(" @", 1)[0].split()


def frame_colours(line: str) -> list[str]:
    """Return the RRGGBB colour of every LED in a ``ws2812`` event."""
    words = event_words(line)
    if not words or words[0] != "ws2812":
        raise ValueError(f"not a ws2812 frame: {line!r}")
    return words[1:]


def map_leds() -> dict[str, int]:
    """Return the map sketch's location table: location name to LED index."""
    source = (FIRMWARE_DIR / "map" / "map.ino").read_text()
    return {name: int(led) for name, led in re.findall(r'\{"([a-z0-9]+)", (\d+)\}', source)}


def map_colours() -> dict[str, str]:
    """Return the map sketch's colour of every status, as RRGGBB."""
    source = (FIRMWARE_DIR / "map" / "map.ino").read_text()
    pattern = r'\{"([a-z]+)", (\d+), (\d+), (\d+)\}'
    return {
        name: f"{int(r):02x}{int(g):02x}{int(b):02x}"
        for name, r, g, b in re.findall(pattern, source)
    }
