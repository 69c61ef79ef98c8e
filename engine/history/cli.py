"""Provides ``gongwatch history``: the stored points of one metric, as a table or JSON lines."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from engine.durations import parse_duration
from engine.history.config import HistoryConfig
from engine.history.query import Point, Tier
from engine.history.reader import HistoryReader
from engine.history.schema import SchemaError

DEFAULT_SINCE = "1h"
TIMEOUT = 30.0
"""Seconds to wait for a daemon's answer (a month of 1-minute rollups takes a moment)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``history`` subcommand's arguments to its parser."""
    parser.add_argument("metric", metavar="METRIC", help="metric key, e.g. system/cpu/total")
    parser.add_argument(
        "--since",
        metavar="DURATION",
        default=DEFAULT_SINCE,
        help=f"how far back: 90s, 10m, 2h, 7d, 2y (default {DEFAULT_SINCE})",
    )
    parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    parser.add_argument(
        "--file", metavar="PATH", default=None, help="history file (default: the configured one)"
    )


def cmd_history(
    store_path: str | Path,
    key: str,
    since: str | float = DEFAULT_SINCE,
    json_lines: bool = False,
    *,
    config: HistoryConfig | None = None,
    now: float | None = None,
    out: TextIO | None = None,
    socket: Path | None = None,
) -> int:
    """Print the points of ``key`` stored in the last ``since``; return the exit status.

    Raw points print ``time`` and ``value``; rollups (chosen for long spans) also ``min``,
    ``max`` and ``count``. Errors a user can make (no file, no such metric, a bad duration)
    print one line on stderr and return 1.

    Args:
        store_path: the history file, read when no daemon answers on ``socket``.
        key: the metric key.
        since: a duration such as ``2h``, or seconds.
        json_lines: JSON lines instead of a table.
        config: the history settings (retention decides which tier answers).
        now: the end of the span, seconds since the epoch; None means now.
        out: where to print; None means stdout.
        socket: a daemon's socket to ask first: a running daemon answers from the file it
            writes (points it has not saved yet included); None reads the file alone.
    """
    out = out or sys.stdout
    try:
        span = parse_duration(since)
    except ValueError as error:
        print(f"gongwatch: {error}", file=sys.stderr)
        return 1
    until = time.time() if now is None else now
    answer = ask_daemon(socket, key, until - span, until) if socket is not None else None
    if answer is None:
        answer = read_file(store_path, key, until - span, until, config)
    if isinstance(answer, str):
        print(f"gongwatch: {answer}", file=sys.stderr)
        return 1
    tier = Tier[answer["tier"].upper()]
    points = [Point(*row) for row in answer["points"]]
    if json_lines:
        for point in points:
            print(json.dumps(point_json(point, tier)), file=out)
    else:
        print_table(points, tier, answer["unit"], out)
    return 0


def stored(reader: HistoryReader, key: str, since: float, until: float) -> dict[str, Any] | str:
    """What ``gongwatch history`` prints, as JSON: the tier chosen for the span, the unit and
    the points (each a list of ``Point``'s fields); or the line saying there is no such metric.

    Raises:
        sqlite3.Error: the file could not be read.
    """
    if key not in reader:
        return f"no metric {key!r} in {reader.path}"
    tier = reader.choose_tier(since, until)
    points = reader.points(key, since, until, tier)
    rows = [list(p) for p in points]
    return {"tier": tier.name.lower(), "unit": reader.unit(key), "points": rows}


def read_file(
    path: str | Path, key: str, since: float, until: float, config: HistoryConfig | None
) -> dict[str, Any] | str:
    """``stored`` from the history file itself, or the line saying why it cannot be read."""
    try:
        reader = HistoryReader(path, config)
    except (FileNotFoundError, SchemaError, sqlite3.Error) as error:
        return str(error)
    try:
        return stored(reader, key, since, until)
    except sqlite3.Error as error:
        return f"cannot read {path}: {error}"
    finally:
        reader.close()


def ask_daemon(socket: Path, key: str, since: float, until: float) -> dict[str, Any] | str | None:
    """``stored`` as the daemon on ``socket`` answers it; None when no daemon answers there,
    or when it keeps no history file or is too old to be asked (the file is read instead)."""
    import httpx  # here, not at the top: the daemon shares ``stored`` and needs no client

    transport = httpx.HTTPTransport(uds=str(socket))
    params = {"key": key, "since": repr(since), "until": repr(until)}
    try:
        with httpx.Client(transport=transport, base_url="http://gongwatch", timeout=TIMEOUT) as c:
            got = c.get("/v1/history/stored", params=params)
            data = got.json()
    except (httpx.HTTPError, ValueError):
        return None
    if got.status_code == 200 and isinstance(data, dict) and "points" in data:
        return data
    if isinstance(data, dict) and data.get("kind") in ("NoMetric", "HistoryError"):
        return str(data["error"])
    return None


def point_json(point: Point, tier: Tier) -> dict[str, float | int | bool]:
    """One point as the JSON object ``gongwatch history --json`` prints."""
    if tier is Tier.RAW:
        return {"time": point.time, "value": point.value, "anomalous": point.anomalous}
    return {
        "time": point.time,
        "value": point.value,
        "min": point.min,
        "max": point.max,
        "count": point.count,
        "anomalies": point.anomalies,
    }


def print_table(points: list[Point], tier: Tier, unit: str, out: TextIO) -> None:
    """Points as aligned columns, times in the local zone."""
    value = f"value ({unit})" if unit else "value"
    if tier is Tier.RAW:
        print(f"{'time':<23}  {value:>14}", file=out)
    else:
        mean = f"mean ({unit})" if unit else "mean"
        print(f"{'time':<23}  {mean:>14}  {'min':>12}  {'max':>12}  {'count':>6}  !", file=out)
    for point in points:
        stamp = (
            datetime.fromtimestamp(point.time, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S.%f")
        )
        row = f"{stamp[:23]:<23}  {point.value:>14.6g}"
        if tier is Tier.RAW:
            print(row + ("  !" if point.anomalous else ""), file=out)
        else:
            print(
                f"{row}  {point.min:>12.6g}  {point.max:>12.6g}  {point.count:>6}  "
                f"{point.anomalies or ''}",
                file=out,
            )
    if not points:
        print("(no points in that span)", file=out)
