"""Provides ``SnapshotCoder``: the daemon's snapshots as JSON for its clients, whole or only
what changed since the version a client holds, each encoded once however many ask."""

from __future__ import annotations

import json
import threading
from typing import Any

from engine import wire, wire_changes
from engine.engine import MetricState, Snapshot

KEPT_ANSWERS = 8
"""Encoded answers kept for the latest version (one per version the clients hold)."""


class SnapshotCoder:
    """Encodes snapshots, remembering at which version each metric's row last changed.

    An attached screen polls every second; with hundreds of metrics, sending and decoding all
    of them each time costs more than everything else it does. A client that holds version N
    gets the rows that changed after N and the events after the last it has; a client that
    holds nothing, or a version from before the metrics' keys last changed (a new source, a
    reload), gets the whole snapshot. The changes go as rows, or in the compact form of
    ``engine.wire_changes`` (only the columns that changed) to a client that asks for it.
    """

    def __init__(self) -> None:
        self._rows: dict[str, tuple[MetricState, list[Any]]] = {}
        self._changed: dict[str, int] = {}
        """The version at which each metric's row last changed."""
        self._keys_since = 0
        """The version at which the metrics' keys (or their order) last changed."""
        self._columns = [0] * len(wire.COLUMNS)
        """The version at which a cell of each column last changed, in any row."""
        self._version = -1
        self._answers: dict[tuple[int, int, bool], bytes] = {}
        self._lock = threading.Lock()

    def encode(
        self, snap: Snapshot, since: int = -1, events_since: int = 0, *, changes: bool = True,
        cells: bool = False,
    ) -> bytes | None:  # fmt: skip
        """Return ``snap`` as JSON for a client that holds version ``since``, or None when
        that is ``snap``'s version.

        Args:
            snap: the latest snapshot.
            since: the version the client holds (-1 or 0 for none).
            events_since: the last event the client has: only newer ones go in a snapshot of
                changes (a whole snapshot holds every event kept).
            changes: False for the whole snapshot whatever the client holds.
            cells: changes in the compact form (``engine.wire_changes``), not as rows.
        """
        if since == snap.version:
            return None
        with self._lock:
            if snap.version < self._version:
                self.__init__()  # type: ignore[misc]  # another engine: start afresh
            if snap.version != self._version:
                self._take(snap)
            whole = not changes or since < self._keys_since or since > snap.version
            ask = (-1, 0, False) if whole else (since, events_since, cells)
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
        columns, version = self._columns, snap.version
        for key, st in snap.metrics.items():
            held = self._rows.get(key)
            if held is None or held[0] is not st:
                row = wire.metric_row(st)
                if held is not None:
                    for c, (old, new) in enumerate(zip(held[1], row, strict=True)):
                        # 1 == 1.0 == True: a change of type is a change on a screen.
                        if old != new or type(old) is not type(new):
                            columns[c] = version
                self._rows[key] = (st, row)
                self._changed[key] = version
        if self._keys_since == snap.version:
            # Keys gone or moved: the rows are rebuilt in the snapshot's order.
            self._rows = {k: self._rows[k] for k in snap.metrics}
            self._changed = {k: self._changed[k] for k in snap.metrics}
        self._version = snap.version
        self._answers.clear()

    def _answer(self, snap: Snapshot, ask: tuple[int, int, bool]) -> bytes:
        since, events_since, cells = ask
        if since < 0:
            rows = [held[1] for held in self._rows.values()]
            return json.dumps(wire.snapshot_json(snap, rows, snap.events)).encode()
        events = [e for e in snap.events if e.seq > events_since]
        if not cells:
            rows = [held[1] for k, held in self._rows.items() if self._changed[k] > since]
            return json.dumps(wire.snapshot_json(snap, rows, events, since=since)).encode()
        changed = self._changed
        positions = [i for i, k in enumerate(self._rows) if changed[k] > since]
        held = list(self._rows.values())
        rows = [held[i][1] for i in positions]
        columns = [c for c, v in enumerate(self._columns) if v > since]
        data = wire_changes.changes_json(snap, positions, rows, columns, events, since)
        return json.dumps(data).encode()
