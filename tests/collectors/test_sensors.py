"""Tests the sensors collector through libsensors, psutil and ``sensors -j`` over a fake
/sys/class/hwmon (coretemp, nct6775, drivetemp, nvme) in a private mount namespace.

Functions named ``in_ns_*`` run inside the namespace (called through FakeSys.call)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors import hwmon
from collectors.base import Status
from collectors.limits import judge, make_reading
from collectors.sensors import NO_SENSORS, SensorsCollector
from engine import Engine
from engine.config import Config
from tests.hardware_fakes import hwmon_tree
from tests.hardware_fakes.nsworker import FakeSys, require_namespace

NCT = "sensors/nct6775-isa-0290"
ME = "tests.collectors.test_sensors"
_COLLECTORS: dict[str, SensorsCollector] = {}


def in_ns_poll(name: str = "lib", use_libsensors: bool = True, trust: bool = False) -> dict:
    """Poll a collector kept in the namespace worker under ``name``."""
    collector = _COLLECTORS.get(name)
    if collector is None:
        collector = _COLLECTORS[name] = SensorsCollector(
            use_libsensors=use_libsensors, trust_unset_alarms=trust
        )
    batch = collector.poll()
    return {
        "backend": collector.backend,
        "readings": {r.key: r.to_json() for r in batch.readings},
        "errors": list(batch.errors),
        "unavailable": batch.unavailable,
    }


def in_ns_write(hw: str, attr: str, value: object) -> None:
    hwmon_tree.write(hw, attr, value)


def in_ns_eio(hw: str, attr: str) -> None:
    hwmon_tree.make_eio(hw, attr)


def in_ns_add(layout: str) -> str:
    return hwmon_tree.add_chip(layout)


def in_ns_remove(hw: str) -> None:
    hwmon_tree.remove_chip(hw)


def in_ns_config(text: str) -> None:
    Path("/etc/sensors.d/test.conf").write_text(text, encoding="utf-8")


@pytest.fixture
def machine() -> Iterator[FakeSys]:
    require_namespace()
    with FakeSys(hwmon_tree.LAYOUTS) as fs:
        yield fs


def poll(fs: FakeSys, **kw: object) -> dict:
    return fs.call(f"{ME}:in_ns_poll", **kw)


def test_every_chip_and_feature_is_named_as_sensors_prints_them(machine: FakeSys) -> None:
    got = poll(machine)
    assert got["backend"] == "libsensors" and not got["errors"]
    r = got["readings"]
    # sensors3.conf labels apply (in0 is "Vcore" on this chip family), others keep their names
    for key in [
        f"{NCT}/Vcore",
        f"{NCT}/in1",
        f"{NCT}/AVCC",
        f"{NCT}/+3.3V",
        f"{NCT}/fan2",
        f"{NCT}/CPUTIN",
        f"{NCT}/SYSTIN",
        f"{NCT}/intrusion0",
        f"{NCT}/cpu0_vid",
        "sensors/coretemp-isa-0000/Package id 0",
        "sensors/coretemp-isa-0000/Core 3",
        "sensors/drivetemp-scsi-0-0/temp1",
        "sensors/nvme-pci-0100/Composite",
        "sensors/nvme-pci-0100/Sensor 2",
    ]:
        assert key in r, key
    assert r[f"{NCT}/fan1"] | {"time": 0} == {
        "key": f"{NCT}/fan1",
        "value": 1068.0,
        "unit": "RPM",
        "time": 0,
        "status": "ok",
        "low": 300.0,
    }
    assert (r[f"{NCT}/CPUTIN"]["value"], r[f"{NCT}/CPUTIN"]["high"]) == (38.5, 80.0)
    assert (r[f"{NCT}/+3.3V"]["low"], r[f"{NCT}/+3.3V"]["high"]) == (2.976, 3.632)
    core = r["sensors/coretemp-isa-0000/Core 0"]
    assert (core["value"], core["high"], core["crit"], core["unit"]) == (43.0, 80.0, 100.0, "°C")
    # The chip raises alarms on inputs nobody set limits for: those mean nothing.
    assert r[f"{NCT}/in1"]["status"] == "ok" and "high" not in r[f"{NCT}/in1"]
    assert all(x["status"] == "ok" for x in r.values())


def test_every_value_equals_what_sensors_prints(machine: FakeSys) -> None:
    ours = poll(machine)["readings"]
    out = machine.run(["sensors", "-j"])
    assert out["rc"] == 0, out["stderr"]
    theirs = json.loads(out["stdout"])
    compared = 0
    for chip, features in theirs.items():
        for label, subs in features.items():
            if not isinstance(subs, dict):
                continue  # "Adapter"
            inputs = [v for k, v in subs.items() if k.endswith(("_input", "_alarm", "_vid"))]
            key = f"sensors/{chip}/{label}"
            if key in ours and ours[key]["value"] is not None:
                assert pytest.approx(ours[key]["value"]) in inputs, key
                compared += 1
    assert compared == len(ours) == 29


def test_alarms_and_limits_set_the_status_and_values_change_while_running(
    machine: FakeSys,
) -> None:
    hw = machine.hwmon
    assert poll(machine)["readings"][f"{NCT}/fan1"]["status"] == "ok"
    machine.call(f"{ME}:in_ns_write", hw=hw["nct6775"], attr="fan1_input", value=0)
    machine.call(f"{ME}:in_ns_write", hw=hw["nct6775"], attr="fan1_alarm", value=1)
    machine.call(f"{ME}:in_ns_write", hw=hw["nct6775"], attr="temp2_input", value=86000)
    machine.call(f"{ME}:in_ns_write", hw=hw["coretemp"], attr="temp3_input", value=100000)
    machine.call(f"{ME}:in_ns_write", hw=hw["coretemp"], attr="temp3_crit_alarm", value=1)
    machine.call(f"{ME}:in_ns_write", hw=hw["drivetemp"], attr="temp1_input", value=71000)
    r = poll(machine)["readings"]
    assert (r[f"{NCT}/fan1"]["value"], r[f"{NCT}/fan1"]["status"]) == (0.0, "warning")
    assert r[f"{NCT}/fan1"]["text"] == "ALARM"
    assert (r[f"{NCT}/CPUTIN"]["value"], r[f"{NCT}/CPUTIN"]["status"]) == (86.0, "warning")
    assert r["sensors/coretemp-isa-0000/Core 1"]["status"] == "critical"
    assert r["sensors/drivetemp-scsi-0-0/temp1"]["text"] == "above crit"
    assert r["sensors/coretemp-isa-0000/Core 0"]["status"] == "ok"


def test_sensors_d_labels_and_ignores_apply(machine: FakeSys) -> None:
    machine.call(
        f"{ME}:in_ns_config",
        text='chip "nct6775-*"\n    label fan1 "CPU Fan"\n    ignore in4\n    ignore temp8\n',
    )
    r = poll(machine)["readings"]
    assert f"{NCT}/CPU Fan" in r and f"{NCT}/fan1" not in r
    assert f"{NCT}/in4" not in r and f"{NCT}/PCH_CHIP_TEMP" not in r and f"{NCT}/in5" in r


def test_a_sensor_that_reads_eio_is_one_error_and_the_rest_goes_on(machine: FakeSys) -> None:
    machine.call(f"{ME}:in_ns_eio", hw=machine.hwmon["nct6775"], attr="temp2_input")
    got = poll(machine)
    bad = got["readings"][f"{NCT}/CPUTIN"]
    assert (bad["value"], bad["status"], bad["text"]) == (None, "unknown", "I/O error")
    assert got["errors"] == ["nct6775-isa-0290/CPUTIN: temp2_input: I/O error"]
    assert got["readings"][f"{NCT}/SYSTIN"]["value"] == 34.0
    assert "ERROR" in machine.run(["sensors", "nct6775-isa-0290"])["stderr"]


def test_a_chip_that_appears_later_is_read_and_one_that_goes_is_dropped() -> None:
    require_namespace()
    with FakeSys(["coretemp"]) as fs:
        assert not any(k.startswith(NCT) for k in poll(fs)["readings"])
        hw = fs.call(f"{ME}:in_ns_add", layout="nct6775")
        assert f"{NCT}/fan2" in poll(fs)["readings"]
        fs.call(f"{ME}:in_ns_remove", hw=hw)
        got = poll(fs)
        gone = [r for k, r in got["readings"].items() if k.startswith(NCT)]
        assert len(gone) == 20 and not got["errors"]
        assert all((r["value"], r["text"]) == (None, "no longer read") for r in gone)
        assert not any(k.startswith(NCT) for k in poll(fs)["readings"])


@pytest.mark.parametrize("use_libsensors", [True, False])
def test_a_machine_without_sensors_says_so_with_the_hint(use_libsensors: bool) -> None:
    require_namespace()
    with FakeSys([]) as fs:
        got = poll(fs, use_libsensors=use_libsensors)
        assert got["unavailable"] == NO_SENSORS and not got["readings"]
        assert "sensors-detect" in NO_SENSORS and "modprobe" in NO_SENSORS
        fs.call(f"{ME}:in_ns_add", layout="coretemp")
        assert "sensors/coretemp-isa-0000/Core 0" in poll(fs)["readings"]


def test_without_libsensors_psutil_and_sysfs_take_over() -> None:
    require_namespace()
    with FakeSys(hwmon_tree.LAYOUTS, env={"SENSORS_LIB": "/nonexistent/libsensors.so.5"}) as fs:
        got = poll(fs)
        r = got["readings"]
        assert got["backend"] == "sysfs" and not got["errors"]
        assert r["sensors/coretemp-isa-0000/Core 2"]["value"] == 45.0
        assert r["sensors/coretemp-isa-0000/Core 2"]["crit"] == 100.0
        assert r[f"{NCT}/fan2"]["value"] == 1232.0  # read under its feature name
        assert r[f"{NCT}/in0"]["value"] == 1.344 and r[f"{NCT}/in0"]["high"] == 1.744
        assert r["sensors/nvme-pci-0100/Composite"]["value"] == 38.85
        assert r["sensors/drivetemp-scsi-0-0/temp1"]["high"] == 60.0


def test_chip_names_follow_libsensors_without_a_namespace(tmp_path: Path) -> None:
    hwmon_tree.build(hwmon_tree.LAYOUTS, base=str(tmp_path))
    names = sorted(c.name for c in hwmon.chips(str(tmp_path / "hwmon")))
    assert names == ["coretemp-isa-0000", "drivetemp-scsi-0-0", "nct6775-isa-0290", "nvme-pci-0100"]
    drives = {t.disk: t.chip for t in hwmon.drive_temperatures(str(tmp_path / "hwmon"))}
    assert drives == {"sda": "drivetemp-scsi-0-0", "nvme0": "nvme-pci-0100"}


def test_limits_nobody_set_are_not_limits() -> None:
    assert judge("in", 1.7, {"min": 0.0, "max": 0.0, "alarm": 0.0}) == (Status.OK, None)
    assert judge("in", 3.0, {"min": 3.1, "max": 3.6, "alarm": 0.0}) == (Status.WARNING, "below min")
    assert judge("fan", 0.0, {"min": 0.0, "alarm": 0.0}) == (Status.OK, None)
    assert judge("temp", 35.0, {"max": 0.0}) == (Status.OK, None)
    assert judge("temp", 35.0, {"fault": 1.0}) == (Status.WARNING, "FAULT")
    assert judge("temp", 35.0, {"crit_alarm": 1.0}) == (Status.CRITICAL, "CRIT ALARM")


def test_an_alarm_is_anomalous_whatever_the_detector_says() -> None:
    engine = Engine(Config())
    from collectors.base import Batch

    calm = make_reading("nct6775-isa-0290", "fan1", "fan", {"input": 1068.0, "min": 300.0}, 1.0)
    engine.ingest(Batch("sensors", (calm,)))
    stuck = make_reading(
        "nct6775-isa-0290", "fan1", "fan", {"input": 1060.0, "min": 300.0, "alarm": 1.0}, 2.0
    )
    engine.ingest(Batch("sensors", (stuck,)))
    state = engine.snapshot().metrics[f"{NCT}/fan1"]
    assert state.verdict.anomalous and state.verdict.severity == "warning"
    hot = make_reading("coretemp-isa-0000", "Core 0", "temp", {"input": 101.0, "crit": 100.0}, 3)
    engine.ingest(Batch("sensors", (hot,)))
    verdict = engine.snapshot().metrics["sensors/coretemp-isa-0000/Core 0"].verdict
    assert verdict.anomalous and verdict.severity == "critical"


def test_sensors_poll_at_their_own_interval() -> None:
    from engine import build_collectors
    from engine.config_reader import parse

    config = parse("[collectors.sensors]\ninterval = 2.5\n")
    sensors = next(c for c in build_collectors(config) if c.name == "sensors")
    assert sensors.interval == 2.5


@pytest.mark.parametrize("use_libsensors", [True, False])
def test_power_and_current_with_their_limits(use_libsensors: bool) -> None:
    require_namespace()
    with FakeSys(["amdgpu", "ina3221"]) as fs:
        got = poll(fs, use_libsensors=use_libsensors)
    r = got["readings"]
    power = r["sensors/amdgpu-pci-0300/power1"]
    assert (power["value"], power["unit"], power["status"]) == (35.0, "W", "ok")
    assert r["sensors/amdgpu-pci-0300/vddgfx"]["value"] == 0.906
    ina = "sensors/ina3221-i2c-1-40"
    assert (r[f"{ina}/VIN1"]["value"], r[f"{ina}/VIN1"]["unit"]) == (12.096, "V")
    ok, over = r[f"{ina}/curr1"], r[f"{ina}/curr3"]
    assert (ok["value"], ok["unit"], ok["high"], ok["crit"], ok["status"]) == (
        1.52,
        "A",
        2.0,
        3.0,
        "ok",
    )
    assert (over["value"], over["high"], over["status"], over["text"]) == (
        0.412,
        0.4,
        "warning",
        "ALARM",
    )


@pytest.mark.hardware
def test_this_machines_own_sensors_and_disks() -> None:
    """On real hardware (GONGWATCH_HARDWARE=1): every source answers, with readings or a reason."""
    from collectors.smart import SmartCollector

    sensors = SensorsCollector()
    try:
        batch = sensors.poll()
    finally:
        sensors.close()
    assert batch.readings or batch.unavailable == NO_SENSORS
    smart = SmartCollector().poll()
    assert smart.readings or smart.unavailable or not smart.errors
