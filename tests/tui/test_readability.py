"""Tests that the panes read well: groups in the order a person checks them, filters that say
they are on, words in the singular where there is one, and columns that use the width."""

from __future__ import annotations

from collectors.base import Batch, Reading
from collectors.limits import make_reading
from engine import Engine
from engine.config import Config
from engine.format import age_hours, plural
from tui.commands import GongwatchCommands
from tui.panes import DisksPane, OverviewPane, SensorsPane
from tui.widgets import Column, RowTable
from tui.widgets.row_table import column_widths, fit

from .test_hardware_panes import app_for, show


def machine() -> Engine:
    """An engine that heard from the sensors first, then the disks, then the system."""
    engine = Engine(Config())
    temp = make_reading("nct6775-isa-0290", "SYSTIN", "temp", {"input": 35.0}, 1.0)
    engine.ingest(Batch("sensors", (temp,)))
    disk = (
        Reading("disk/sda/capacity", 12e12, "B", 1.0, text="12.0 TB"),
        Reading("disk/sda/model", None, "", 1.0, text="WDC WD120EFAX"),
        Reading("disk/sda/power_on_hours", 252.0, "h", 1.0),
    )
    engine.ingest(Batch("smart", disk))
    engine.ingest(Batch("system", (Reading("system/load/1m", 0.5, "", 1.0),)))
    return engine


async def test_the_overview_shows_the_system_first_whatever_answered_first() -> None:
    app = app_for(machine())
    async with app.run_test(size=(80, 24)) as pilot:
        rows = await show(app, pilot, OverviewPane)
    headings = [r[1][0] for r in rows if r[4]]
    assert headings == ["system/load", "sensors/nct6775-isa-0290", "disk/sda"]


async def test_a_filter_that_hides_everything_says_so_instead_of_all_is_well() -> None:
    app = app_for(machine())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash", *"load/1m", "enter")
        await show(app, pilot, SensorsPane)
        sensors = str(app.query_one("#sensors-title").render())
        await show(app, pilot, DisksPane)
        disks = str(app.query_one("#disks-title").render())
    assert "no sensor matches the filter" in sensors and "within limits" not in sensors
    assert "no disk matches the filter" in disks and "healthy" not in disks
    assert "filter: load/1m" in sensors and "filter: load/1m" in disks


async def test_the_disks_pane_is_readable_at_80x24_and_speaks_one_unit() -> None:
    app = app_for(machine())
    async with app.run_test(size=(80, 24)) as pilot:
        rows = {r[0]: r for r in await show(app, pilot, DisksPane)}
        title = str(app.query_one("#disks-title").render())
    head = rows["#disk/sda"][1][0]
    assert "10.9 TiB" in head and "TB" not in head.replace("TiB", "")
    assert rows["disk/sda/power_on_hours"][1][1] == "252 h (10 days)"
    assert title.startswith(" 1 disk ·")


def test_words_in_the_singular_and_ages_in_days_or_years() -> None:
    assert (plural(1, "service"), plural(3, "service")) == ("1 service", "3 services")
    assert age_hours(30) == "30 h"
    assert age_hours(252) == "252 h (10 days)"
    assert age_hours(26_298) == "26,298 h (3.0 years)"


def test_long_keys_are_cut_in_the_middle_so_their_tails_tell_them_apart() -> None:
    a, b = "sensors/coretemp-virtual-0/Core 0", "sensors/coretemp-virtual-0/Core 1"
    assert fit(a, 20, "middle") != fit(b, 20, "middle")
    assert fit(a, 20, "middle").endswith("Core 0") and len(fit(a, 20, "middle")) == 20
    assert fit(a, 20) == a[:19] + "…" and fit("short", 20) == "short"


def test_spare_width_goes_to_the_growing_columns() -> None:
    cols = [Column(16, grow=1), Column(12, grow=1), Column(0), Column(12, grow=2)]
    narrow, wide = column_widths(cols, 80), column_widths(cols, 160)
    assert all(w >= c.width for w, c in zip(narrow, cols, strict=True))
    assert 2 + sum(w + 1 for w in narrow) == 80 - 1  # the whole line, less the scrollbar
    assert wide[3] > narrow[3] >= 12 and wide[0] > narrow[0]
    assert RowTable(cols).columns == cols


async def test_the_palette_offers_charts_only_for_numbers() -> None:
    app = app_for(machine())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        names = [name for name, _run, _help in GongwatchCommands(app.screen)._commands()]
    assert "Chart: disk/sda/capacity" in names
    assert "Chart: disk/sda/model" not in names
