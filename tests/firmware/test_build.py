"""The firmware builds for the ATmega328P, fits it, and its parser passes the host tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.firmware.simdevice import FIRMWARE_DIR, IN_CI, KINDS

FLASH_FOR_SKETCH = 30 * 1024
"""ATmega328P flash left by the Nano's 2 KB bootloader, in bytes."""
RAM_FOR_GLOBALS = 1536
"""Static RAM (.data + .bss) we allow, keeping 512 of the 2048 bytes for the stack."""


def test_host_parser_tests_pass(firmware_build: Path) -> None:
    result = subprocess.run(
        ["make", "-C", str(FIRMWARE_DIR), "test"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checks passed" in result.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_images_are_built(firmware_build: Path, kind: str) -> None:
    hex_file = firmware_build / f"{kind}.hex"
    assert (firmware_build / f"{kind}.elf").is_file()
    lines = hex_file.read_text().splitlines()
    assert lines[0].startswith(":") and lines[-1] == ":00000001FF"


@pytest.mark.parametrize("kind", KINDS)
def test_image_fits_the_atmega328p(firmware_build: Path, kind: str) -> None:
    avr_size = shutil.which("avr-size")
    if avr_size is None:
        message = "avr-size (binutils-avr) is not installed"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    out = subprocess.run(
        [avr_size, str(firmware_build / f"{kind}.elf")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    text, data, bss = (int(n) for n in out.splitlines()[1].split()[:3])
    assert text + data <= FLASH_FOR_SKETCH
    assert data + bss <= RAM_FOR_GLOBALS
