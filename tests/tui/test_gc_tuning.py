"""Tests that a screen run for good leaves what it started with out of garbage collections,
once its first frame is drawn, and that other screens (the tests' own) do not."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from rich.segment import Segment

from engine.config import Config
from tui import app as tui_app
from tui.gc_tuning import YOUNG, freeze_startup
from tui.rich_cache import SPLIT_SEGMENTS

from . import helpers
from .helpers import until


@pytest.fixture
def thawed() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_freezing_leaves_the_objects_alive_out_and_collects_the_young_less_often(
    thawed: None,
) -> None:
    before = gc.get_threshold()
    held = [object() for _ in range(10)], {"a": [1]}
    freeze_startup()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (YOUNG, before[1], before[2])
    assert not any(obj is held for obj in gc.get_objects())  # frozen: no collection walks it


def for_good(monkeypatch: pytest.MonkeyPatch) -> tui_app.GongwatchApp:
    """A test screen that behaves as one run for good, settling 0.1 s after its first frame."""
    monkeypatch.setattr(tui_app, "SETTLE_AFTER", 0.1)
    # Given back to the other tests as it was.
    monkeypatch.setattr(Segment, "_split_cells", Segment.__dict__["_split_cells"])
    app = helpers.test_app()
    app.freeze_after_start = True
    return app


async def test_a_screen_run_for_good_freezes_after_its_first_frame(
    thawed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with for_good(monkeypatch).run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: gc.get_freeze_count() > 0, limit=2.0, pause=0.05)
        assert gc.get_threshold()[0] == YOUNG
        # ... and keeps Rich's cache of split segments to what a screen redraws.
        assert Segment._split_cells.cache_info().maxsize == SPLIT_SEGMENTS


class Node:
    def __init__(self) -> None:
        self.me = self


async def test_a_screen_run_for_good_collects_cycles_on_a_timer(
    thawed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the young generation collected rarely, a cycle that was alive at one collection
    waits in an older generation for hours; the screen collects every generation on a timer.
    """
    monkeypatch.setattr(tui_app, "COLLECT_EVERY", 0.2)
    async with for_good(monkeypatch).run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: gc.get_freeze_count() > 0, limit=2.0, pause=0.05)
        node = Node()
        gone = weakref.ref(node)
        gc.collect(1)  # alive now: moved to the oldest generation
        del node
        assert gone() is not None  # a cycle: its reference count never drops to zero
        await until(pilot, lambda: gone() is None, limit=2.0, pause=0.05)  # collected


async def test_a_screen_not_run_for_good_freezes_nothing(thawed: None) -> None:
    gc.unfreeze()
    app = helpers.test_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        assert gc.get_freeze_count() == 0


def test_the_command_line_runs_the_screen_for_good(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[Any] = []
    monkeypatch.setattr(tui_app.GongwatchApp, "run", lambda self: ran.append(self))
    view = helpers.test_app().engine
    assert tui_app.run_app(Config(), view=view) == 0
    assert ran and ran[0].freeze_after_start
