"""Provides ``gongwatch detect``: run a detector over a ``timestamp,value`` CSV, NAB's way."""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np

import detectors
from detectors.run import OPTIONS, Option, score_series


class DetectError(Exception):
    """A problem with the input or the options, said in one line."""


@dataclass(frozen=True, slots=True)
class Series:
    """A CSV series: the timestamps as written, and the parsed times and values."""

    stamps: list[str]
    values: list[str]
    """The values as written."""
    t: np.ndarray
    x: np.ndarray


def flag(name: str) -> str:
    """Return the command-line flag of an option name (``max_anoms`` → ``--max-anoms``)."""
    return "--" + name.replace("_", "-")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``detect`` arguments, with one flag per option any detector takes."""
    parser.add_argument(
        "file", metavar="FILE.csv", help="a timestamp,value CSV (a header line is skipped)"
    )
    parser.add_argument(
        "--detector", default="auto", help=f"one of: {', '.join(detectors.names())}"
    )
    parser.add_argument("--out", metavar="FILE", help="where to write (default: standard output)")
    seen: dict[str, Option] = {}
    for opts in OPTIONS.values():
        for opt in opts:
            if opt.name in seen:
                continue
            seen[opt.name] = opt
            users = [d for d, os_ in OPTIONS.items() if any(o.name == opt.name for o in os_)]
            parser.add_argument(
                flag(opt.name),
                dest=f"opt_{opt.name}",
                default=None,
                metavar=opt.type.__name__.upper() if opt.type is not bool else "BOOL",
                help=f"{opt.help} ({', '.join(users)})",
            )


def convert(opt: Option, text: str) -> Any:
    """Turn a flag's text into the option's type, or raise DetectError."""
    try:
        if opt.type is bool:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if opt.type is tuple:
            return tuple(float(v) for v in text.split(",") if v.strip())
        value = opt.type(text)
    except ValueError:
        raise DetectError(f"{flag(opt.name)}: expected {opt.type.__name__}, got {text!r}") from None
    if opt.choices and value not in opt.choices:
        raise DetectError(f"{flag(opt.name)}: choose from {', '.join(opt.choices)}")
    return value


def chosen_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options the user gave, checked against what the chosen detector takes."""
    name = args.detector
    try:
        detectors.info(name)
    except KeyError as exc:
        raise DetectError(str(exc.args[0])) from None
    takes = {o.name: o for o in OPTIONS.get(name, ())}
    out = {}
    for key, text in vars(args).items():
        if not key.startswith("opt_") or text is None:
            continue
        opt_name = key[4:]
        if opt_name not in takes:
            raise DetectError(f"detector {name} has no option {flag(opt_name)}")
        out[opt_name] = convert(takes[opt_name], text)
    return out


def parse_time(text: str) -> float:
    """Epoch seconds from an ISO date-time (naive means UTC) or from a number."""
    try:
        return float(text)
    except ValueError:
        pass
    stamp = datetime.fromisoformat(text.strip())
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def read_series(path: Path) -> Series:
    """Read a ``timestamp,value`` CSV; a bad row is an error naming its line."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise DetectError(f"{path}: {exc.strerror or exc}") from None
    stamps: list[str] = []
    values: list[str] = []
    ts: list[float] = []
    xs: list[float] = []
    with handle:
        for number, row in enumerate(csv.reader(handle), 1):
            if not row:
                continue
            try:
                t, x = parse_time(row[0]), float(row[1]) if row[1].strip() else math.nan
            except (ValueError, IndexError):
                if number == 1:
                    continue  # the header, whatever its column names
                raise DetectError(f"{path}:{number}: not a timestamp,value row: {row!r}") from None
            if ts and t < ts[-1]:
                raise DetectError(f"{path}:{number}: timestamps go backwards")
            stamps.append(row[0])
            values.append(row[1])
            ts.append(t)
            xs.append(x)
    if not ts:
        raise DetectError(f"{path}: no rows")
    return Series(stamps, values, np.array(ts), np.array(xs))


def write_scores(out: TextIO, series: Series, scores: np.ndarray) -> None:
    """Write NAB's result format: ``timestamp,value,anomaly_score``."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp", "value", "anomaly_score"])
    for stamp, x, s in zip(series.stamps, series.values, scores.tolist(), strict=True):
        writer.writerow([stamp, x, f"{s:.6f}"])


def cmd_detect(args: argparse.Namespace) -> int:
    """Run the command; return the exit status (2 on a user error, said in one line)."""
    try:
        options = chosen_options(args)
        series = read_series(Path(args.file))
        try:
            scores = score_series(args.detector, series.t, series.x, **options)
        except (ValueError, TypeError) as exc:
            raise DetectError(f"detector {args.detector}: {exc}") from None
        if args.out:
            try:
                with open(args.out, "w", encoding="utf-8") as out:
                    write_scores(out, series, scores)
            except OSError as exc:
                raise DetectError(f"{args.out}: {exc.strerror or exc}") from None
        else:
            write_scores(sys.stdout, series, scores)
    except DetectError as exc:
        print(f"gongwatch detect: {exc}", file=sys.stderr)
        return 2
    return 0
