"""Tests the SMART collector through pySMART and a fake smartctl that replays recorded disks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from collectors.base import Batch, Reading, Status
from collectors.smart import NEEDS_ROOT, SmartCollector
from collectors.smart_disk import HEALTH
from engine import Engine
from engine.config import Config
from tests.conftest import require_tool
from tests.hardware_fakes import hwmon_tree
from tests.hardware_fakes.smartctl import FakeSmartctl, recorded_machines

MACHINES = recorded_machines()
SATA = next(p for p in MACHINES if p.name == "sata_hdd_0_issue42")
NVME = next(p for p in MACHINES if p.name == "nvme_0")
ATTR5 = "5 Reallocated_Sector_Ct   0x0033   100   100   010    Pre-fail  Always       -       "


def poll(fake: FakeSmartctl, **kw: object) -> tuple[Batch, dict[str, Reading]]:
    collector = SmartCollector(smartctl=str(fake.path), hwmon_root="/nonexistent", **kw)
    batch = collector.poll()
    return batch, {r.key: r for r in batch.readings}


def test_the_recordings_are_there() -> None:
    assert len(MACHINES) >= 30, "../shared/data/smartctl is missing"


@pytest.mark.parametrize("machine", MACHINES, ids=[p.name for p in MACHINES])
def test_every_recorded_disk_shows_its_health_and_temperature(
    tmp_path: Path, machine: Path
) -> None:
    fake = FakeSmartctl(tmp_path, machine)
    batch, readings = poll(fake)
    health = {k: r for k, r in readings.items() if k.endswith("/health")}
    temps = {k: r.value for k, r in readings.items() if k.endswith("/temperature")}
    meta = fake.meta
    if "name" not in meta:  # a listing test: device.json says how many disks smartctl lists
        assert len(health) == meta["count"], batch.errors
        return
    values = meta["values"]
    assert [r.text.split(":")[0] for r in health.values()] == [
        HEALTH.get(values["assessment"] or "", "unknown")
    ], batch.errors
    expected = values["temperature"]
    assert list(temps.values()) == ([float(expected)] if expected is not None else [])
    assert readings[next(iter(health)).replace("/health", "/model")].text


def test_every_disk_command_passes_nocheck_standby(tmp_path: Path) -> None:
    fake = FakeSmartctl(tmp_path, SATA)
    poll(fake)
    disk_calls = [c for c in fake.calls() if not c["argv"][0].startswith("--scan")]
    assert disk_calls and all(c["nocheck"] for c in disk_calls)


def test_a_disk_in_standby_is_not_woken(tmp_path: Path) -> None:
    fake = FakeSmartctl(tmp_path, SATA)
    collector = SmartCollector(smartctl=str(fake.path), hwmon_root="/nonexistent")
    first = {r.key: r for r in collector.poll().readings}
    assert first["disk/sdau/state"].text == "active"
    fake.set_state(standby=["/dev/sdau"])
    batch = collector.poll()
    assert [(r.key, r.text) for r in batch.readings] == [("disk/sdau/state", "standby (not woken)")]
    assert not batch.errors
    assert not any("woke" in c for c in fake.calls())


def test_ata_failure_attributes_power_on_hours_and_self_test(tmp_path: Path) -> None:
    _, r = poll(FakeSmartctl(tmp_path, SATA))
    for num, name in [
        (5, "Reallocated_Sector_Ct"),
        (187, "Reported_Uncorrect"),
        (188, "Command_Timeout"),
        (197, "Current_Pending_Sector"),
        (198, "Offline_Uncorrectable"),
        (199, "UDMA_CRC_Error_Count"),
    ]:
        assert r[f"disk/sdau/smart/{num}_{name}"].value == 0.0
        assert r[f"disk/sdau/smart/{num}_{name}"].status == Status.OK
    assert r["disk/sdau/power_on_hours"].value == 252.0
    assert r["disk/sdau/serial"].text == "00008AXB"
    assert r["disk/sdau/capacity"].value == 12_000_138_625_024
    assert "in progress" in (r["disk/sdau/selftest"].text or "")
    assert r["disk/sdau/changes"].text == "nothing changed since start"


def test_nvme_critical_warning_media_errors_wear_and_spare(tmp_path: Path) -> None:
    _, r = poll(FakeSmartctl(tmp_path, NVME))
    assert r["disk/nvme0/smart/critical_warning"].value == 0.0
    assert r["disk/nvme0/smart/media_errors"].value == 0.0
    used = r["disk/nvme0/smart/percentage_used"]
    assert (used.value, used.unit, used.high) == (28.0, "%", 100.0)
    spare = r["disk/nvme0/smart/available_spare"]
    assert (spare.value, spare.low, spare.status) == (100.0, 10.0, Status.OK)
    temp = r["disk/nvme0/temperature"]
    assert (temp.value, temp.high, temp.crit) == (42.0, 82.0, 85.0)


def test_a_growing_failure_attribute_is_anomalous_whatever_the_detector(tmp_path: Path) -> None:
    fake = FakeSmartctl(tmp_path, SATA)
    collector = SmartCollector(smartctl=str(fake.path), hwmon_root="/nonexistent")
    engine = Engine(Config())
    engine.ingest(collector.poll())
    fake.set_state(replace={"/dev/sdau": {ATTR5 + "0": ATTR5 + "8"}})
    engine.ingest(collector.poll())
    state = engine.snapshot().metrics["disk/sdau/smart/5_Reallocated_Sector_Ct"]
    assert state.reading.value == 8.0 and state.reading.status == Status.WARNING
    assert state.verdict.anomalous and state.verdict.severity == "warning"
    changes = engine.snapshot().metrics["disk/sdau/changes"].reading.text
    assert changes == "5_Reallocated_Sector_Ct: 0 → 8"


def test_a_failing_assessment_is_critical(tmp_path: Path) -> None:
    fake = FakeSmartctl(tmp_path, SATA)
    fake.set_state(
        replace={"/dev/sdau": {"test result: PASSED": "test result: FAILED!"}},
        exit_bits={"/dev/sdau": 8 | 64},
    )
    collector = SmartCollector(smartctl=str(fake.path), hwmon_root="/nonexistent")
    engine = Engine(Config())
    engine.ingest(collector.poll())
    state = engine.snapshot().metrics["disk/sdau/health"]
    assert state.reading.text == "FAILED" and state.reading.status == Status.CRITICAL
    assert state.verdict.anomalous and state.verdict.severity == "critical"
    notes = engine.snapshot().metrics["disk/sdau/notes"].reading.text or ""
    assert "error log has errors" in notes


def test_smartctl_error_bits_are_reported(tmp_path: Path) -> None:
    fake = FakeSmartctl(tmp_path, SATA)
    fake.set_state(exit_bits={"/dev/sdau": 4})
    batch, r = poll(fake)
    assert r["disk/sdau/health"].text == "PASSED"
    assert any("a SMART command failed (exit status 4)" in e for e in batch.errors)


def test_smartctl_missing(tmp_path: Path) -> None:
    batch = SmartCollector(smartctl=str(tmp_path / "no-smartctl")).poll()
    assert batch.unavailable and "install smartmontools" in batch.unavailable
    assert "[collectors.smart] smartctl" in batch.unavailable


def test_smartctl_is_found_in_sbin_when_path_lacks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = require_tool("smartctl")
    monkeypatch.setenv("PATH", "/nonexistent")
    collector = SmartCollector(smartctl="smartctl")
    assert collector.problem is None
    assert os.path.samefile(collector._argv[0], real)


def test_permission_denied_says_how_to_grant_smartctl_and_keeps_drive_temperatures(
    tmp_path: Path,
) -> None:
    fake = FakeSmartctl(tmp_path / "ctl", SATA)
    fake.set_state(denied=True)
    sysclass = tmp_path / "class"
    hwmon_tree.build(["drivetemp", "nvme", "coretemp"], base=str(sysclass))
    collector = SmartCollector(smartctl=str(fake.path), hwmon_root=str(sysclass / "hwmon"))
    batch = collector.poll()
    assert batch.unavailable == NEEDS_ROOT
    assert "sudoers" in NEEDS_ROOT and "NOPASSWD: /usr/sbin/smartctl" in NEEDS_ROOT
    temps = {r.key: r for r in batch.readings if r.key.endswith("/temperature")}
    assert temps["disk/sda/temperature"].value == 36.0
    assert (temps["disk/sda/temperature"].high, temps["disk/sda/temperature"].crit) == (60, 70)
    assert temps["disk/nvme0/temperature"].value == 38.85
    links = {r.key: r.text for r in batch.readings if r.key.endswith("/hwmon")}
    assert links == {"disk/sda/hwmon": "drivetemp-scsi-0-0", "disk/nvme0/hwmon": "nvme-pci-0100"}


def test_garbage_output_is_one_error_line(tmp_path: Path) -> None:
    fake = FakeSmartctl(tmp_path, SATA)
    fake.set_state(garbage=["/dev/sdau"])
    batch, r = poll(fake)
    assert r["disk/sdau/state"].text == "unreadable"
    assert r["disk/sdau/state"].status == Status.UNKNOWN
    assert any("sdau" in e for e in batch.errors)


def test_a_disk_that_vanishes_between_polls_is_reported_gone(tmp_path: Path) -> None:
    fake = FakeSmartctl(tmp_path, NVME)
    collector = SmartCollector(smartctl=str(fake.path), hwmon_root="/nonexistent")
    assert collector.poll().readings
    fake.set_state(gone=["/dev/nvme0"])
    batch = collector.poll()
    gone = {r.key: r for r in batch.readings}["disk/nvme0/state"]
    assert (gone.text, gone.status) == ("gone", Status.WARNING)
    assert batch.errors == ("nvme0: disappeared",)
    fake.set_state()
    back = {r.key: r for r in collector.poll().readings}
    assert back["disk/nvme0/state"].text == "active"


def test_a_hanging_smartctl_times_out(tmp_path: Path) -> None:
    fake = FakeSmartctl(tmp_path, NVME)
    fake.set_state(hang=["/dev/nvme0"])
    batch, _ = poll(fake, timeout=0.5)
    assert batch.errors == ("nvme0: smartctl took longer than 0.5 s",)


def test_the_configured_smartctl_is_used_and_polls_every_five_minutes(tmp_path: Path) -> None:
    from engine import build_collectors
    from engine.config_reader import parse

    fake = FakeSmartctl(tmp_path, NVME)
    config = parse(f'[collectors.smart]\nsmartctl = "{fake.path}"\n')
    smart = next(c for c in build_collectors(config) if c.name == "smart")
    assert smart.interval == 300.0
    assert smart.poll().readings and fake.calls()


def last_json_line(code: str) -> Any:
    """Run ``code`` in a fresh interpreter from the repository's root; return its last line,
    read as JSON (what it imported is then its own)."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_disks_read_without_loading_chardet(tmp_path: Path) -> None:
    """pySMART imports chardet (8 MiB) for an encoding guess the collector never makes: the
    disks read in full, and chardet never stays loaded."""
    fake = FakeSmartctl(tmp_path, NVME)
    code = (
        "import json, sys\n"
        "from collectors.smart import SmartCollector\n"
        f"batch = SmartCollector(smartctl={str(fake.path)!r}).poll()\n"
        "temps = [r.value for r in batch.readings if r.key.endswith('/temperature')]\n"
        "print(json.dumps([len(batch.readings), temps, 'chardet' in sys.modules, batch.errors]))\n"
    )
    count, temps, chardet, errors = last_json_line(code)
    assert count > 5 and temps and not errors
    assert chardet is False


@pytest.mark.parametrize("state", ["denied", "no disk"])
def test_pysmart_is_loaded_only_when_there_is_a_disk_to_read(tmp_path: Path, state: str) -> None:
    """pySMART costs about 3 MiB: a machine whose smartctl finds no disk, or may not open
    one (a user without root), polls SMART without it."""
    fake = FakeSmartctl(tmp_path, NVME)
    if state == "denied":
        fake.set_state(denied=True)
    else:
        fake.set_state(gone=[fake.meta["name"]])
    code = (
        "import json, sys\n"
        "from collectors.smart import SmartCollector\n"
        f"collector = SmartCollector(smartctl={str(fake.path)!r})\n"
        "batches = [collector.poll(), collector.poll()]\n"
        "print(json.dumps([batches[-1].unavailable, 'pySMART' in sys.modules]))\n"
    )
    unavailable, loaded = last_json_line(code)
    assert unavailable == (NEEDS_ROOT if state == "denied" else None)
    assert fake.calls() and loaded is False
