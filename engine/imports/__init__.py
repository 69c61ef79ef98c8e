"""Provides the importers of other tools' data into the history: RRD, CSV and Graphite JSON."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from pathlib import Path

from engine.history.store import HistoryStore
from engine.imports.rrd import read_rrd
from engine.imports.series import DEFAULT_PREFIX, ImportFileError, Points, rrd_key
from engine.imports.text import read_csv, read_graphite

__all__ = ["DEFAULT_PREFIX", "ImportFileError", "read_series", "store_points"]

_RRD_MAGIC = b"RRD\0"
_FUTURE = 86_400.0
"""Seconds past now a point may lie (clocks disagree); later ones make the file refused."""
_FLUSH_EVERY = 50_000
"""Points appended between saves, so an import never fills the store's queue."""


def file_kind(path: Path) -> str:
    """``rrd``, ``json`` or ``csv``: by the file's first bytes, else by its name."""
    try:
        with path.open("rb") as f:
            head = f.read(64)
    except OSError as error:
        raise ImportFileError(f"{path}: {error.strerror or error}") from None
    if head.startswith(_RRD_MAGIC) or path.suffix.lower() == ".rrd":
        return "rrd"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"[", b"{")) or path.suffix == ".json":
        return "json"
    return "csv"


def read_series(path: Path, prefix: str = DEFAULT_PREFIX) -> dict[str, Points]:
    """Every series of one file, by history key, each in time order.

    Raises:
        ImportFileError: the file cannot be imported; the message is one line naming it.
    """
    kind = file_kind(path)
    if kind == "rrd":
        found = {rrd_key(prefix, path, ds): pts for ds, pts in read_rrd(path).items()}
    elif kind == "json":
        found = read_graphite(path, prefix)
    else:
        found = read_csv(path, prefix)
    series = {key: sorted(points) for key, points in found.items() if points}
    _check_times(path, series)
    return series


def _check_times(path: Path, series: dict[str, Points]) -> None:
    """Refuse a file with a time before 1970 or after tomorrow.

    The store's tiers keep points counting back from the newest one, so a single point in the
    year 5000 (milliseconds taken for seconds, a garbled row) would expire everything else.
    """
    latest = time.time() + _FUTURE
    for key, points in series.items():
        for t in (points[0][0], points[-1][0]):
            if not 0 <= t <= latest:
                raise ImportFileError(
                    f"{path}: {key} has a point at {t:.15g}, not a time between 1970 and "
                    f"{datetime.fromtimestamp(latest, UTC):%Y-%m-%d}; nothing imported from it"
                )


def store_points(store: HistoryStore, key: str, points: Points) -> tuple[int, int]:
    """Append the points of one key that are newer than what the store has of it.

    This is what makes an import idempotent: the store is append-only, so a point at or
    before the newest stored one of its key is taken to be there already and is skipped.
    Importing a file again adds nothing; importing a later export adds only what is new.

    Returns:
        (points added, points skipped as already stored).
    """
    newest = store.recent(key, 1)
    # The store keeps milliseconds; compare there so a re-read value equals its stored self.
    cutoff = round(newest[0].time * 1000) if newest else -math.inf
    added = skipped = 0
    last_ms = cutoff
    for t, value in points:
        t_ms = round(t * 1000)
        if t_ms <= last_ms:
            skipped += 1  # stored already, or a repeated timestamp in the file
            continue
        while not store.append(key, t, value):
            store.flush()  # the queue is full: let the writer take it, then try again
        last_ms = t_ms
        added += 1
        if added % _FLUSH_EVERY == 0:
            store.flush()
    return added, skipped
