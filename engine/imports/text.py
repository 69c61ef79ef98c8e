"""Provides the readers of text exports: StatsD-style CSV and Graphite's render JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from engine.detect_cli import parse_time
from engine.imports.series import ImportFileError, Points, metric_key

MAX_BYTES = 512 * 1024 * 1024
"""A text export larger than this is refused rather than read into memory."""


def read_text(path: Path) -> str:
    """The file as text (UTF-8, a BOM allowed).

    Raises:
        ImportFileError: unreadable, too large, or not UTF-8.
    """
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ImportFileError(f"{path}: larger than {MAX_BYTES // 2**20} MiB")
        data = path.read_bytes()
    except OSError as error:
        raise ImportFileError(f"{path}: {error.strerror or error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportFileError(f"{path}:{line}: not UTF-8 text") from None


def read_csv(path: Path, prefix: str) -> dict[str, Points]:
    """The series of a CSV export, by key.

    Rows are ``timestamp,value`` (the key is the prefix and the file's name) or
    ``timestamp,metric,value`` (the prefix and the metric, its dots made slashes). A first
    row that is not data is a header and skipped; an empty value is a missing point.
    Timestamps are epoch seconds or ISO date-times (naive ones are UTC).

    Raises:
        ImportFileError: a row that is neither form, naming its line.
    """
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    out: dict[str, Points] = {}
    first = True
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            try:
                key, t, x = _csv_row(row, path, prefix)
            except (ValueError, IndexError, OverflowError):
                if first:
                    first = False  # the header, whatever its column names
                    continue
                raise ImportFileError(
                    f"{path}:{reader.line_num}: not a timestamp,value or timestamp,metric,value row"
                ) from None
            first = False
            if math.isfinite(x):
                out.setdefault(key, []).append((t, x))
    except csv.Error as error:
        raise ImportFileError(f"{path}:{reader.line_num}: {error}") from None
    if not out:
        raise ImportFileError(f"{path}: no data rows")
    return out


def _csv_row(row: list[str], path: Path, prefix: str) -> tuple[str, float, float]:
    if len(row) == 2:
        key = metric_key(prefix, path.stem)
        value = row[1]
    elif len(row) == 3:
        key = metric_key(prefix, row[1], dotted=True)
        if key == metric_key(prefix):
            raise ValueError("no metric name")
        value = row[2]
    else:
        raise ValueError(f"{len(row)} columns")
    x = float(value) if value.strip() else math.nan
    return key, parse_time(row[0]), x


def read_graphite(path: Path, prefix: str) -> dict[str, Points]:
    """The series of a Graphite render API answer (``format=json``), by key.

    ``[{"target": "web1.load", "datapoints": [[value, ts], ...]}, ...]``: the key is the
    prefix and the target with its dots made slashes; null values are skipped.

    Raises:
        ImportFileError: not JSON, or not shaped like a render answer.
    """
    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise ImportFileError(f"{path}: bad JSON: {error}") from None
    if not isinstance(document, list):
        raise ImportFileError(f"{path}: not a Graphite render answer (expected a JSON list)")
    out: dict[str, Points] = {}
    for i, entry in enumerate(document):
        target, points = _graphite_entry(entry, path, i)
        key = metric_key(prefix, target, dotted=True)
        out.setdefault(key, []).extend(points)
    if not out:
        raise ImportFileError(f"{path}: no series")
    return out


def _graphite_entry(entry: Any, path: Path, i: int) -> tuple[str, Points]:
    if not isinstance(entry, dict) or not isinstance(entry.get("target"), str):
        raise ImportFileError(f'{path}: series {i + 1} has no "target" name')
    datapoints = entry.get("datapoints")
    if not isinstance(datapoints, list):
        raise ImportFileError(f'{path}: series {entry["target"]!r} has no "datapoints" list')
    points: Points = []
    shape = f"{path}: series {entry['target']!r}: {{}} is not [value, ts]"
    for pair in datapoints:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ImportFileError(shape.format(repr(pair)))
        value, t = pair
        if value is None:
            continue
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair):
            raise ImportFileError(shape.format(repr(pair)))
        if math.isfinite(value) and math.isfinite(t):
            points.append((float(t), float(value)))
    return entry["target"], points
