"""Provides direct reads of /sys/class/hwmon: chip names as libsensors builds them, the features
of a chip, and the drive temperatures that need no root (the drivetemp and nvme chips)."""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, replace

HWMON = "/sys/class/hwmon"
"""Where the kernel lists its hardware-monitoring chips."""

KINDS = ("in", "fan", "temp", "power", "curr", "energy", "humidity", "intrusion")
"""The feature kinds libsensors knows, by their sysfs prefix."""

UNITS = {
    "in": "V",
    "fan": "RPM",
    "temp": "°C",
    "power": "W",
    "curr": "A",
    "energy": "J",
    "humidity": "%RH",
    "intrusion": "",
    "vid": "V",
}
"""Unit of each feature kind, after scaling."""

_SCALE = {"in": 1e3, "temp": 1e3, "curr": 1e3, "humidity": 1e3, "power": 1e6, "energy": 1e6}
_UNSCALED = re.compile(r"(^|_)(alarm|beep|fault|div|pulses|type)$")
_ATTR = re.compile(r"^(in|fan|temp|power|curr|energy|humidity|intrusion)(\d+)_([a-z_]+)$")


@dataclass(frozen=True, slots=True)
class Chip:
    """One hwmon chip."""

    path: str
    """Its hwmon directory (``/sys/class/hwmon/hwmon2``)."""
    prefix: str
    """The driver's name for it (``nct6775``)."""
    name: str
    """The name ``sensors`` prints (``nct6775-isa-0290``)."""
    device: str | None
    """Resolved path of the device behind it; None for a virtual chip."""


def chip_dirs(root: str = HWMON) -> list[str]:
    """Return the hwmon directory names (``hwmon0`` ...), sorted; empty when there are none."""
    try:
        return sorted(n for n in os.listdir(root) if not n.startswith("."))
    except OSError:
        return []


def chips(root: str = HWMON) -> list[Chip]:
    """Return every chip with a name, as libsensors would list them, each under a name of
    its own (see ``distinct_names``)."""
    found = []
    for entry in chip_dirs(root):
        chip = read_chip(os.path.join(root, entry))
        if chip is not None:
            found.append(chip)
    names = distinct_names([(c.name, c.device, c.path) for c in found])
    return [replace(c, name=n) if n != c.name else c for c, n in zip(found, names, strict=True)]


def distinct_names(chips: list[tuple[str, str | None, str]]) -> list[str]:
    """Return the chips' names, made unique where several chips share one.

    libsensors names a chip by its bus and address, which tells most chips apart but not all
    (every ACPI thermal zone is ``acpitz-acpi-0``, every virtual chip ``<name>-virtual-0``).
    A chip whose name is shared gets ``@`` and the end of its device path, which is stable
    across reboots; a chip with no device, the name of its hwmon directory.

    Args:
        chips: (libsensors' name, resolved device path or None, hwmon directory) per chip.

    Returns:
        One name per chip, in the same order.
    """
    count = Counter(name for name, _, _ in chips)
    out = []
    for name, device, path in chips:
        if count[name] == 1:
            out.append(name)
            continue
        peers = [d for n, d, _ in chips if n == name]
        where = device if device is not None and peers.count(device) == 1 else path
        others = [d or p for n, d, p in chips if n == name and (d or p) != where]
        out.append(f"{name}@{_distinct_tail(where, others)}")
    return out


def _distinct_tail(path: str, others: list[str]) -> str:
    """Return the shortest end of ``path`` that no path in ``others`` ends with."""
    parts = path.strip("/").split("/")
    for n in range(1, len(parts) + 1):
        tail = "/".join(parts[-n:])
        if not any(o.strip("/").endswith("/" + tail) or o.strip("/") == tail for o in others):
            return tail.replace("/", "_")
    return "_".join(parts)


def read_text(path: str) -> str:
    """Return the stripped content of a sysfs attribute (raises OSError)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().strip()


def read_chip(path: str) -> Chip | None:
    """Return the chip of one hwmon directory, or None when it has no name."""
    link = os.path.join(path, "device")
    device = os.path.realpath(link) if os.path.exists(link) else None
    for where in (path, device):
        if where is None:
            continue
        try:
            prefix = read_text(os.path.join(where, "name"))
        except OSError:
            continue
        return Chip(path, prefix, chip_name(prefix, device), device)
    return None


def _subsystem(device: str) -> str | None:
    try:
        return os.path.basename(os.readlink(os.path.join(device, "subsystem")))
    except OSError:
        return None


def _classify(prefix: str, dev: str, subsys: str | None) -> str | None:
    """Name a chip from its device's name and subsystem, following libsensors' rules."""
    if subsys in (None, "i2c") and (m := re.fullmatch(r"(\d+)-([0-9a-fA-F]+)", dev)):
        return f"{prefix}-i2c-{int(m[1])}-{int(m[2], 16):02x}"
    if subsys in (None, "spi") and (m := re.fullmatch(r"spi(\d+)\.(\d+)", dev)):
        return f"{prefix}-spi-{int(m[1])}-{int(m[2]):x}"
    pci = re.fullmatch(r"([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)\.([0-9a-f]+)", dev)
    if subsys in (None, "pci") and pci:
        d, b, s, f = (int(x, 16) for x in pci.groups())
        return f"{prefix}-pci-{(d << 16) + (b << 8) + (s << 3) + f:04x}"
    if subsys in (None, "platform", "of_platform"):
        m = re.fullmatch(r"[a-z0-9_]+\.(\d+)", dev)
        return f"{prefix}-isa-{int(m[1]) if m else 0:04x}"
    if subsys == "acpi":
        return f"{prefix}-acpi-0"
    if subsys == "hid" and (m := re.fullmatch(r"([0-9a-fA-F]+):\w+:\w+\.([0-9a-fA-F]+)", dev)):
        return f"{prefix}-hid-{int(m[1], 16)}-{int(m[2], 16):x}"
    if subsys == "mdio_bus":
        m = re.fullmatch(r"[^:]*:(\d+)", dev)
        return f"{prefix}-mdio-{int(m[1]) if m else 0:x}"
    if subsys == "scsi" and (m := re.fullmatch(r"(\d+):(\d+):(\d+):(\d+)", dev)):
        host, chan, target, lun = (int(x) for x in m.groups())
        return f"{prefix}-scsi-{host}-{(chan << 8) + (target << 4) + lun:x}"
    return None


def chip_name(prefix: str, device: str | None) -> str:
    """Return the name ``sensors`` prints for a chip: walk up the device links until a bus
    libsensors knows classifies it, else call it virtual."""
    seen = 0
    while device is not None and seen < 8:
        name = _classify(prefix, os.path.basename(device), _subsystem(device))
        if name is not None:
            return name
        parent = os.path.join(device, "device")
        device = os.path.realpath(parent) if os.path.exists(parent) else None
        seen += 1
    return f"{prefix}-virtual-0"


def features(chip: Chip) -> dict[str, dict[str, str]]:
    """Return the chip's features: ``{"temp1": {"input": path, "max": path, ...}}``."""
    out: dict[str, dict[str, str]] = {}
    try:
        names = os.listdir(chip.path)
    except OSError:
        return out
    for name in names:
        m = _ATTR.match(name)
        if m:
            out.setdefault(m[1] + m[2], {})[m[3]] = os.path.join(chip.path, name)
    return dict(sorted(out.items(), key=lambda kv: _feature_order(kv[0])))


def _feature_order(feature: str) -> tuple[int, int]:
    kind = feature.rstrip("0123456789")
    return KINDS.index(kind), int(feature[len(kind) :])


def divisor(kind: str, sub: str) -> float:
    """Return what a subfeature's raw sysfs number is divided by, as libsensors scales it."""
    if _UNSCALED.search(sub):
        return 1.0
    if sub == "offset" or sub == "average_interval":
        return 1e3
    return _SCALE.get(kind, 1.0)


def read_number(path: str) -> float:
    """Read a sysfs attribute as a number, unscaled (raises OSError or ValueError).

    One attribute is read per sensor and limit on every poll, so this skips the text layer.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        return float(os.read(fd, 64))
    finally:
        os.close(fd)


def read_value(kind: str, sub: str, path: str) -> float:
    """Read one subfeature and scale it as libsensors does (raises OSError or ValueError)."""
    return read_number(path) / divisor(kind, sub)


def drive_of(chip: Chip) -> str | None:
    """Return the disk a drivetemp or nvme chip measures (``sda``, ``nvme0``), else None."""
    if chip.device is None or chip.prefix not in ("drivetemp", "nvme"):
        return None
    sub = "block" if chip.prefix == "drivetemp" else "nvme"
    try:
        names = sorted(os.listdir(os.path.join(chip.device, sub)))
    except OSError:
        return None
    return names[0] if names else None


@dataclass(frozen=True, slots=True)
class DriveTemperature:
    """A disk's temperature read from its hwmon chip."""

    disk: str
    """Block device (``sda``) or NVMe controller (``nvme0``)."""
    chip: str
    """The chip's libsensors name (``drivetemp-scsi-0-0``)."""
    celsius: float | None
    """The temperature; None when it could not be read."""
    high: float | None = None
    crit: float | None = None
    error: str | None = None


def drive_temperatures(root: str = HWMON) -> list[DriveTemperature]:
    """Return the temperature of every disk that has a drivetemp or nvme hwmon chip."""
    out = []
    for chip in chips(root):
        disk = drive_of(chip)
        if disk is None:
            continue
        paths = features(chip).get("temp1", {})
        values: dict[str, float] = {}
        error = None
        for sub in ("input", "max", "crit"):
            if sub in paths:
                try:
                    values[sub] = read_value("temp", sub, paths[sub])
                except (OSError, ValueError) as exc:
                    error = f"{chip.name}/temp1_{sub}: {getattr(exc, 'strerror', None) or exc}"
        out.append(
            DriveTemperature(
                disk, chip.name, values.get("input"), values.get("max"), values.get("crit"), error
            )
        )
    return out
