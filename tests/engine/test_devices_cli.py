"""Tests ``gongwatch ports`` and ``gongwatch send`` against the emulated devices."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectors import serial_link
from engine.config import Config, DeviceConfig
from engine.devices_cli import baud_for, cmd_ports, cmd_send
from tests.emulator import EmulatedDevice
from tests.firmware.simdevice import SimulatedDevice, require_firmware

ROOT = Path(__file__).resolve().parents[2]


def send(port: str, line: str, **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cmd_send(Config(), port, line, out=out, err=err, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def test_send_strikes_the_gong_and_prints_the_reply() -> None:
    with EmulatedDevice("gong") as emu:
        assert send(emu.port, "gong") == (0, "ok gong\n", "")
        assert emu.wait_event("strike")


def test_send_exits_1_with_the_reason_on_err() -> None:
    with EmulatedDevice("gong", cooldown=60.0) as emu:
        assert send(emu.port, "gong")[0] == 0
        code, out, err = send(emu.port, "gong")
    assert (code, out) == (1, "err cooldown\n")
    assert err == f"gongwatch: {emu.port}: cooldown\n"


def test_send_exits_1_on_a_timeout() -> None:
    with EmulatedDevice("gong", silent=True) as emu:
        code, out, err = send(emu.port, "gong", timeout=0.2)
    assert (code, out) == (1, "")
    assert err == f"gongwatch: {emu.port}: no reply to 'ping' within 0.2 s\n"


def test_send_honours_its_timeout_as_the_bound_of_it_all() -> None:
    with EmulatedDevice("gong", silent=True) as emu:
        start = time.monotonic()
        code, _, err = send(emu.port, "gong", timeout=1.0)
        took = time.monotonic() - start
    assert code == 1 and err == f"gongwatch: {emu.port}: no reply to 'ping' within 1 s\n"
    assert took < 1.5, f"send --timeout 1 took {took:.1f} s"


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("london upp", "bad status 'upp'"),
        ("London up", "bad location name 'London'"),
        ("LONDON up", "bad location name 'LONDON'"),
        ("sydney down all off", "one command a line"),
    ],
)
def test_send_refuses_what_the_protocol_does_not_have(line: str, why: str) -> None:
    with EmulatedDevice("map") as emu:
        code, out, err = send(emu.port, line)
        assert (code, out) == (2, "")
        assert err.startswith(f"gongwatch: {emu.port}: not sent: ") and why in err
        assert err.count("\n") == 1
        assert emu.opens == 0 and emu.received == []


@pytest.mark.parametrize(
    ("kind", "line", "why"),
    [
        ("map", "atlantis up", "unknown location 'atlantis': the map knows amsterdam, "),
        ("map", "gong", "the map has no 'gong' command"),
        ("gong", "london up", "the gong knows only 'gong' and 'ping'"),
    ],
)
def test_send_refuses_what_the_board_does_not_have(kind: str, line: str, why: str) -> None:
    with EmulatedDevice(kind) as emu:
        code, out, err = send(emu.port, line)
        assert (code, out) == (2, "")
        assert err.startswith(f"gongwatch: {emu.port}: not sent: ") and why in err
        assert line not in emu.received and emu.events == []


def test_send_refuses_a_bad_line_without_opening_the_port() -> None:
    with EmulatedDevice("map") as emu:
        code, out, err = send(emu.port, "london up\nall off")
        assert (code, out) == (2, "")
        assert "line break" in err
        assert emu.opens == 0 and emu.received == []


def test_send_reports_a_missing_port() -> None:
    code, _, err = send("/nonexistent/tty", "gong")
    assert code == 1
    assert err == "gongwatch: /nonexistent/tty: cannot open: No such file or directory\n"


def test_send_verbose_traces_the_wire() -> None:
    with EmulatedDevice("gong") as emu:
        code, _, err = send(emu.port, "ping", verbose=True)
    assert code == 0
    assert "    sent: ping" in err and "received: pong gong 1.0 (" in err


def test_ports_lists_which_firmware_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serial_link.list_ports, "comports", lambda: [])
    with EmulatedDevice("gong") as gong, EmulatedDevice("map") as leds:
        config = Config(gong=DeviceConfig(port=gong.port))
        out = io.StringIO()
        assert cmd_ports(config, [leds.port, "/nonexistent/tty"], out=out) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(gong.port) and "gong 1.0" in lines[0]
    assert lines[1].startswith(leds.port) and "map 1.0" in lines[1]
    assert "No such file or directory" in lines[2]


def test_ports_says_when_there_are_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serial_link.list_ports, "comports", lambda: [])
    out = io.StringIO()
    assert cmd_ports(Config(), out=out) == 0
    assert out.getvalue() == "no serial ports found\n"


def test_the_configured_baud_is_used_for_a_configured_port() -> None:
    config = Config(map=DeviceConfig(port="/dev/ttyUSB1", baud=57600))
    assert baud_for(config, "/dev/ttyUSB1") == 57600
    assert baud_for(config, "/dev/ttyUSB0") == 9600


def test_gongwatch_send_from_the_command_line() -> None:
    with EmulatedDevice("gong") as emu:
        proc = subprocess.run(
            [sys.executable, "-m", "tui", "send", emu.port, "gong"],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert emu.wait_event("strike")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "ok gong\n", "")


def test_gongwatch_send_strikes_the_simulated_gong() -> None:
    """The real gong firmware, in the simulator: the reply is printed, the servo swings."""
    require_firmware()
    with SimulatedDevice("gong") as sim:
        proc = subprocess.run(
            [sys.executable, "-m", "tui", "send", sim.port, "gong"],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "ok gong\n", "")
        sim.wait_event("servo 2000")
