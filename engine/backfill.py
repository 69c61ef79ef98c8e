"""Provides ``Backfills``: the recent past a source can read of its series (a Prometheus
source's ``query_range``), fed to the detectors, the series and the history archive when the
source starts, on a thread of its own so live polling never waits for it.

The past usually arrives a moment after the first live points. Each series' detector is then
made again from the past followed by the live points already judged (the ``auto`` ones in
their bank's rows, in one step), so it has seen every point in time order; the archive holds
a backfilling source's live points back until its past is written before them (the history
file wants each series' points in order).
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from engine.series import History

if TYPE_CHECKING:
    from collectors.base import Batch, Collector
    from collectors.prometheus_range import Past
    from engine.engine import Engine, MetricState


class Backfilling(Protocol):
    """A collector that can read its series' recent past (``PrometheusCollector``)."""

    name: str

    def backfill(self) -> Past:
        """Read the past, blocking (bounded by the source's timeout); never raises."""
        ...


class Backfills:
    """The backfills of one engine's sources."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._held: dict[str, list[tuple[str, float, float, bool]]] = {}
        """Live points of a backfilling source the archive waits with, by source."""
        self._lock = threading.Lock()

    def start(self, collector: Collector, judging: threading.Lock) -> threading.Thread | None:
        """Read ``collector``'s past on a new thread, if it has one to read.

        Args:
            collector: the source.
            judging: held while the source's batches are judged, so the past and the live
                points never reach a detector at the same time.
        """
        if not callable(getattr(collector, "backfill", None)):
            return None
        if self.engine.archive is not None:
            with self._lock:
                self._held.setdefault(collector.name, [])
        thread = threading.Thread(
            target=self._run, args=(collector, judging), name=f"backfill-{collector.name}",
            daemon=True,
        )  # fmt: skip
        thread.start()
        return thread

    def _run(self, collector: Backfilling, judging: threading.Lock) -> None:
        try:
            past = collector.backfill()
        except Exception as exc:  # a bug in the backfill costs the past, never the source
            self.engine.report(collector.name, "error", f"backfill failed: {exc!r}; live only")
            self._release(collector.name)
            return
        if past.error is not None:
            self.engine.report(collector.name, "warning", f"{past.error}; live points only")
            self._release(collector.name)
            return
        with judging:
            if self.engine.stopping:
                self._release(collector.name)  # the live points held back still go in
                return
            fed = self._feed(collector.name, past.series)
        self._release(collector.name, fed)
        total = sum(len(p) for p in fed.values())
        if past.series:
            self.engine.report(
                collector.name, "info",
                f"backfilled {total:,} points of {len(fed):,} series from query_range",
            )  # fmt: skip

    def _feed(
        self, source: str, series: dict[str, list[tuple[float, float]]]
    ) -> dict[str, list[tuple[float, float, bool]]]:
        """Put each series' past before its live points in memory and make its detector again
        from both (all of them in one step, for the ``auto`` ones); return the past points
        used. The past is context for the detectors, not judged: its points are not flagged."""
        engine = self.engine
        merged, fed = {}, {}
        for key, points in series.items():
            live = engine.store.tail(key)
            first = float(live.t[0]) if len(live) else math.inf
            old = [(t, x) for t, x in points if t < first]
            if not old:
                continue
            t = np.concatenate([np.array([p[0] for p in old]), live.t])
            x = np.concatenate([np.array([p[1] for p in old]), live.x])
            flags = np.concatenate([np.zeros(len(old), dtype=bool), live.anomalous])
            engine.store.load(key, History(t, x, flags))
            merged[key] = (t, x)
            fed[key] = [(pt, px, False) for pt, px in old]
        engine.rewarm(source, merged)
        return fed

    def hold(self, batch: Batch, changed: list[MetricState]) -> bool:
        """Keep a backfilling source's live points from the archive until its past is written;
        return whether they were kept (called from the observers' thread)."""
        with self._lock:
            held = self._held.get(batch.source)
            if held is None:
                return False
            for st in changed:
                r = st.reading
                if r.value is not None and math.isfinite(r.value):
                    held.append((r.key, r.time, r.value, st.verdict.anomalous))
            return True

    def _release(self, source: str, fed: dict[str, Any] | None = None) -> None:
        """Write the past, then the live points held back, to the archive."""
        archive = self.engine.archive
        with self._lock:
            held = self._held.pop(source, [])
            if archive is None:
                return
            fed = fed or {}
            # A file kept from an earlier run may hold part of that past already: the newest
            # stored point of every series fed, in one read.
            wants = {key: 1 for key, points in fed.items() if points}
            newest = archive.recent_many(wants) if wants and hasattr(archive, "recent_many") else {}
            for key, points in fed.items():
                last = newest.get(key)
                after = float(last.t[-1]) if last is not None and len(last) else -math.inf
                for t, x, flag in points:
                    if t > after:
                        archive.append(key, t, x, flag)
            for key, t, x, flag in held:
                archive.append(key, t, x, flag)
