"""Provides the machines the overhead benchmark measures the monitor on, built from the tests'
stand-ins: a fake hwmon tree (inside a private mount namespace), smartctl replaying recorded
disks, the local Server Density-style server, and the gong and map emulated on ptys.

- ``full``: every kind of source on: the four chip layouts, two recorded disks, a Server
  Density-style API, two HTTP checks, both devices, and an alert rule.
- ``scale``: about 500 metrics: twenty chips of twenty sensors, 50 HTTP checks every 5 s and
  the Server Density-style API.

``measure(setup, ...)`` runs inside the namespace (through ``FakeSys.call``) and returns what
``overhead.run`` measured.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from tests.emulator import EmulatedDevice
from tests.hardware_fakes import hwmon_tree
from tests.hardware_fakes.smartctl import RECORDINGS, FakeSmartctl
from tests.remote_server import TOKEN, RemoteServer

DISKS = (RECORDINGS / "singletests" / "usb_ssd_0_issue_50", RECORDINGS / "singletests" / "nvme_0")
SCALE_CHIPS = 20
SENSORS_PER_CHIP = 20
SCALE_CHECKS = 50


def scale_chip(index: int) -> None:
    """Add an ina3221-like chip with twenty voltage and temperature sensors at its own address."""
    device = os.path.join(hwmon_tree.CLASS, "devices", f"i2c-1/1-00{0x40 + index:02x}")
    hw_dir = os.path.join(device, "hwmon", f"hwmon{100 + index}")
    os.makedirs(hw_dir)
    attrs: dict[str, object] = {"name": "ina3221"}
    for n in range(1, SENSORS_PER_CHIP // 2 + 1):
        attrs[f"in{n}_input"] = 1000 + 10 * n + index
        attrs[f"in{n}_label"] = f"rail {n}"
        attrs[f"temp{n}_input"] = 30000 + 500 * n
        attrs[f"temp{n}_max"] = 90000
    for attr, value in attrs.items():
        hwmon_tree.write(hw_dir, attr, value)
    link = os.path.join(hwmon_tree.CLASS, "hwmon", f"hwmon{100 + index}")
    os.symlink(os.path.relpath(hw_dir, os.path.dirname(link)), link)


def config_text(setup: str, url: str, smartctl: str, gong: str, map_port: str) -> str:
    """The configuration of a setup, pointing at the stand-ins."""
    sd = (
        f'[[remote.serverdensity]]\nname = "sd"\nurl = "{url}"\ntoken = "{TOKEN}"\n'
        'interval = 30.0\ntimeout = 2.0\nservices = ["web", "Shop Front"]\n'
    )
    if setup == "scale":
        checks = "".join(
            f'[[remote.http]]\nname = "check{i}"\nurl = "{url}/check/ok"\ninterval = 5.0\n'
            for i in range(SCALE_CHECKS)
        )
        return f"[collectors.smart]\nenabled = false\n{sd}{checks}"
    return (
        f'[collectors.smart]\nsmartctl = "{smartctl}"\ninterval = 60.0\n{sd}'
        f'[[remote.http]]\nname = "blog"\nurl = "{url}/check/ok"\ninterval = 10.0\n'
        f'[[remote.http]]\nname = "dead"\nurl = "{url}/check/status/500"\ninterval = 10.0\n'
        f'[devices.gong]\nport = "{gong}"\ncooldown = 30.0\n'
        f'[devices.map]\nport = "{map_port}"\n'
        '[devices.map.locations]\nsydney = "sydney"\nlondon = "london"\n'
        '[[alerts]]\nmetrics = "remote/**"\nseverity = "critical"\nfor = 30.0\n'
        'actions = ["gong"]\n'
    )


def measure(setup: str, seconds: float, cols: int, rows: int) -> dict[str, Any]:
    """Build the setup's stand-ins, run the monitor on them and return the measurement."""
    from benchmarks import overhead

    if setup == "scale":
        for i in range(SCALE_CHIPS):
            scale_chip(i)
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        # A history, alert state and daemon socket of the run's own: the monitor must neither
        # warm up from what earlier runs left in the user's history nor attach to a daemon.
        for var in ("XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
            os.environ[var] = os.path.join(tmp, var.lower())
            os.makedirs(os.environ[var], mode=0o700)
        server = stack.enter_context(RemoteServer())
        gong = stack.enter_context(EmulatedDevice("gong"))
        leds = stack.enter_context(EmulatedDevice("map"))
        fake = FakeSmartctl(Path(tmp), *DISKS)
        path = Path(tmp) / "gongwatch.toml"
        path.write_text(config_text(setup, server.url, str(fake.path), gong.port, leds.port))
        path.chmod(0o600)
        exe = os.path.join(os.path.dirname(os.environ.get("GONGWATCH_PYTHON", "")), "gongwatch")
        cmd = [exe, "--config", str(path)]
        samples, out_bytes, first = overhead.run(cmd, seconds, cols, rows)
        return {
            "samples": [(s.wall, s.cpu, s.rss, s.groups, s.pss, s.uss) for s in samples],
            "out_bytes": out_bytes,
            "first_frame": first,
        }
