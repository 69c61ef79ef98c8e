"""Fixtures for the firmware tests: one build a session, and simulated boards with a console."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import serial

from tests.firmware.simdevice import BAUD, SimulatedDevice, require_firmware


class Console:
    """The host's end of a board's serial line: sends command lines, reads reply lines."""

    def __init__(self, port: str) -> None:
        self.serial = serial.Serial(port, BAUD, timeout=0.1)

    def close(self) -> None:
        """Close the port."""
        self.serial.close()

    def read_line(self, timeout: float = 2.0) -> str | None:
        """Return the next line without its newline, or None if none came in time."""
        deadline = time.monotonic() + timeout
        data = b""
        while time.monotonic() < deadline:
            data += bytes(self.serial.read_until(b"\n"))
            if data.endswith(b"\n"):
                return data[:-1].decode("ascii", errors="replace")
        return None

    def wait_ready(self, timeout: float = 3.0) -> None:
        """Wait for the board's ``ready`` (it resets when the port opens)."""
        line = self.read_line(timeout)
        assert line == "ready", f"expected 'ready' from the board, got {line!r}"

    def send(self, data: str | bytes) -> None:
        """Write raw text (with its own newlines) to the board."""
        self.serial.write(data.encode("ascii") if isinstance(data, str) else data)
        self.serial.flush()

    def command(self, line: str, timeout: float = 2.0) -> str:
        """Send one command line and return the reply line."""
        self.send(line + "\n")
        reply = self.read_line(timeout)
        assert reply is not None, f"no reply to {line!r}"
        return reply

    def drain(self, quiet: float = 0.3) -> list[str]:
        """Return every line that comes until the line has been quiet for ``quiet`` seconds."""
        lines = []
        while (line := self.read_line(quiet)) is not None:
            lines.append(line)
        return lines


@dataclass
class Board:
    """A simulated board and a console on its serial port."""

    device: SimulatedDevice
    console: Console


@pytest.fixture(scope="session")
def firmware_build() -> Path:
    """Build both images and the harness once; skip without the tools (fail in CI)."""
    return require_firmware()


def _board(kind: str) -> Iterator[Board]:
    with SimulatedDevice(kind) as device:
        console = Console(device.port)
        try:
            console.wait_ready()
            yield Board(device, console)
        finally:
            console.close()


@pytest.fixture
def gong(firmware_build: Path) -> Iterator[Board]:
    """The gong firmware, simulated, with the port open and ``ready`` read."""
    yield from _board("gong")


@pytest.fixture
def map_board(firmware_build: Path) -> Iterator[Board]:
    """The map firmware, simulated, with the port open and ``ready`` read."""
    yield from _board("map")
