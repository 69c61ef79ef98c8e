"""Provides calendar strikes: the events of ``[[schedule]]`` iCalendar feeds (a file or an
http(s) URL) run their actions at a lead time before they start, each occurrence once, even
across a restart. Recurrence, exceptions, moved instances, all-day events and time zones are
resolved by icalendar and recurring-ical-events."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

import httpx

from collectors.remote import redact
from engine.alert_state import AlertState, StateError
from engine.config import ScheduleEntry
from engine.notify import protect_url, shown_url

TICK = 15.0
"""Seconds between looks at the calendars (an occurrence strikes at most this late)."""
LATE = 60.0
"""Seconds after an event's start within which a strike missed (a restart) still runs."""
FETCH_TIMEOUT = 10.0
MAX_BYTES = 5_000_000
"""Largest calendar read: a feed is text, a year of a busy calendar is far less."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of a calendar event."""

    uid: str
    start: float
    """Wall-clock time it starts, seconds since the epoch."""
    title: str


class Feed:
    """One ``[[schedule]]`` calendar: read at its interval, the last good copy kept."""

    def __init__(self, entry: ScheduleEntry, tz: tzinfo | None = None) -> None:
        """Args:
        entry: the schedule.
        tz: the zone all-day and floating events are in (this machine's when None).
        """
        self.entry, self.tz = entry, tz
        self.match = re.compile(entry.match) if entry.match else None
        self.calendar: object | None = None
        self.read_at: float | None = None
        """Wall-clock time of the last good read."""
        self.error: str | None = None
        self.next_read = 0.0
        if entry.ics.startswith(("http://", "https://")):
            protect_url(entry.ics)

    @property
    def shown(self) -> str:
        """The feed's address as the screen and the log may show it."""
        ics = self.entry.ics
        return shown_url(ics) if "://" in ics else ics

    def refresh(self, now: float) -> str | None:
        """Read the calendar again; return a line saying what went wrong, or None."""
        import icalendar

        try:
            text = _fetch(self.entry.ics)
            calendar = icalendar.Calendar.from_ical(text)
        except (OSError, httpx.HTTPError, ValueError) as exc:
            why = redact(f"{getattr(exc, 'strerror', None) or exc}")[:200]
            kept = "keeping the copy read at " + _hhmm(self.read_at) if self.read_at else "none yet"
            self.error = f"cannot read {self.shown}: {why} ({kept})"
            return self.error
        self.calendar, self.read_at, self.error = calendar, now, None
        return None

    def occurrences(self, start: float, end: float) -> list[Occurrence]:
        """Return the occurrences starting between ``start`` and ``end`` whose title matches."""
        import recurring_ical_events

        if self.calendar is None:
            return []
        tz = self.tz or datetime.now().astimezone().tzinfo
        a, b = datetime.fromtimestamp(start, tz), datetime.fromtimestamp(end, tz)
        out = []
        for ev in recurring_ical_events.of(self.calendar).between(a, b):
            title = str(ev.get("SUMMARY", ""))
            if self.match is not None and not self.match.search(title):
                continue
            begins = _epoch(ev.get("DTSTART").dt, tz)
            if start <= begins < end:
                out.append(Occurrence(str(ev.get("UID", title)), begins, title))
        return sorted(out, key=lambda o: o.start)


class Scheduler:
    """Looks at every feed at each tick and runs the actions of the occurrences now due."""

    def __init__(
        self,
        entries: tuple[ScheduleEntry, ...],
        state: AlertState,
        act: Callable[[ScheduleEntry, Occurrence], None],
        *,
        say: Callable[[str, str], None] = lambda level, text: None,
        wall: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
    ) -> None:
        """Args:
        entries: the ``[[schedule]]`` tables.
        state: remembers which occurrences have struck.
        act: runs one schedule's actions for one occurrence.
        say: tells the user (``warning``/``info``, a line) that a feed failed or came back.
        wall: the wall clock.
        tz: the zone of all-day and floating events (this machine's when None).
        """
        self.feeds = [Feed(e, tz) for e in entries]
        self.state, self.act, self.say, self.wall = state, act, say, wall
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[tuple[str, Occurrence]]:
        """Refresh the feeds that are due and run what is due; return what ran."""
        now = self.wall()
        ran = []
        for feed in self.feeds:
            if now >= feed.next_read:
                self._refresh(feed, now)
            for occ in feed.occurrences(now - LATE, now + feed.entry.lead + TICK):
                if not occ.start - feed.entry.lead <= now < occ.start + LATE:
                    continue
                try:
                    first = self.state.strike_once(feed.entry.name, occ.uid, occ.start)
                except StateError as exc:
                    self.say("error", str(exc))
                    first = False
                if first:
                    self.act(feed.entry, occ)
                    ran.append((feed.entry.name, occ))
        return ran

    def _refresh(self, feed: Feed, now: float) -> None:
        had = feed.error
        feed.next_read = now + feed.entry.refresh
        why = feed.refresh(now)
        if why is not None and why != had:
            self.say("warning", f"schedule {feed.entry.name}: {why}")
        elif why is None and had is not None:
            self.say("info", f"schedule {feed.entry.name}: {feed.shown} read again")

    def start(self) -> None:
        """Tick in a thread of its own until ``stop``."""
        self._thread = threading.Thread(target=self._run, name="schedule", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the ticking thread."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(TICK)


def _fetch(ics: str) -> bytes:
    if ics.startswith(("http://", "https://")):
        with httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=True) as client:
            r = client.get(ics)
            r.raise_for_status()
            return r.content[:MAX_BYTES]
    with Path(ics).expanduser().open("rb") as f:
        return f.read(MAX_BYTES)


def _epoch(value: date | datetime, tz: tzinfo | None) -> float:
    """An event's start as epoch seconds: an all-day event starts at midnight in ``tz``; a
    floating time is in ``tz`` too."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=tz)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.timestamp()


def _hhmm(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%d %H:%M UTC")


__all__ = ["Feed", "Occurrence", "Scheduler"]
