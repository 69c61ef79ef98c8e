"""Tests that an alarm raised against limits nobody set is judged alike for every kind of
feature, through libsensors and through sysfs, over a fake /sys/class/hwmon (nct6775 with the
alarms its real board raises, ina3221, amdgpu) in a private mount namespace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collectors.base import Batch, Status
from collectors.limits import judge, make_reading
from tests.collectors.test_sensors import ME, NCT, poll
from tests.hardware_fakes.nsworker import FakeSys, require_namespace

UNSET_ALARM = "alarm, limits not set"
"""What such an alarm says, in the Sensors pane and in ``gongwatch once``."""
INA = "sensors/ina3221-i2c-1-40"
GPU = "sensors/amdgpu-pci-0300"
UNSET = {
    # key: (layout, attributes that leave its limits unset and raise its alarm)
    f"{NCT}/SYSTIN": ("nct6775", {"temp1_alarm": 1}),  # max is 0: never configured
    f"{NCT}/in1": ("nct6775", {}),  # min = max = 0, alarm raised on the real board
    f"{NCT}/AVCC": ("nct6775", {"in2_min": 0, "in2_max": 0, "in2_alarm": 1}),
    f"{NCT}/+3.3V": ("nct6775", {"in3_min": 0, "in3_max": 0, "in3_alarm": 1}),
    f"{NCT}/fan3": ("nct6775", {"fan3_alarm": 1}),  # min is 0: no minimum
    f"{INA}/curr2": ("ina3221", {"curr2_max": 0, "curr2_crit": 0, "curr2_max_alarm": 1}),
    f"{GPU}/power1": ("amdgpu", {"power1_cap": 0, "power1_cap_alarm": 1}),
}


def keys(use_libsensors: bool) -> list[str]:
    """The keys of UNSET as each path names them: sysfs knows no sensors3.conf labels."""
    plain = {f"{NCT}/AVCC": f"{NCT}/in2", f"{NCT}/+3.3V": f"{NCT}/in3"}
    return [k if use_libsensors else plain.get(k, k) for k in UNSET]


@pytest.fixture
def board() -> Iterator[FakeSys]:
    require_namespace()
    with FakeSys(["nct6775", "ina3221", "amdgpu"]) as fs:
        for layout, attrs in UNSET.values():
            for attr, value in attrs.items():
                fs.call(f"{ME}:in_ns_write", hw=fs.hwmon[layout], attr=attr, value=value)
        # A real alarm next to them: curr3 is above the max someone set.
        fs.call(f"{ME}:in_ns_write", hw=fs.hwmon["ina3221"], attr="curr3_max_alarm", value=1)
        yield fs


@pytest.mark.parametrize("use_libsensors", [True, False], ids=["libsensors", "sysfs"])
def test_an_alarm_against_unset_limits_is_shown_and_not_anomalous(
    board: FakeSys, use_libsensors: bool
) -> None:
    r = poll(board, use_libsensors=use_libsensors)["readings"]
    for key in keys(use_libsensors):
        assert (r[key]["status"], r[key].get("text")) == ("ok", UNSET_ALARM), key
    assert (r[f"{INA}/curr3"]["status"], r[f"{INA}/curr3"]["text"]) == ("warning", "ALARM")
    assert r[f"{NCT}/CPUTIN"]["status"] == "ok" and "text" not in r[f"{NCT}/CPUTIN"]


@pytest.mark.parametrize("use_libsensors", [True, False], ids=["libsensors", "sysfs"])
def test_the_user_can_trust_alarms_against_unset_limits(
    board: FakeSys, use_libsensors: bool
) -> None:
    r = poll(board, name="trusting", use_libsensors=use_libsensors, trust=True)["readings"]
    for key in keys(use_libsensors):
        assert (r[key]["status"], r[key].get("text")) == ("warning", UNSET_ALARM), key
    assert r[f"{NCT}/CPUTIN"]["status"] == "ok"


@pytest.mark.parametrize("kind", ["temp", "fan", "in", "power", "curr"])
def test_one_rule_for_every_kind(kind: str) -> None:
    limit, alarm = {
        "temp": ("max", "alarm"),
        "fan": ("min", "alarm"),
        "in": ("max", "alarm"),
        "power": ("cap", "cap_alarm"),
        "curr": ("max", "max_alarm"),
    }[kind]
    unset = {"input": 1.0, limit: 0.0, alarm: 1.0}
    if kind == "in":
        unset["min"] = 0.0
    assert judge(kind, 1.0, unset) == (Status.OK, UNSET_ALARM)
    assert judge(kind, 1.0, unset, trust_unset_alarms=True) == (Status.WARNING, UNSET_ALARM)
    real = {**unset, limit: 0.5}
    assert judge(kind, 1.0, real) == (Status.WARNING, "ALARM")
    # A chip that shows no limit at all compares against one of its own: that alarm counts.
    assert judge(kind, 1.0, {"input": 1.0, alarm: 1.0}) == (Status.WARNING, "ALARM")


def test_an_unset_alarm_is_not_an_anomaly_for_the_engine() -> None:
    from engine import Engine
    from engine.config import Config

    engine = Engine(Config())
    sub = {"input": 34.0, "max": 0.0, "alarm": 1.0}
    engine.ingest(Batch("sensors", (make_reading("nct6775-isa-0290", "SYSTIN", "temp", sub, 1.0),)))
    state = engine.snapshot().metrics[f"{NCT}/SYSTIN"]
    assert not state.verdict.anomalous and state.reading.text == UNSET_ALARM
    trusted = make_reading("nct6775-isa-0290", "SYSTIN", "temp", sub, 2.0, trust_unset_alarms=True)
    engine.ingest(Batch("sensors", (trusted,)))
    assert engine.snapshot().metrics[f"{NCT}/SYSTIN"].verdict.anomalous


@pytest.mark.parametrize("use_libsensors", [True, False], ids=["libsensors", "sysfs"])
def test_every_limit_of_a_chip_judges_its_sensor(use_libsensors: bool) -> None:
    require_namespace()
    with FakeSys(["coretemp", "nct6775", "ina3221"]) as fs:
        for layout, attr, value in [
            ("nct6775", "fan2_input", 200),  # min 300 RPM
            ("nct6775", "temp2_input", 86000),  # CPUTIN, max 80 °C
            ("coretemp", "temp3_input", 100000),  # Core 1, crit 100 °C
            ("ina3221", "in1_lcrit", 12500),  # VIN1 reads 12.096 V
        ]:
            fs.call(f"{ME}:in_ns_write", hw=fs.hwmon[layout], attr=attr, value=value)
        r = poll(fs, use_libsensors=use_libsensors)["readings"]
    fan2, cputin = r[f"{NCT}/fan2"], r[f"{NCT}/CPUTIN"]
    assert (fan2["status"], fan2["text"], fan2["low"]) == ("warning", "below min", 300.0)
    assert (cputin["status"], cputin["text"], cputin["high"]) == ("warning", "above max", 80.0)
    core = r["sensors/coretemp-isa-0000/Core 1"]
    assert (core["status"], core["text"]) == ("critical", "above crit")
    vin1 = r[f"{INA}/VIN1"]
    assert (vin1["status"], vin1["text"], vin1["lcrit"]) == ("critical", "below lcrit", 12.5)
