"""Snapshot tests of the Sensors, Disks and Remote panes at 80x24 and 120x40, replaying what the
real collectors read from the tests' stand-ins (tests/hardware_fakes/record_stand_ins.py)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from collectors.replay import ReplayCollector
from engine import Engine
from engine.config import Config
from tui.panes import DisksPane, RemotePane, SensorsPane

from .helpers import DATA, recorded_engine, test_app

test_app.__test__ = False  # type: ignore[attr-defined]


def stand_in_engine() -> Engine:
    """The recorded machine, plus its sensors, disks and remote services."""
    # A fixed detector, so that tuning the default does not redraw these pictures.
    engine = recorded_engine(Config(default_detector="robust_z"))
    replay = ReplayCollector(DATA / "stand_in_readings.jsonl")
    for _ in range(len(replay)):
        engine.ingest(replay.poll())
    return engine


@pytest.mark.parametrize("pane", [SensorsPane, DisksPane, RemotePane], ids=lambda p: p.PANE_ID)
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_pane(snap_compare: Any, pane: type, size: tuple[int, int]) -> None:
    app = test_app(stand_in_engine())

    async def show(pilot: Pilot[Any]) -> None:
        app.action_show_pane(app.pane_classes.index(pane) + 1)
        await pilot.pause()
        app.tick()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=show)
