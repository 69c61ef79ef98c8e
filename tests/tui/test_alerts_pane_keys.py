"""Tests the Alerts pane's keys through the pilot: acknowledge, silence for an hour or a day,
and unsilence the alert under the cursor, on the real state file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import TabbedContent

from collectors.base import Batch, Reading
from detectors.base import Verdict
from engine import Engine, MetricState
from engine.alerts import AlertManager
from engine.config import AlertRule, Config
from tui.app import GongwatchApp, make_app
from tui.panes.alerts import AlertsPane
from tui.screens.help import HelpScreen

KEY = "sensors/coretemp/core0"


def app_for(tmp_path: Path) -> tuple[GongwatchApp, AlertManager]:
    config = Config(alerts=(AlertRule("sensors/**", "critical", 0.0, ("bell",), name="hot"),))
    engine = Engine(config)
    alerts = AlertManager(config, bell=lambda: None, log_path=tmp_path / "alerts.log")
    alerts.attach(engine)
    verdict = Verdict(0.9, True, severity="critical", reason="above crit 90 °C")
    alerts.observe(Batch("t"), [MetricState(Reading(KEY, 95.0, "°C"), verdict, "auto", 0.0)])
    app = make_app(
        engine=engine, hostname="testhost", autostart=False, panes=[AlertsPane], alerts=alerts
    )
    return app, alerts


async def press(pilot: Pilot[Any], key: str) -> str:
    pane = pilot.app.query_one(AlertsPane)
    pane.query_one("#alerts-table").focus()
    await pilot.press(key)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return str(pane.query_one("#alerts-state").render())


async def test_the_keys_act_on_the_alert_under_the_cursor(tmp_path: Path) -> None:
    app, alerts = app_for(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        pilot.app.query_one(TabbedContent).active = "tab-alerts"
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert str(pilot.app.query_one("#alerts-state").render()) == "1 firing"
        assert await press(pilot, "a") == "1 acknowledged"
        assert [a.state for a in alerts.state.alerts(time.time())] == ["acknowledged"]
        assert (await press(pilot, "s")).startswith(f"1 acknowledged · silence {KEY} until ")
        (hour,) = alerts.state.silences(time.time()).values()
        assert 3590 < hour - time.time() <= 3600
        await press(pilot, "S")
        (day,) = alerts.state.silences(time.time()).values()
        assert 86390 < day - time.time() <= 86400
        assert await press(pilot, "u") == "1 acknowledged"
        assert alerts.state.silences(time.time()) == {}
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(pilot.app.screen, HelpScreen)
        shown = " ".join(
            str(s.render()) for s in pilot.app.screen.query("*") if hasattr(s, "render")
        )
        for words in ("Acknowledge", "Silence 1 h", "Silence 1 day", "Unsilence"):
            assert words in shown, words
