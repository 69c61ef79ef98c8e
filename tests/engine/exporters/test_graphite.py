"""Tests the Graphite exporter against a real carbon-cache, read back from its whisper files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from engine.config_reader import parse
from engine.exporters.graphite import GraphiteExporter, graphite_path
from tests.conftest import require_tool
from tests.engine.exporters.push_servers import carbon
from tests.engine.exporters.recorded import feed, numeric_points, recorded_batches
from tests.servers import free_port, wait_for

READ_WHISPER = """
import json, sys, whisper
out = {}
for path in sys.argv[1:]:
    (start, end, step), values = whisper.fetch(path, 0)
    out[path] = {str(start + i * step): v for i, v in enumerate(values) if v is not None}
print(json.dumps(out))
"""


def read_whisper(files: list[Path]) -> dict[str, dict[int, float]]:
    """Read whisper files with Debian's whisper module (carbon's own, in the system Python)."""
    python = shutil.which("python3", path="/usr/bin") or require_tool("python3")
    proc = subprocess.run([python, "-c", READ_WHISPER, *map(str, files)], capture_output=True,
                          text=True, check=True, timeout=60)  # fmt: skip
    data = json.loads(proc.stdout)
    return {p: {int(t): v for t, v in pts.items()} for p, pts in data.items()}


def whisper_file(root: Path, prefix: str, key: str) -> Path:
    return root.joinpath(*graphite_path(prefix, key).split(".")).with_suffix(".wsp")


def test_graphite_paths_keep_to_graphites_characters() -> None:
    assert (
        graphite_path("gw", "sensors/nct6775-isa-0290/+3.3V") == "gw.sensors.nct6775-isa-0290._3_3V"
    )
    assert (
        graphite_path("", "sensors/coretemp-isa-0000/Core 0") == "sensors.coretemp-isa-0000.Core_0"
    )
    assert graphite_path("a.b", "statsd/app.hits/count") == "a.b.statsd.app_hits.count"


def landed(root: Path, prefix: str, want: dict[str, dict[int, float]]) -> bool:
    files = {key: whisper_file(root, prefix, key) for key in want}
    if not all(f.exists() for f in files.values()):
        return False
    got = read_whisper(list(files.values()))
    return all(got[str(files[k])] == pytest.approx(pts) for k, pts in want.items())


def test_points_reach_carbon(tmp_path: Path) -> None:
    batches = recorded_batches()
    want = numeric_points(batches)
    keys = ["sensors/nct6775-isa-0290/+3.3V", "sensors/coretemp-isa-0000/Core 0",
            "disk/sda/smart/188_Command_Timeout", "remote/web/london/time", "system/cpu/total",
            "system/load/1m"]  # fmt: skip
    with carbon(tmp_path) as (port, whisper):
        config = parse(f'[graphite]\nurl = "tcp://127.0.0.1:{port}"\nprefix = "gw"\n')
        engine = feed(config, batches)
        try:
            exporter = engine.exporters.get("graphite")
            assert isinstance(exporter, GraphiteExporter)
            wait_for(lambda: exporter.queue_stats()[0] == 0, 20, "the queue to empty")
            subset = {k: want[k] for k in keys}
            wait_for(lambda: landed(whisper, "gw", subset), 30, "the points in whisper")
            numeric = sum(1 for b in batches for r in b.readings if r.value is not None)
            assert exporter.sent == numeric and exporter.dropped == 0
            assert len(list(whisper.rglob("*.wsp"))) == len(want)
        finally:
            engine.stop()


def test_a_server_that_comes_up_later_gets_the_buffered_points(tmp_path: Path) -> None:
    port = free_port()
    batches = recorded_batches()
    config = parse(f'[graphite]\nurl = "tcp://127.0.0.1:{port}"\nprefix = "late"\n')
    engine = feed(config, batches)
    try:
        exporter = engine.exporters.get("graphite")
        assert isinstance(exporter, GraphiteExporter)
        wait_for(lambda: any("cannot send" in e.text for e in engine.snapshot().events), 10,
                 "the exporter to notice the server is away")  # fmt: skip
        numeric = sum(1 for b in batches for r in b.readings if r.value is not None)
        # Observers run on the engine's own thread: the last batches may still be on their way.
        wait_for(lambda: exporter.queue_stats() == (numeric, 0), 10, "every point queued")
        with carbon(tmp_path, port) as (_, whisper):
            key = "sensors/coretemp-isa-0000/Core 0"
            want = {key: numeric_points(batches)[key]}
            wait_for(lambda: landed(whisper, "late", want), 60, "the buffered points")
        texts = [e.text for e in engine.snapshot().events if e.source == "graphite"]
        assert any("takes points again" in t for t in texts), texts
    finally:
        engine.stop()
