"""Tests ``gongwatch once --json`` in a subprocess on a fake machine: the hwmon tree in a private
mount namespace and a replaying smartctl first in PATH; as root and as nobody."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.smart import NEEDS_ROOT
from tests.conftest import require_tool
from tests.hardware_fakes import hwmon_tree
from tests.hardware_fakes.nsworker import FakeSys, require_namespace
from tests.hardware_fakes.smartctl import RECORDINGS, FakeSmartctl

GONGWATCH = str(Path(sys.executable).with_name("gongwatch"))
# Two recorded disks whose names match the fake tree's drivetemp (sda) and nvme (nvme0) chips.
DISKS = (RECORDINGS / "singletests" / "usb_ssd_0_issue_50", RECORDINGS / "singletests" / "nvme_0")


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """A folder nobody can read too (pytest's tmp_path is private to root)."""
    where = Path(tempfile.mkdtemp(prefix="gongwatch-test-"))
    where.chmod(0o755)
    yield where
    shutil.rmtree(where)


def once(fs: FakeSys, fake: FakeSmartctl, home: Path, prefix: list[str] = ()) -> list[dict]:
    env = {"PATH": f"{fake.path.parent}:{os.environ['PATH']}", "XDG_CONFIG_HOME": str(home)}
    out = fs.run([*prefix, GONGWATCH, "once", "--json"], env=env, timeout=60)
    assert out["rc"] == 0, out["stderr"]
    return [json.loads(line) for line in out["stdout"].splitlines()]


def test_once_json_lists_every_sensor_and_disk_with_limits_and_status(
    world_readable_dir: Path,
) -> None:
    require_namespace()
    fake = FakeSmartctl(world_readable_dir, *DISKS)
    with FakeSys(hwmon_tree.LAYOUTS) as fs:
        fs.call(
            "tests.collectors.test_sensors:in_ns_write",
            hw=fs.hwmon["nct6775"],
            attr="fan1_alarm",
            value=1,
        )
        lines = once(fs, fake, world_readable_dir)
    by_key = {x["key"]: x for x in lines if "key" in x}
    sensors = [k for k in by_key if k.startswith("sensors/")]
    assert len(sensors) == 29
    fan = by_key["sensors/nct6775-isa-0290/fan1"]
    assert (fan["value"], fan["low"], fan["status"], fan["text"]) == (
        1068.0,
        300.0,
        "warning",
        "ALARM",
    )
    core = by_key["sensors/coretemp-isa-0000/Package id 0"]
    assert (core["high"], core["crit"], core["unit"], core["status"]) == (80.0, 100.0, "°C", "ok")
    assert by_key["disk/sda/health"]["text"] == "PASSED"
    assert by_key["disk/sda/temperature"]["value"] == 33.0
    assert by_key["disk/nvme0/health"]["text"] == "PASSED"
    nvme = by_key["disk/nvme0/temperature"]
    assert (nvme["value"], nvme["high"], nvme["crit"]) == (42.0, 82.0, 85.0)
    assert by_key["disk/nvme0/hwmon"]["text"] == "nvme-pci-0100"
    assert by_key["disk/sda/smart/5_Reallocated_Sector_Ct"]["status"] == "ok"
    assert not [x for x in lines if x.get("source") in ("sensors", "smart")]


def test_once_as_nobody_says_smart_needs_root_and_still_shows_drive_temperatures(
    world_readable_dir: Path,
) -> None:
    require_namespace()
    setpriv = require_tool("setpriv")
    fake = FakeSmartctl(world_readable_dir, *DISKS)
    fake.set_state(denied=True)  # what smartctl prints to a user who may not open the disks
    # nobody, with no capability but reading files: the checkout may sit in root's home.
    nobody = [
        setpriv,
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
    ]
    with FakeSys(hwmon_tree.LAYOUTS) as fs:
        lines = once(fs, fake, world_readable_dir, nobody)
    by_key = {x["key"]: x for x in lines if "key" in x}
    assert {"source": "smart", "unavailable": NEEDS_ROOT} in lines
    assert by_key["disk/sda/temperature"]["value"] == 36.0  # from drivetemp, no root needed
    assert by_key["disk/nvme0/temperature"]["value"] == 38.85
    assert len([k for k in by_key if k.startswith("sensors/")]) == 29
