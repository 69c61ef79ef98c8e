"""The simulator harness itself: several boards at once, and no board left behind."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.firmware.conftest import Console
from tests.firmware.simdevice import SimulatedDevice


def test_two_boards_run_side_by_side(firmware_build: Path) -> None:
    with SimulatedDevice("gong") as gong, SimulatedDevice("map") as map_device:
        assert gong.port != map_device.port
        consoles = [Console(gong.port), Console(map_device.port)]
        try:
            for console in consoles:
                console.wait_ready()
            assert consoles[0].command("ping") == "pong gong 1.0"
            assert consoles[1].command("ping") == "pong map 1.0"
        finally:
            for console in consoles:
                console.close()


def test_the_board_runs_before_the_port_is_opened(firmware_build: Path) -> None:
    with SimulatedDevice("gong") as device:
        device.wait_event("servo 1000")
        device.wait_event("pulse-period 20000")
        assert not [e for e in device.events if e.startswith("reset")]


def test_harness_exits_with_its_parent(firmware_build: Path) -> None:
    command = [
        str(firmware_build / "gongsim"),
        "--exit-with-stdin",
        str(firmware_build / "map.elf"),
    ]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdout is not None and process.stdin is not None
    assert process.stdout.readline().startswith(b"pty /dev/")
    process.stdin.close()
    try:
        assert process.wait(timeout=3) == 0
    finally:
        process.kill()
        process.stdout.close()


def test_simulated_time_keeps_up_with_real_time(firmware_build: Path) -> None:
    with SimulatedDevice("gong") as device:
        device.wait_event("pulse-period")
        start = time.monotonic()
        time.sleep(1.0)
        # Every 20 ms pulse is there: the servo went on without a gap.
        console = Console(device.port)
        try:
            console.wait_ready()
        finally:
            console.close()
        elapsed = time.monotonic() - start
        reset = device.wait_event("reset")
        simulated = float(reset.rsplit("@", 1)[1])
        assert 0.8 * elapsed <= simulated <= 1.2 * elapsed + 0.1
