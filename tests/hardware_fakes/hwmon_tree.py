"""Provides a fake /sys/class/hwmon tree built from the real chip layouts in tests/data/hwmon.

It is meant to sit on a tmpfs mounted over /sys/class in a private mount namespace, so that
libsensors, psutil and ``sensors`` all read it. /sys itself must stay sysfs (libsensors checks),
so the devices behind the chips live in the same tmpfs, under ``devices/`` and ``bus/``, and the
``hwmonN`` entries link to them the way the kernel's link into /sys/devices.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "hwmon"
"""The chip layouts: one JSON file a chip (device path, subsystem, attributes)."""

LAYOUTS = ("coretemp", "nct6775", "drivetemp", "nvme")
"""Every layout, in the order a typical machine lists them."""

CLASS = "/sys/class"


def layout(name: str) -> dict:
    """Return one chip layout."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def add_chip(
    name: str, base: str = CLASS, hwmon: int | None = None, device: str | None = None
) -> str:
    """Create one chip (its device, subsystem link and hwmon directory); return its hwmonN.

    ``hwmon`` and ``device`` place a copy of the layout elsewhere (another hwmon number, another
    bus address such as ``platform/i2c-2/2-0041``), as on a board with several such chips.
    """
    spec = layout(name)
    index = spec["hwmon"] if hwmon is None else hwmon
    hw_name = f"hwmon{index}"
    device = os.path.join(base, "devices", spec["device"] if device is None else device)
    os.makedirs(device, exist_ok=True)
    bus = os.path.join(base, "bus", spec["subsystem"])
    os.makedirs(bus, exist_ok=True)
    if not os.path.islink(os.path.join(device, "subsystem")):
        os.symlink(os.path.relpath(bus, device), os.path.join(device, "subsystem"))
    for child in spec["children"]:
        os.makedirs(os.path.join(device, child), exist_ok=True)
    hw_dir = os.path.join(device, "hwmon", hw_name)
    os.makedirs(hw_dir)
    for attr, value in spec["attrs"].items():
        write(hw_dir, attr, value)
    # As in the kernel: hwmonN/device -> ../../../<device name>
    os.symlink(f"../../../{os.path.basename(device)}", os.path.join(hw_dir, "device"))
    os.makedirs(os.path.join(base, "hwmon"), exist_ok=True)
    link = os.path.join(base, "hwmon", hw_name)
    os.symlink(os.path.relpath(hw_dir, os.path.dirname(link)), link)
    return hw_name


def remove_chip(hw_name: str, base: str = CLASS) -> None:
    """Make a chip vanish, as when its driver is unloaded."""
    link = os.path.join(base, "hwmon", hw_name)
    target = os.path.realpath(link)
    os.unlink(link)
    shutil.rmtree(target)


def build(names: tuple[str, ...] | list[str] = LAYOUTS, base: str = CLASS) -> dict[str, str]:
    """Create every named chip; return ``{layout name: hwmonN}``."""
    return {name: add_chip(name, base) for name in names}


def write(hw_dir_or_name: str, attr: str, value: object, base: str = CLASS) -> None:
    """Set one attribute, as the kernel would show a new value."""
    hw_dir = hw_dir_or_name
    if not os.path.isabs(hw_dir):
        hw_dir = os.path.join(base, "hwmon", hw_dir)
    with open(os.path.join(hw_dir, attr), "w", encoding="utf-8") as f:
        f.write(f"{value}\n")


def make_eio(hw_name: str, attr: str, base: str = CLASS) -> None:
    """Make one attribute fail with EIO, as a sensor on a flaky bus does.

    Reading /proc/PID/mem at offset 0 (never mapped) fails with EIO, so that file is bind
    mounted over the attribute (PID is this process, which must outlive the readers).
    """
    import subprocess

    path = os.path.join(base, "hwmon", hw_name, attr)
    subprocess.run(["mount", "--bind", f"/proc/{os.getpid()}/mem", path], check=True)
