"""Tests calendar strikes: recurrence, exceptions, a moved instance, an all-day event and the
change to summer time, read from a file and from a feed served on 127.0.0.1, each occurrence
striking once at its lead time, even across a restart, and the gong struck on a pty."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from collectors.serial_link import Device, Gong
from engine import Engine
from engine.alert_state import AlertState
from engine.alerts import AlertManager
from engine.config import Config, ScheduleEntry
from engine.schedule import Feed, Occurrence, Scheduler
from tests.clock import ManualClock
from tests.emulator import EmulatedDevice

TEAM = Path(__file__).resolve().parents[1] / "data" / "calendar" / "team.ics"
LONDON = ZoneInfo("Europe/London")


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def entry(ics: str, **kw: Any) -> ScheduleEntry:
    return ScheduleEntry(name=kw.pop("name", "team"), ics=ics, **kw)


def test_recurrence_exceptions_moves_all_day_and_summer_time() -> None:
    feed = Feed(entry(str(TEAM), match="(?i)standup|release"), tz=LONDON)
    assert feed.refresh(0.0) is None
    got = [
        (datetime.fromtimestamp(o.start, UTC).isoformat(), o.title)
        for o in feed.occurrences(utc("2027-03-14T00:00"), utc("2027-04-13T00:00"))
    ]
    assert got == [
        ("2027-03-15T09:30:00+00:00", "Standup"),  # GMT
        # 22 March is an EXDATE
        ("2027-03-29T08:30:00+00:00", "Standup"),  # 09:30 BST: the clocks went forward on 28th
        ("2027-03-30T23:00:00+00:00", "Release day"),  # all day: from midnight in London
        ("2027-04-05T13:00:00+00:00", "Standup (moved to the afternoon)"),
        ("2027-04-12T08:30:00+00:00", "Standup"),
    ]


def scheduler(
    tmp_path: Path, item: ScheduleEntry, clock: ManualClock
) -> tuple[Scheduler, list[tuple[str, Occurrence]], list[tuple[str, str]]]:
    ran: list[tuple[str, Occurrence]] = []
    said: list[tuple[str, str]] = []
    s = Scheduler(
        (item,), AlertState(tmp_path / "alerts.db"), lambda e, o: ran.append((e.name, o)),
        say=lambda level, text: said.append((level, text)), wall=clock, tz=LONDON,
    )  # fmt: skip
    return s, ran, said


def test_each_occurrence_strikes_once_at_its_lead_time_even_across_a_restart(
    tmp_path: Path,
) -> None:
    clock = ManualClock(utc("2027-03-29T08:24:59"))
    item = entry(str(TEAM), lead=300.0, match="Standup")
    s, ran, _ = scheduler(tmp_path, item, clock)
    assert s.tick() == []
    clock.now = utc("2027-03-29T08:25:00")  # five minutes before 09:30 BST
    (fired,) = s.tick()
    assert fired[1].title == "Standup" and fired[1].start == utc("2027-03-29T08:30:00")
    clock.advance(60.0)
    assert s.tick() == []
    again, ran_again, _ = scheduler(tmp_path, item, clock)  # a restart: the file remembers
    assert again.tick() == [] and ran_again == []
    assert len(ran) == 1


@contextmanager
def served(folder: Path) -> Iterator[tuple[str, ThreadingHTTPServer]]:
    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(folder), **kw)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/team.ics", server
    finally:
        server.shutdown()
        server.server_close()


def test_a_served_feed_that_goes_away_keeps_its_last_copy_and_says_so(tmp_path: Path) -> None:
    shutil.copy(TEAM, tmp_path / "team.ics")
    clock = ManualClock(utc("2027-04-05T12:00:00"))
    with served(tmp_path) as (url, server):
        item = entry(url + "?token=s3cret-calendar", lead=600.0, refresh=900.0)
        s, _, said = scheduler(tmp_path, item, clock)
        assert s.tick() == [] and said == []
        server.shutdown()
        server.server_close()
    clock.now = utc("2027-04-05T12:50:00")  # the feed is due again, and gone
    (fired,) = s.tick()
    assert fired[1].title == "Standup (moved to the afternoon)"
    ((level, text),) = said
    assert level == "warning" and text.startswith("schedule team: cannot read http://127.0.0.1:")
    assert "keeping the copy read at 2027-04-05 12:00 UTC" in text
    assert "s3cret" not in text


def test_an_unreadable_file_says_why(tmp_path: Path) -> None:
    clock = ManualClock(utc("2027-04-05T12:00:00"))
    s, _, said = scheduler(tmp_path, entry(str(tmp_path / "missing.ics")), clock)
    s.tick()
    assert said == [("warning", f"schedule team: cannot read {tmp_path / 'missing.ics'}: "
                                "No such file or directory (none yet)")]  # fmt: skip


def test_an_event_strikes_the_emulated_gong_at_its_lead_time(tmp_path: Path) -> None:
    clock = ManualClock(utc("2027-03-15T09:24:00"))
    config = Config(schedules=(entry(str(TEAM), lead=300.0, match="Standup"),))
    with EmulatedDevice("gong") as emu:
        device = Device("gong", emu.port, ready_timeout=2.0)
        gong = Gong(device, cooldown=5.0)
        manager = AlertManager(config, gong=gong, log_path=tmp_path / "a.log", wall=clock)
        manager.attach(Engine(config))
        assert manager.scheduler is not None
        device.start()
        try:
            assert manager.scheduler.tick() == []
            clock.advance(60.0)  # 09:25 UTC, five minutes before 09:30 GMT
            assert len(manager.scheduler.tick()) == 1
            assert emu.wait_event("strike") == "strike"
        finally:
            device.stop()
            manager.close()
    (rec,) = [r for r in manager.records() if r.action == "gong"]
    assert (rec.key, rec.detail) == ("schedule/team", "Standup at 09:30 UTC")
