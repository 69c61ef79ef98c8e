"""Tests the Hosts pane and the Overview's host groups through Textual's pilot, fed by Debian's
Prometheus scraping a real node exporter and a target where nothing listens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from collectors.base import Status
from collectors.prometheus import PrometheusCollector
from collectors.replay import ReplayCollector
from engine import Engine
from engine.config import Config
from tests.prometheus_servers import running_lab, wait_for
from tests.tui.helpers import DATA, recorded_engine
from tests.tui.helpers import test_app as app_on
from tui.app import GongwatchApp
from tui.panes.hosts import HostsPane
from tui.widgets import RowTable


def poll(engine: Engine, collector: PrometheusCollector) -> None:
    engine.ingest(engine.poll_one(collector))


def rows_by_host(app: GongwatchApp) -> dict[str, tuple[str, ...]]:
    app.tick()
    table = app.query_one("#hosts-table", RowTable)
    return {r.cells[0]: r.cells for r in table.rows if not r.heading}


async def test_hosts_pane_shows_this_machine_then_each_host_and_a_host_going_down(
    tmp_path: Path,
) -> None:
    with running_lab(tmp_path) as lab:
        engine = recorded_engine()
        collector = lab.collector()
        engine.collectors.append(collector)
        poll(engine, collector)
        app = app_on(engine)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press(str(1 + app.pane_classes.index(HostsPane)))
            await pilot.pause()
            assert app.active_pane is app.query_one(HostsPane)
            rows = rows_by_host(app)
            table = app.query_one("#hosts-table", RowTable)
            names = [r.cells[0] for r in table.rows if not r.heading]
            assert names[0] == "testhost" and rows["testhost"][1] == "up"
            local = [k for k in engine.snapshot().metrics if k.startswith(("system/", "sensors/"))]
            assert rows["testhost"][4] == f"{len(local)} metrics"
            live, dead = rows[lab.node.address], rows[lab.dead]
            assert live[1] == "up" and int(live[4].split()[0]) > 10
            assert dead[1:4] == ("down", "critical", "1 anomalous")
            title = str(app.query_one("#hosts-title").render())
            assert "3 hosts" in title and "2 up" in title and "1 down" in title

            # The node exporter goes away: on the next polls its host is down.
            lab.node.stop()
            key = f"hosts/{lab.node.address}/up"

            def went_down() -> bool | None:
                poll(engine, collector)
                state = engine.snapshot().metrics[key]
                return True if state.reading.status is Status.CRITICAL else None

            wait_for("the node exporter's host goes down", went_down, 15.0)
            await pilot.pause()
            gone = rows_by_host(app)[lab.node.address]
            assert gone[1:3] == ("down", "critical")
            row = next(r for r in table.rows if r.cells[0] == lab.node.address)
            assert row.marker.strip() == "✖" and "red" in row.style


async def test_overview_groups_each_hosts_metrics_under_the_host(tmp_path: Path) -> None:
    with running_lab(tmp_path) as lab:
        engine = recorded_engine()
        poll(engine, lab.collector())
        app = app_on(engine)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            app.tick()
            table = app.query_one("#overview-table", RowTable)
            headings = [r.cells[0] for r in table.rows if r.heading]
            host = f"hosts/{lab.node.address}"
            assert headings.index(host) > headings.index("system")
            assert f"hosts/{lab.dead}" in headings
            under = _rows_under(table, host)
            assert "node_load1" in under and "up" in under


def _rows_under(table: RowTable, heading: str) -> list[str]:
    out: list[str] = []
    inside = False
    for r in table.rows:
        if r.heading:
            inside = r.cells[0] == heading
        elif inside:
            out.append(r.cells[0])
    return out


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_hosts_pane_snapshot(snap_compare: Any, size: tuple[int, int]) -> None:
    # prometheus_readings.jsonl is `gongwatch once --json` of a [[sources.prometheus]] source
    # reading the lab above, its two targets renamed web1:9100 (up) and web2:9100 (down).
    engine = recorded_engine(Config(default_detector="robust_z"))
    replay = ReplayCollector(DATA / "prometheus_readings.jsonl", name="prometheus:lab")
    for _ in range(len(replay)):
        engine.ingest(replay.poll())
    app = app_on(engine)

    async def show(pilot: Pilot[Any]) -> None:
        app.action_show_pane(app.pane_classes.index(HostsPane) + 1)
        await pilot.pause()
        app.tick()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=show)
