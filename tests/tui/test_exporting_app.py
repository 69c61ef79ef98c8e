"""Tests that the screen's embedded engine runs the configured exporters while the app runs."""

from __future__ import annotations

import httpx
import pytest

from collectors.replay import ReplayCollector
from engine.config_reader import parse
from tests.servers import free_port
from tests.tui.helpers import DATA
from tui.app import make_app


async def test_the_app_serves_prometheus_while_it_runs() -> None:
    port = free_port()
    config = parse(f'[prometheus]\nlisten = "127.0.0.1:{port}"\n')
    replay = ReplayCollector(DATA / "stand_in_readings.jsonl", interval=0.05)
    app = make_app(config, collectors=[replay], hostname="testhost")
    url = f"http://127.0.0.1:{port}/metrics"
    async with httpx.AsyncClient(timeout=5) as client, app.run_test() as pilot:
        for _ in range(100):
            text = (await client.get(url)).text
            if "node_hwmon_temp_celsius{" in text:
                break
            await pilot.pause(0.05)
        assert 'node_hwmon_temp_celsius{chip="coretemp-isa-0000",sensor="Core 0"}' in text
    async with httpx.AsyncClient(timeout=2) as client:
        with pytest.raises(httpx.ConnectError):  # quitting the app stopped the exporter
            await client.get(url)


async def test_a_tick_after_the_app_has_shut_down_does_nothing() -> None:
    """A refresh timer may fire once more while whoever runs the app shuts it down (a test's
    pilot, a web session): its panes are gone by then, so the tick must not draw them."""
    replay = ReplayCollector(DATA / "stand_in_readings.jsonl", interval=0.05)
    app = make_app(parse(""), collectors=[replay], hostname="testhost")
    async with app.run_test() as pilot:
        await pilot.pause(0.3)
    app.tick()
