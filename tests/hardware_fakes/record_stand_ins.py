"""Records what the real collectors read from the tests' stand-ins (the fake hwmon tree in a
mount namespace, smartctl replaying recorded disks, the local Server Density-style server) as
JSON lines, so pane snapshots replay real collector output with fixed times.

Run from the repository root, as root (the namespace needs it):
    .venv/bin/python -m tests.hardware_fakes.record_stand_ins
It rewrites ``tests/data/stand_in_readings.jsonl``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from collectors.base import Batch, Reading
from collectors.http_check import HttpCheckCollector
from collectors.sensors import SensorsCollector
from collectors.serverdensity import ServerDensityCollector
from collectors.smart import SmartCollector
from tests.hardware_fakes import hwmon_tree
from tests.hardware_fakes.nsworker import FakeSys
from tests.hardware_fakes.smartctl import RECORDINGS, FakeSmartctl
from tests.remote_server import TOKEN, RemoteServer

OUT = Path(__file__).resolve().parents[1] / "data" / "stand_in_readings.jsonl"
BASE = 1_795_364_302.0
"""Times are rewritten from here, one second a poll, so replays are the same every time."""
DISKS = (RECORDINGS / "singletests" / "usb_ssd_0_issue_50", RECORDINGS / "singletests" / "nvme_0")


def _lines(batches: list[Batch], first: int) -> list[str]:
    out = []
    for i, batch in enumerate(batches):
        for r in batch.readings:
            data = r.to_json()
            data["time"] = BASE + first + i
            out.append(json.dumps(data, ensure_ascii=False))
    return out


def in_namespace(smartctl: str, polls: int) -> list[str]:
    """Poll the sensors ``polls`` times and the disks once (runs inside the namespace)."""
    sensors, smart = SensorsCollector(), SmartCollector(smartctl=smartctl)
    batches = []
    for i in range(polls):
        nct = f"hwmon{hwmon_tree.layout('nct6775')['hwmon']}"
        hwmon_tree.write(nct, "fan2_input", 1100 + 37 * (i % 5))  # a fan that breathes
        batches.append(sensors.poll())
    batches.append(smart.poll())
    return _lines(batches, 0)


def remote(polls: int) -> list[str]:
    """Poll the local Server Density-style server and two HTTP checks ``polls`` times."""
    with RemoteServer() as srv:
        sources: list[Any] = [
            ServerDensityCollector(
                "sd", srv.url, TOKEN, timeout=0.3, services=("web", "Shop Front")
            ),
            HttpCheckCollector("blog", srv.url + "/check/ok", slow=2.0),
            HttpCheckCollector("dead", srv.url + "/check/status/500"),
        ]
        batches = [Batch("remote", tuple(r for c in sources for r in c.poll().readings))]
        for _ in range(polls - 1):
            batches.append(Batch("remote", tuple(r for c in sources for r in c.poll().readings)))
    return _lines(batches, 0)


def main() -> None:
    polls = 12
    with tempfile.TemporaryDirectory() as tmp:
        fake = FakeSmartctl(Path(tmp), *DISKS)
        with FakeSys(hwmon_tree.LAYOUTS) as fs:
            lines = fs.call(
                "tests.hardware_fakes.record_stand_ins:in_namespace",
                smartctl=str(fake.path),
                polls=polls,
            )
    lines += remote(polls)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} readings written to {OUT}")


def load() -> list[Reading]:
    """The recorded readings (for tests that want them without a replay collector)."""
    from collectors.replay import parse_line

    return [parse_line(line) for line in OUT.read_text(encoding="utf-8").splitlines() if line]


if __name__ == "__main__":
    main()
