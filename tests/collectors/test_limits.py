"""Tests the one rule that judges every reading against its own limits, on every path that
gives readings limits: the Reading itself, disks (hwmon and SMART) and remote checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors.base import Reading, Status
from collectors.remote import LocationResult, State, to_readings
from collectors.replay import ReplayCollector
from collectors.smart import SmartCollector
from tests.hardware_fakes import hwmon_tree
from tests.hardware_fakes.smartctl import FakeSmartctl, recorded_machines

NVME = next(p for p in recorded_machines() if p.name == "nvme_0")


@pytest.mark.parametrize(
    ("value", "limits", "status", "why"),
    [
        (8.2, {"high": 2.0}, Status.WARNING, "above max"),
        (2.0, {"high": 2.0}, Status.OK, None),
        (97.0, {"high": 90.0, "crit": 97.0}, Status.CRITICAL, "above crit"),
        (0.5, {"low": 1.0}, Status.WARNING, "below min"),
        (-1.0, {"low": 1.0, "lcrit": -1.0}, Status.CRITICAL, "below lcrit"),
        (None, {"high": 2.0}, Status.OK, None),
        (float("nan"), {"high": 2.0}, Status.OK, None),
    ],
)
def test_a_value_past_its_own_limit_is_flagged_by_the_reading_itself(
    value: float | None, limits: dict[str, float], status: Status, why: str | None
) -> None:
    r = Reading("system/load/1m", value, "", 1.0, **limits)  # type: ignore[arg-type]
    assert (r.status, r.text) == (status, why)
    assert r.to_json()["status"] == str(status)
    from collectors.base import against_limits

    assert against_limits(value, **limits) == (status, why)


def test_a_source_can_make_a_reading_worse_never_better() -> None:
    alarm = Reading("sensors/c/fan1", 900.0, "RPM", 1.0, low=300.0, status=Status.WARNING)
    assert alarm.status is Status.WARNING  # an alarm bit within the limits stays an alarm
    hot = Reading("x", 120.0, "°C", 1.0, crit=100.0, status=Status.WARNING, text="ALARM")
    assert (hot.status, hot.text) == (Status.CRITICAL, "above crit")
    odd = Reading("x", 5.0, "", 1.0, high=2.0, status=Status.UNKNOWN, text="stale")
    assert odd.status is Status.WARNING
    failing = Reading("disk/sda/health", None, "", 1.0, status=Status.CRITICAL, text="FAILED")
    assert (failing.status, failing.text) == (Status.CRITICAL, "FAILED")
    named = Reading("disk/sda/temperature", 65.0, "°C", 1.0, high=60.0, text="from drivetemp")
    assert (named.status, named.text) == (Status.WARNING, "from drivetemp")


def test_replayed_readings_are_judged_by_the_same_rule(tmp_path: Path) -> None:
    # A recording made before limits were judged says "ok" with a value past its limit.
    line = {"key": "system/load/1m", "value": 8.2, "unit": "", "time": 1.0, "status": "ok"}
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(line | {"high": 2.0}) + "\n", encoding="utf-8")
    (load,) = ReplayCollector(path).poll().readings
    assert (load.status, load.text) == (Status.WARNING, "above max")


def test_a_hot_disk_from_its_hwmon_chip_is_flagged(tmp_path: Path) -> None:
    sysclass = tmp_path / "class"
    hw = hwmon_tree.build(["drivetemp", "nvme"], base=str(sysclass))
    hwmon_tree.write(str(sysclass / "hwmon" / hw["drivetemp"]), "temp1_input", 65000)
    hwmon_tree.write(str(sysclass / "hwmon" / hw["nvme"]), "temp1_input", 90000)
    collector = SmartCollector(smartctl=str(tmp_path / "none"), hwmon_root=str(sysclass / "hwmon"))
    temps = {r.key: r for r in collector.poll().readings if r.key.endswith("/temperature")}
    sda, nvme = temps["disk/sda/temperature"], temps["disk/nvme0/temperature"]
    assert (sda.value, sda.high, sda.status) == (65.0, 60.0, Status.WARNING)
    assert nvme.value == 90.0 and nvme.status is Status.CRITICAL


def test_a_hot_nvme_past_its_smart_thresholds_is_flagged(tmp_path: Path) -> None:
    fake = FakeSmartctl(tmp_path, NVME)
    line = "Temperature:                        42 Celsius"
    for now, status in (("83", Status.WARNING), ("86", Status.CRITICAL)):
        fake.set_state(replace={"/dev/nvme0": {line: line.replace("42", now)}})
        collector = SmartCollector(smartctl=str(fake.path), hwmon_root="/nonexistent")
        temp = {r.key: r for r in collector.poll().readings}["disk/nvme0/temperature"]
        assert (temp.value, temp.high, temp.crit) == (float(now), 82.0, 85.0)
        assert temp.status is status


def test_a_slow_answer_is_past_its_limit_and_down_is_critical() -> None:
    slow = LocationResult("blog", "local", State.SLOW, time=0.9, slow=0.4)
    fast = LocationResult("shop", "local", State.UP, time=0.1, slow=0.4)
    down = LocationResult("api", "local", State.DOWN, error="cannot connect")
    got = {r.key: r for r in to_readings([slow, fast, down], 1.0)}
    assert got["remote/blog/local/time"].status is Status.WARNING
    assert got["remote/blog/local/status"].status is Status.WARNING
    assert got["remote/shop/local/time"].status is Status.OK
    assert got["remote/api/local/status"].status is Status.CRITICAL
