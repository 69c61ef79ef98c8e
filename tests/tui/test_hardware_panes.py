"""Tests the Sensors and Disks panes through Textual's pilot: under the fake hwmon tree (in a
mount namespace) with a replaying smartctl, and on their own with recorded disks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from collectors.base import Batch
from collectors.limits import make_reading
from collectors.sensors import NO_SENSORS, SensorsCollector
from collectors.smart import NEEDS_ROOT, SmartCollector
from engine import Engine
from engine.config import Config
from tests.hardware_fakes import hwmon_tree
from tests.hardware_fakes.nsworker import FakeSys, require_namespace
from tests.hardware_fakes.smartctl import RECORDINGS, FakeSmartctl
from tui.app import GongwatchApp, make_app
from tui.panes import PANES, DisksPane, SensorsPane
from tui.widgets import RowTable

NOW = datetime(2026, 11, 22, 16, 40, 12, tzinfo=UTC)
DISKS = (RECORDINGS / "singletests" / "usb_ssd_0_issue_50", RECORDINGS / "singletests" / "nvme_0")
NCT = "sensors/nct6775-isa-0290"


def app_for(engine: Engine) -> GongwatchApp:
    return make_app(engine=engine, clock=lambda: NOW, hostname="testhost", autostart=False)


async def show(app: GongwatchApp, pilot: object, pane: type) -> list[tuple]:
    """Switch to a pane, render the latest snapshot and return its table's rows."""
    app.action_show_pane(PANES.index(pane) + 1)
    await pilot.pause()  # type: ignore[attr-defined]
    app.tick()
    await pilot.pause()  # type: ignore[attr-defined]
    table = app.query_one(f"#{pane.PANE_ID}-table", RowTable)
    return [(r.key, r.cells, r.marker, r.style, r.heading) for r in table.rows]


def rows_by_key(rows: list[tuple]) -> dict[str, tuple]:
    return {r[0]: r for r in rows}


def in_ns_drive_the_app(smartctl: str) -> dict:
    """Run the app over the fake tree; set off alarms while it runs (inside the namespace)."""
    return asyncio.run(_drive(smartctl))


async def _drive(smartctl: str) -> dict:
    sensors, smart = SensorsCollector(), SmartCollector(smartctl=smartctl)
    engine = Engine(Config(), [sensors, smart])
    for _ in range(5):
        engine.ingest(engine.poll_one(sensors))
    engine.ingest(engine.poll_one(smart))
    app = app_for(engine)
    out: dict = {}
    async with app.run_test(size=(140, 60)) as pilot:
        out["sensors_before"] = await show(app, pilot, SensorsPane)
        nct = f"hwmon{hwmon_tree.layout('nct6775')['hwmon']}"
        hwmon_tree.write(nct, "fan1_input", 0)
        hwmon_tree.write(nct, "fan1_alarm", 1)
        engine.ingest(engine.poll_one(sensors))
        out["sensors_after"] = await show(app, pilot, SensorsPane)
        out["sensors_title"] = str(app.query_one("#sensors-title").render())
        out["disks"] = await show(app, pilot, DisksPane)
        out["disks_title"] = str(app.query_one("#disks-title").render())
    return out


def test_the_panes_show_every_sensor_and_disk_under_the_fake_machine(tmp_path: Path) -> None:
    require_namespace()
    fake = FakeSmartctl(tmp_path, *DISKS)
    with FakeSys(hwmon_tree.LAYOUTS) as fs:
        got = fs.call(f"{__name__}:in_ns_drive_the_app", smartctl=str(fake.path))
    before = rows_by_key(got["sensors_before"])
    headings = [r[1][0] for r in got["sensors_before"] if r[4]]
    assert headings == [
        "coretemp-isa-0000",
        "drivetemp-scsi-0-0",
        "nct6775-isa-0290",
        "nvme-pci-0100",
    ]
    assert len([r for r in got["sensors_before"] if not r[4]]) == 29
    label, value, limits, spark, _why = before[f"{NCT}/+3.3V"][1]
    assert (label, value, limits) == ("+3.3V", "3.36 V", "min 2.98  max 3.63")
    assert any(ch in spark for ch in "▁▂▃▄▅▆▇█")
    core = before["sensors/coretemp-isa-0000/Package id 0"][1]
    assert (core[1], core[2]) == ("+45.0°C", "high 80  crit 100")
    composite = before["sensors/nvme-pci-0100/Composite"][1]
    assert (composite[1], composite[2]) == ("+38.9°C", "high 81.8  crit 84.8")
    assert before[f"{NCT}/intrusion0"][1][1] == "ok"
    assert before[f"{NCT}/fan1"][2] == ""
    fan = rows_by_key(got["sensors_after"])[f"{NCT}/fan1"]
    assert fan[1][1] == "0 RPM" and fan[1][4] == "ALARM"
    assert fan[2].strip() == "!" and "yellow" in fan[3]
    assert "(1 in alarm)" in rows_by_key(got["sensors_after"])["#nct6775-isa-0290"][1][0]
    assert "1 in alarm" in got["sensors_title"]
    disks = got["disks"]
    heads = [r[1][0] for r in disks if r[4]]
    assert heads[0].startswith("nvme0  KBG30ZMV256G TOSHIBA") and heads[1].startswith("sda")
    d = rows_by_key(disks)
    assert d["disk/nvme0/health#text"][1][:2] == ["health", "PASSED"]
    temp = d["disk/nvme0/temperature"][1]
    assert temp[1] == "42°C" and any(ch in temp[2] for ch in "▁▂▃▄▅▆▇█")  # live, from hwmon
    assert d["disk/sda/smart/5_Reallocated_Sector_Ct"][1][:2] == ["5 Reallocated_Sector_Ct", "0"]
    assert d["disk/nvme0/smart/percentage_used"][1][1] == "28%"
    assert d["disk/nvme0/changes#text"][1][1] == "nothing changed since start"
    assert "2 disks" in got["disks_title"] and "all healthy" in got["disks_title"]


async def test_a_machine_without_sensors_shows_the_hint() -> None:
    engine = Engine(Config())
    engine.ingest(Batch("sensors", unavailable=NO_SENSORS))
    app = app_for(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        rows = await show(app, pilot, SensorsPane)
    assert rows == [("#none", (NO_SENSORS,), "", "", True)]


async def test_sensor_alarms_are_highlighted_by_severity() -> None:
    engine = Engine(Config())
    hot = make_reading("coretemp-isa-0000", "Core 0", "temp", {"input": 101.0, "crit": 100.0}, 1)
    fan = make_reading("nct6775-isa-0290", "fan2", "fan", {"input": 200.0, "min": 300.0}, 1)
    engine.ingest(Batch("sensors", (hot, fan), errors=("nct6775-isa-0290/CPUTIN: I/O error",)))
    app = app_for(engine)
    async with app.run_test(size=(120, 30)) as pilot:
        rows = rows_by_key(await show(app, pilot, SensorsPane))
        problems = str(app.query_one("#sensors-problems").render())
    core = rows["sensors/coretemp-isa-0000/Core 0"]
    assert (core[2], core[1][4]) == ("!!", "above crit") and "red" in core[3]
    assert rows[f"{NCT}/fan2"][1][4] == "below min" and "yellow" in rows[f"{NCT}/fan2"][3]
    assert "I/O error" in problems


async def test_without_root_the_disks_pane_says_how_and_shows_drive_temperatures(
    tmp_path: Path,
) -> None:
    fake = FakeSmartctl(tmp_path / "ctl", *DISKS)
    fake.set_state(denied=True)
    hwmon_tree.build(["drivetemp", "nvme"], base=str(tmp_path / "class"))
    smart = SmartCollector(smartctl=str(fake.path), hwmon_root=str(tmp_path / "class" / "hwmon"))
    engine = Engine(Config(), [smart])
    engine.ingest(engine.poll_one(smart))
    app = app_for(engine)
    async with app.run_test(size=(140, 40)) as pilot:
        rows = rows_by_key(await show(app, pilot, DisksPane))
        problems = str(app.query_one("#disks-problems").render())
        title = str(app.query_one("#disks-title").render())
    assert NEEDS_ROOT in problems
    assert "2 disks · health unknown" in title
    assert rows["disk/sda/temperature"][1][1] == "36°C"
    assert rows["disk/nvme0/temperature"][1][1] == "38.9°C"


async def test_the_disks_pane_shows_what_changed_since_start(tmp_path: Path) -> None:
    fake = FakeSmartctl(tmp_path, DISKS[0])
    smart = SmartCollector(smartctl=str(fake.path), hwmon_root="/nonexistent")
    engine = Engine(Config(), [smart])
    engine.ingest(engine.poll_one(smart))
    line = "5 Reallocated_Sector_Ct   0x0032   100   100   ---    Old_age   Always       -       "
    fake.set_state(replace={"/dev/sda": {line + "0\n": line + "3\n"}})
    engine.ingest(engine.poll_one(smart))
    app = app_for(engine)
    async with app.run_test(size=(140, 40)) as pilot:
        rows = rows_by_key(await show(app, pilot, DisksPane))
        title = str(app.query_one("#disks-title").render())
    grown = rows["disk/sda/smart/5_Reallocated_Sector_Ct"]
    assert grown[1][1] == "3" and grown[1][3] == "grew from 0 since start"
    assert grown[2].strip() == "!" and "yellow" in grown[3]
    assert rows["disk/sda/changes#text"][1][1] == "5_Reallocated_Sector_Ct: 0 → 3"
    assert "1 need attention" in title
