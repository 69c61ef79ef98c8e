"""Tests that chips sharing a name stay apart, through libsensors and through sysfs, over a fake
/sys/class/hwmon in a private mount namespace (functions named ``in_ns_*`` run inside it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors import hwmon
from tests.collectors.test_sensors import poll
from tests.hardware_fakes import hwmon_tree
from tests.hardware_fakes.nsworker import FakeSys, require_namespace

BUSES = range(2, 12)
"""I2C buses of the extra ina3221 (bus 1 holds the layout's own)."""
ZONES = ("LNXTHERM:00", "LNXTHERM:01", "LNXTHERM:02")
"""ACPI thermal zones: libsensors names each one ``acpitz-acpi-0``."""


def in_ns_board(base: str = hwmon_tree.CLASS) -> None:
    """Eleven ina3221 on eleven buses, two nct6775 and three ACPI thermal zones."""
    hwmon_tree.add_chip("ina3221", base)
    for bus in BUSES:
        hwmon_tree.add_chip(
            "ina3221", base, hwmon=20 + bus, device=f"platform/i2c-{bus}/{bus}-0040"
        )
    hwmon_tree.add_chip("nct6775", base)
    hwmon_tree.add_chip("nct6775", base, hwmon=40, device="platform/nct6775.2592")
    for i, zone in enumerate(ZONES):
        hwmon_tree.add_chip("acpitz", base, hwmon=50 + i, device=f"LNXSYSTM:00/LNXSYBUS:01/{zone}")


def in_ns_move_zone() -> None:
    """Unload and reload one zone: it comes back under another hwmon number."""
    hwmon_tree.remove_chip("hwmon51")
    hwmon_tree.add_chip("acpitz", hwmon=59, device=f"LNXSYSTM:00/LNXSYBUS:01/{ZONES[1]}")


EXPECTED = {
    *(f"ina3221-i2c-{bus}-40" for bus in (1, *BUSES)),
    "nct6775-isa-0290",
    "nct6775-isa-0a20",
    *(f"acpitz-acpi-0@{zone}" for zone in ZONES),
}


def chips_of(readings: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for key in readings:
        _, chip, label = key.split("/", 2)
        out.setdefault(chip, set()).add(label)
    return out


@pytest.mark.parametrize("use_libsensors", [True, False], ids=["libsensors", "sysfs"])
def test_chips_of_one_name_stay_apart_by_their_bus_address(use_libsensors: bool) -> None:
    require_namespace()
    with FakeSys([]) as fs:
        fs.call(f"{__name__}:in_ns_board")
        got = poll(fs, use_libsensors=use_libsensors)
        chips = chips_of(got["readings"])
        assert set(chips) == EXPECTED
        assert got["backend"] == ("libsensors" if use_libsensors else "sysfs")
        assert not got["errors"]
        ina = chips["ina3221-i2c-1-40"]
        assert len(ina) >= 9 and all(chips[f"ina3221-i2c-{b}-40"] == ina for b in BUSES)
        assert chips["nct6775-isa-0a20"] == chips["nct6775-isa-0290"]
        per_chip = {c: len(labels) for c, labels in chips.items()}
        assert len(got["readings"]) == sum(per_chip.values())
        if use_libsensors:  # as many sensors as `sensors` itself prints
            out = fs.run(["sensors"])
            assert out["stdout"].count("acpitz-acpi-0") == len(ZONES)
            assert out["stdout"].count("ina3221-i2c-") == 1 + len(BUSES)
        fs.call(f"{__name__}:in_ns_move_zone")
        again = chips_of(poll(fs, name="again", use_libsensors=use_libsensors)["readings"])
        assert set(again) == EXPECTED  # the reloaded zone keeps its name


def test_both_ways_of_reading_name_the_chips_alike(tmp_path: Path) -> None:
    in_ns_board(str(tmp_path))
    names = sorted(c.name for c in hwmon.chips(str(tmp_path / "hwmon")))
    assert sorted(names) == sorted(EXPECTED)
    virtual = hwmon.distinct_names(
        [("x-virtual-0", None, "/c/hwmon3"), ("x-virtual-0", None, "/c/hwmon7")]
    )
    assert virtual == ["x-virtual-0@hwmon3", "x-virtual-0@hwmon7"]
    assert json.dumps(names)  # plain strings: usable as metric key parts
    assert not any("/" in n for n in names)


def test_a_poll_reads_live_values_and_limits_only_now_and_then(tmp_path: Path) -> None:
    from collectors.limits import LIMITS_EVERY
    from collectors.sensors import SysfsFallback
    from tests.clock import ManualClock

    hw = hwmon_tree.add_chip("nct6775", str(tmp_path))
    clock = ManualClock(100.0)
    reader = SysfsFallback(str(tmp_path / "hwmon"), clock=clock)

    def cputin() -> dict:
        readings, errors = reader.read(clock.now)
        assert not errors
        return next(r for r in readings if r.key.endswith("/CPUTIN")).to_json()

    assert (cputin()["value"], cputin()["high"], cputin()["status"]) == (38.5, 80.0, "ok")
    hwmon_tree.write(hw, "temp2_input", 45000, base=str(tmp_path))
    hwmon_tree.write(hw, "temp2_max", 40000, base=str(tmp_path))  # someone ran `sensors -s`
    now = cputin()
    assert (now["value"], now["high"], now["status"]) == (45.0, 80.0, "ok")
    hwmon_tree.write(hw, "temp2_alarm", 1, base=str(tmp_path))  # alarms are live
    assert cputin()["status"] == "warning"
    clock.now += LIMITS_EVERY
    later = cputin()
    assert (later["high"], later["status"], later["text"]) == (40.0, "warning", "ALARM")
