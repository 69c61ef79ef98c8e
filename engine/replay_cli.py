"""Provides ``gongwatch replay``: a detector over the stored history, printing what it flags."""

from __future__ import annotations

import argparse
import fnmatch
import json
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import numpy as np

import detectors
from collectors.base import printable
from detectors.base import FloatArray
from engine.durations import parse_duration
from engine.history.config import HistoryConfig
from engine.history.query import Tier
from engine.history.reader import HistoryReader
from engine.history.schema import SchemaError
from engine.replay import MACHINE_DETECTOR, Run, machines, replay_machine, replay_series

DEFAULT_DETECTOR = "gaussian"

Series = tuple[FloatArray, FloatArray]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``replay`` subcommand's arguments to its parser."""
    parser.add_argument(
        "glob", nargs="?", default="*", metavar="METRIC-GLOB",
        help="which metrics, e.g. 'import/web1/*' (default: every one)",
    )  # fmt: skip
    parser.add_argument(
        "--since", metavar="DURATION", default=None,
        help="only the last 90s, 10m, 2h, 7d, 2y before now (default: all that is stored)",
    )  # fmt: skip
    choices = ", ".join([*detectors.names(), MACHINE_DETECTOR])
    parser.add_argument(
        "--detector", default=DEFAULT_DETECTOR,
        help=f"one of: {choices} (default {DEFAULT_DETECTOR})",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    parser.add_argument(
        "--file", metavar="PATH", default=None, help="history file (default: the configured one)"
    )


def cmd_replay(
    store_path: str | Path,
    glob: str = "*",
    since: str | None = None,
    detector: str = DEFAULT_DETECTOR,
    json_lines: bool = False,
    *,
    config: HistoryConfig | None = None,
    now: float | None = None,
    out: TextIO | None = None,
) -> int:
    """Run a detector over the stored series matching ``glob``; print one line per run.

    Returns:
        0 when the replay ran (whether or not it found anything); 1 with one line on stderr
        for what a user can get wrong (no file, no metric matching, unknown detector).
    """
    out = out or sys.stdout
    until = time.time() if now is None else now
    try:
        start = 0.0 if since is None else until - parse_duration(since)
        if detector != MACHINE_DETECTOR:
            detectors.info(detector)
        reader = HistoryReader(store_path, config)
    except KeyError:
        choices = ", ".join([*detectors.names(), MACHINE_DETECTOR])
        return _fail(f"unknown detector {detector!r} (choose from {choices})")
    except (ValueError, FileNotFoundError, SchemaError, sqlite3.Error) as error:
        return _fail(str(error))
    try:
        stored = reader.keys()
        keys = [k for k in stored if fnmatch.fnmatchcase(k, glob)]
        if not keys:
            return _fail(f"no metric matching {glob!r} in {store_path}")
        series = {key: read_series(reader, key, start, until) for key in keys}
    except sqlite3.Error as error:
        return _fail(f"cannot read {store_path}: {error}")
    finally:
        reader.close()
    notes: list[str] = []
    found = _replay(detector, series, notes)
    for note in notes:
        print(printable(f"gongwatch: {note}"), file=sys.stderr)
    if found is None:
        return _fail(f"no machine among {len(keys)} metrics: {MACHINE_DETECTOR} needs two of "
                     "load, memory, processes, zombies")  # fmt: skip
    for run in found:
        print(json.dumps(run.to_json()) if json_lines else run_line(run), file=out)
    if not json_lines:
        judged = len(series) if detector != MACHINE_DETECTOR else len(machines(series))
        print(f"{len(found)} anomalous runs in {judged} series ({detector})", file=out)
    return 0


def _replay(detector: str, series: dict[str, Series], notes: list[str]) -> list[Run] | None:
    if detector != MACHINE_DETECTOR:
        return [
            run
            for key, (t, x) in series.items()
            for run in replay_series(detector, key, t, x, notes)
        ]
    found = machines(series)
    if not found:
        return None
    return [run for m, features in found.items() for run in replay_machine(m, features, series)]


def read_series(reader: HistoryReader, key: str, since: float, until: float) -> Series:
    """The stored points of a key in time order: raw where the raw tier still has them, and
    1-minute means before that (raw points are kept for days, rollups for longer)."""
    raw = reader.points(key, since, until, Tier.RAW)
    first = raw[0].time if raw else until
    rollups = reader.points(key, since, first, Tier.MINUTE)
    older = [p for p in rollups if p.time + Tier.MINUTE.value <= first]
    points = older + raw
    t = np.array([p.time for p in points], dtype=np.float64)
    x = np.array([p.value for p in points], dtype=np.float64)
    return t, x


def run_line(run: Run) -> str:
    """One run as a line of the table: metric, first and last time, points, peak, reason."""
    return printable(
        f"{run.metric}  {_stamp(run.start)} .. {_stamp(run.end)}  {run.points} pts  "
        f"peak {run.peak:.2f}  {run.reason}"
    )


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _fail(line: str) -> int:
    print(printable(f"gongwatch: {line}"), file=sys.stderr)
    return 1
