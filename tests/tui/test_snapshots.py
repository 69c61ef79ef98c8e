"""Snapshot tests of the Overview at 80x24 and 120x40: recorded readings, fixed clock and host."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from collectors.base import Status
from engine.config import Config

from .helpers import recorded_engine, spike, test_app

test_app.__test__ = False  # type: ignore[attr-defined]


async def settle(pilot: Pilot[Any]) -> None:
    pilot.app.tick()  # type: ignore[attr-defined]
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_overview(snap_compare: Any, size: tuple[int, int]) -> None:
    # A fixed detector, so that tuning the default does not redraw these pictures.
    engine = recorded_engine(Config(default_detector="robust_z"))
    spike(
        engine, status=Status.WARNING
    )  # one anomalous row, so the highlight and its marker are in the picture
    assert snap_compare(test_app(engine), terminal_size=size, run_before=settle)
