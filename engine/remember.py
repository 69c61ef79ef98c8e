"""Provides what ties the engine to its history file: opening it without stopping the monitor,
and warming a new detector with the points its series left there before a restart."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from detectors.auto_each import AutoEach
from detectors.auto_rows import AutoRows
from engine.series import History
from engine.span import Span, SpanError, read_span

if TYPE_CHECKING:
    from engine.history.query import Samples

WARM_POINTS = 2000
"""Points replayed into a new detector: about what ``auto`` keeps of a series' own past to
judge its surprises, so a restart does not begin from a blank baseline."""
SEASONS = 2
"""A seasonal detector (one with a ``season`` in seconds) gets two seasons, the least from
which Holt-Winters' seasonal terms and band are what they were before the restart."""
WARM_GROUP = 1000
"""Series of banks warmed together: their points take 32 MB at most."""
MOST_POINTS = 200_000
"""Never more than this for one series (two days at 1 Hz is 172,800): bounded start-up."""
WARM_ERRORS = (ArithmeticError, ValueError, OSError, sqlite3.Error)
"""What reading a series' past from the history file or replaying it may raise."""


class Recent(Protocol):
    """The part of the history store that warming needs."""

    def recent(self, key: str, n: int) -> list[Any]: ...

    def recent_many(self, wants: Mapping[str, int]) -> dict[str, Samples]: ...


def warm(detector: Any, history: Recent, key: str) -> int:
    """Replay the series' last stored points through a new detector, oldest first.

    Args:
        detector: a streaming detector (``update(t, x)``), just created.
        history: the history store.
        key: the metric.

    Returns:
        How many points were replayed.
    """
    points = history.recent(key, WARM_POINTS)
    want = seasonal_want(detector, [p.time for p in points])
    if want > len(points):
        points = history.recent(key, want)
    for p in points:
        detector.update(p.time, p.value)
    return len(points)


def seasonal_want(detector: Any, times: Sequence[float] | np.ndarray) -> int:
    """How many points a seasonal detector wants when the ``WARM_POINTS`` read (``times``)
    hold less than ``SEASONS`` seasons; 0 when they do, or it has no season."""
    season = getattr(detector, "season", None)
    if not (isinstance(season, int | float) and season > 0 and len(times) >= 2):
        return 0
    span = float(times[-1]) - float(times[0])
    if span >= SEASONS * season:
        return 0
    step = max(span / (len(times) - 1), 1e-3)
    return min(int(SEASONS * season / step) + 2, MOST_POINTS)


class _Ask:
    """What one thread asks a ``Warmer`` for, and what it gets."""

    def __init__(self, keys: list[str], rows: AutoEach | AutoRows | None = None) -> None:
        self.keys = keys
        self.rows = rows
        """The bank whose new rows ``keys`` are; None for series with detectors of their own."""
        self.detectors: Mapping[str, Any] = {}
        self.done = False
        self.error: BaseException | None = None
        self.pasts: list[AutoRows] = []
        """The replays the rows are taken from (``AutoRows.past``), a group of series each."""
        self.samples: dict[str, Samples] = {}
        """The stored points of each series with a detector of its own."""


class Warmer:
    """Warms new detectors from the history file; what threads ask at about the same time is
    served together: one read of the file for all their series (``recent_many``), and one
    replay for all their ``auto`` rows, whatever banks they are in.

    A thread asks, then waits for its turn; the thread whose turn comes serves every ask
    waiting then, its own among them unless a turn before served it. So of many sources that
    start together, the first is served alone, and those that came meanwhile together next.
    """

    def __init__(self, history: Recent) -> None:
        """Args:
        history: the history store.
        """
        self.history = history
        self._waiting: list[_Ask] = []
        self._lock = threading.Lock()
        self._turn = threading.Lock()

    def rows(self, rows: AutoEach | AutoRows, keys: Sequence[str]) -> None:
        """Feed new rows of a bank their series' last ``WARM_POINTS`` stored points, as
        ``warm`` does an ``auto`` of its own (call under the bank's lock).

        Raises:
            sqlite3.Error, OSError, ValueError, ArithmeticError: the file could not be read or
                its points could not be replayed (the rows are as they were).
        """
        ask = self._wait(_Ask(list(keys), rows))
        for past in ask.pasts:
            rows.take(past, keys)

    def points(self, detectors: Mapping[str, Any]) -> dict[str, Samples]:
        """The stored points each new detector of its own series is to be warmed with, oldest
        first: the last ``WARM_POINTS``, more for a seasonal one (see ``warm``).

        Raises:
            sqlite3.Error, OSError, ValueError: the file could not be read, or held a chunk
                that could not be decoded.
        """
        ask = _Ask(list(detectors))
        ask.detectors = detectors
        return self._wait(ask).samples

    def _wait(self, ask: _Ask) -> _Ask:
        with self._lock:
            self._waiting.append(ask)
        with self._turn:
            if not ask.done:
                with self._lock:
                    group, self._waiting = self._waiting, []
                self._serve(group)
        if ask.error is not None:
            raise ask.error
        return ask

    def _serve(self, group: list[_Ask]) -> None:
        try:
            self._serve_rows([a for a in group if a.rows is not None])
            self._serve_points([a for a in group if a.rows is None])
        except WARM_ERRORS as exc:
            if len(group) == 1:
                group[0].error = exc
            else:  # what one series breaks costs its own ask only, as when asked alone
                for ask in group:
                    ask.pasts, ask.samples = [], {}
                    self._serve([ask])
        except Exception as exc:  # a bug: each thread of the group raises it, as if alone
            for ask in group:
                ask.error = ask.error or exc
        for ask in group:
            ask.done = True

    def _serve_rows(self, asks: list[_Ask]) -> None:
        """One replay per ``WARM_GROUP`` new series of the banks (of the same knobs)."""
        kinds: dict[object, list[tuple[AutoEach | AutoRows, _Ask]]] = {}
        for ask in asks:
            if ask.rows is not None:
                kinds.setdefault(ask.rows.params, []).append((ask.rows, ask))
        for same in kinds.values():
            keys = list(dict.fromkeys(k for _, ask in same for k in ask.keys))
            for at in range(0, len(keys), WARM_GROUP):
                part = dict.fromkeys(keys[at : at + WARM_GROUP], WARM_POINTS)
                got = self.history.recent_many(part)
                past = same[0][0].past({k: (s.t, s.x) for k, s in got.items()})
                for _, ask in same:
                    if any(k in part for k in ask.keys):
                        ask.pasts.append(past)

    def _serve_points(self, asks: list[_Ask]) -> None:
        """One read for every series, and one more for the seasonal ones that want more."""
        if not asks:
            return
        detectors = {k: d for ask in asks for k, d in ask.detectors.items()}
        got = self.history.recent_many(dict.fromkeys(detectors, WARM_POINTS))
        more = {k: seasonal_want(d, got[k].t) for k, d in detectors.items()}
        more = {k: n for k, n in more.items() if n > len(got[k])}
        if more:
            got.update(self.history.recent_many(more))
        for ask in asks:
            ask.samples = {k: got[k] for k in ask.keys}


class StoreArchive:
    """The history store as the engine's archive: appends, reads for a span (from the tier
    that fits it), the recent points a new detector is warmed with, and closing."""

    def __init__(self, store: Any) -> None:
        """Args:
        store: an open ``engine.history.HistoryStore``.
        """
        self.store = store

    def append(self, key: str, t: float, x: float, anomalous: bool = False) -> object:
        """Queue one point (never blocks: the store's writer thread saves it)."""
        return self.store.append(key, t, x, anomalous)

    def extend(
        self,
        keys: Sequence[str],
        times: Sequence[float],
        values: Sequence[float],
        flags: Sequence[bool],
    ) -> object:
        """Queue a poll's points at once (never blocks: the store's writer thread saves them)."""
        return self.store.extend(keys, times, values, flags)

    def set_unit(self, key: str, unit: str) -> None:
        """Tell the file the unit of a series, for ``gongwatch history``."""
        self.store.set_unit(key, unit)

    def read(
        self, key: str, since: float, until: float | None = None, count: int | None = None
    ) -> History:
        """The points of ``key`` from ``since`` to ``until``, oldest first (rollup means where
        the span asks for a coarser tier), at most the newest ``count``."""
        points = self.store.points(key, since, until)
        if count is not None:
            points = points[-count:] if count > 0 else []
        return _history(points)

    def tail(self, key: str, count: int) -> History:
        """The last ``count`` raw points of ``key``, oldest first: what the engine keeps in
        memory of a series, for an engine that keeps fewer."""
        return _history(self.store.recent(key, count))

    def span(self, key: str, since: float, until: float, points: int) -> Span:
        """``key`` from ``since`` to ``until`` as at most ``points`` points, from the tier that
        fits the span (see ``engine.span.read_span``).

        Raises:
            SpanError: the file could not be read.
        """
        try:
            return read_span(self.store, key, since, until, points)
        except sqlite3.Error as exc:
            raise SpanError(f"cannot read {self.store.path}: {exc}") from exc

    def recent(self, key: str, n: int) -> list[Any]:
        """The last ``n`` raw points of ``key``."""
        return list(self.store.recent(key, n))

    def recent_many(self, wants: Mapping[str, int]) -> dict[str, Samples]:
        """The last raw points of many keys (``wants``: how many of each), read at once."""
        return self.store.recent_many(wants)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Seal and save every point still queued."""
        self.store.close()


def _history(points: list[Any]) -> History:
    t = np.array([p.time for p in points], dtype=np.float64)
    x = np.array([p.value for p in points], dtype=np.float64)
    flags = np.array([p.anomalous for p in points], dtype=bool)
    return History(t, x, flags)


def open_archive(config: Any, report: Callable[[str], None]) -> StoreArchive | None:
    """Open the history file the configuration names as an archive; None, said once, when it
    cannot be (the monitor runs on without it).

    Args:
        config: the engine's configuration (its ``history_store`` settings).
        report: where the one line goes when the file cannot be opened.
    """
    from engine.history import HistoryStore, SchemaError

    settings = config.history_store
    try:
        return StoreArchive(HistoryStore(settings, on_event=report))
    except (OSError, sqlite3.Error, SchemaError, RuntimeError, ValueError) as exc:
        report(f"history off: cannot open {settings.file}: {exc}")
        return None
