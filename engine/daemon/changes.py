"""Provides ``SnapshotCoder``: the daemon's snapshots as JSON for its clients, whole or only
what changed since the version a client holds, each encoded once however many ask."""

from __future__ import annotations

import json
import threading
from typing import Any

from engine import wire
from engine.engine import MetricState, Snapshot

KEPT_ANSWERS = 8
"""Encoded answers kept for the latest version (one per version the clients hold)."""


class SnapshotCoder:
    """Encodes snapshots, remembering at which version each metric's row last changed.

    An attached screen polls every second; with hundreds of metrics, sending and decoding all
    of them each time costs more than everything else it does. A client that holds version N
    gets the rows that changed after N and the events after the last it has; a client that
    holds nothing, or a version from before the metrics' keys last changed (a new source, a
    reload), gets the whole snapshot.
    """

    def __init__(self) -> None:
        self._rows: dict[str, tuple[MetricState, list[Any]]] = {}
        self._changed: dict[str, int] = {}
        """The version at which each metric's row last changed."""
        self._keys_since = 0
        """The version at which the metrics' keys (or their order) last changed."""
        self._version = -1
        self._answers: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()

    def encode(
        self, snap: Snapshot, since: int = -1, events_since: int = 0, *, changes: bool = True
    ) -> bytes | None:
        """Return ``snap`` as JSON for a client that holds version ``since``, or None when
        that is ``snap``'s version.

        Args:
            snap: the latest snapshot.
            since: the version the client holds (-1 or 0 for none).
            events_since: the last event the client has: only newer ones go in a snapshot of
                changes (a whole snapshot holds every event kept).
            changes: False for the whole snapshot whatever the client holds.
        """
        if since == snap.version:
            return None
        with self._lock:
            if snap.version < self._version:
                self.__init__()  # type: ignore[misc]  # another engine: start afresh
            if snap.version != self._version:
                self._take(snap)
            whole = not changes or since < self._keys_since or since > snap.version
            ask = (-1, 0) if whole else (since, events_since)
            body = self._answers.get(ask)
            if body is None:
                body = self._answers[ask] = self._answer(snap, ask)
                while len(self._answers) > KEPT_ANSWERS:
                    del self._answers[next(iter(self._answers))]
            return body

    def _take(self, snap: Snapshot) -> None:
        """Encode the rows of a new version's changed metrics; note what changed."""
        if list(snap.metrics) != list(self._rows):
            self._keys_since = snap.version
            self._rows = {k: v for k, v in self._rows.items() if k in snap.metrics}
        for key, st in snap.metrics.items():
            held = self._rows.get(key)
            if held is None or held[0] is not st:
                self._rows[key] = (st, wire.metric_row(st))
                self._changed[key] = snap.version
        if self._keys_since == snap.version:
            # Keys gone or moved: the rows are rebuilt in the snapshot's order.
            self._rows = {k: self._rows[k] for k in snap.metrics}
            self._changed = {k: self._changed[k] for k in snap.metrics}
        self._version = snap.version
        self._answers.clear()

    def _answer(self, snap: Snapshot, ask: tuple[int, int]) -> bytes:
        since, events_since = ask
        if since < 0:
            rows = [held[1] for held in self._rows.values()]
            data = wire.snapshot_json(snap, rows, snap.events)
        else:
            rows = [held[1] for k, held in self._rows.items() if self._changed[k] > since]
            events = [e for e in snap.events if e.seq > events_since]
            data = wire.snapshot_json(snap, rows, events, since=since)
        return json.dumps(data).encode()
