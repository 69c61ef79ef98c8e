"""Provides ``gongwatch detect``: run a detector over a ``timestamp,value`` CSV, NAB's way."""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np

import detectors
from collectors.base import printable
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
    backsteps: tuple[tuple[int, float], ...] = ()
    """(line, seconds) of every row whose time is before the row above it."""


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
    """Turn a flag's text into the option's type and check it against the option's range
    (NaN, infinities and absurd sizes are refused here), or raise DetectError."""
    value: Any
    try:
        if opt.type is bool:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            value = text.lower() in ("true", "1", "yes")
        elif opt.type is tuple:
            value = tuple(float(v) for v in text.split(",") if v.strip())
        else:
            value = opt.type(text)
    except ValueError:
        raise DetectError(f"{flag(opt.name)}: expected {opt.type.__name__}, got {text!r}") from None
    if (problem := opt.check(value)) is not None:
        raise DetectError(f"{flag(opt.name)}: {problem}")
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
    """Epoch seconds from an ISO date-time (naive means UTC) or from a number.

    Raises:
        ValueError: not a time, or not a finite one.
    """
    try:
        t = float(text)
    except ValueError:
        stamp = datetime.fromisoformat(text.strip())
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        t = stamp.timestamp()
    if not math.isfinite(t):
        raise ValueError(text)
    return t


def read_series(path: Path) -> Series:
    """Read a ``timestamp,value`` CSV; whatever is wrong with it is one DetectError naming the
    line (a row that is not a time and a number, bytes that are not UTF-8, a huge field).

    Rows are kept in file order. Where time steps back (local times repeat an hour when the
    clocks go back) the steps are listed in ``Series.backsteps`` for the caller to report.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DetectError(f"{path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DetectError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = _Rows(path)
    try:
        for row in reader:
            rows.add(reader.line_num, row)
    except csv.Error as exc:  # a NUL, a field over csv's limit: where it is, and what
        raise DetectError(f"{path}:{reader.line_num}: {exc}") from None
    if not rows.t:
        raise DetectError(f"{path}: no rows")
    return Series(
        rows.stamps, rows.values, np.array(rows.t), np.array(rows.x), tuple(rows.backsteps)
    )


class _Rows:
    """The rows read so far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stamps: list[str] = []
        self.values: list[str] = []
        self.t: list[float] = []
        self.x: list[float] = []
        self.backsteps: list[tuple[int, float]] = []
        self.header_seen = False

    def add(self, number: int, row: list[str]) -> None:
        if not row:
            return
        try:
            t, x = parse_time(row[0]), float(row[1]) if row[1].strip() else math.nan
        except (ValueError, IndexError, OverflowError):
            if not self.t and not self.header_seen:
                self.header_seen = True  # the header, whatever its column names
                return
            raise DetectError(f"{self.path}:{number}: not a timestamp,value row: {row!r}") from None
        if self.t and t < self.t[-1]:
            self.backsteps.append((number, self.t[-1] - t))
        self.stamps.append(row[0])
        self.values.append(row[1])
        self.t.append(t)
        self.x.append(x)


def backsteps_note(series: Series) -> str | None:
    """One line on where time stepped back in the file, or None when it never did."""
    steps = series.backsteps
    if not steps:
        return None
    largest = _span(max(d for _, d in steps))
    if len(steps) == 1:
        said = f"once, by {largest}, at line {steps[0][0]:,}"
    else:
        said = f"{len(steps):,} times, by up to {largest}, first at line {steps[0][0]:,}"
    return f"timestamps step back {said}; rows kept in file order"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def write_scores(out: TextIO, series: Series, scores: np.ndarray) -> None:
    """Write NAB's result format: ``timestamp,value,anomaly_score``, the timestamps and values
    as they were read (a control character that the parsers forgave is shown, never sent)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp", "value", "anomaly_score"])
    for stamp, x, s in zip(series.stamps, series.values, scores.tolist(), strict=True):
        writer.writerow([printable(stamp), printable(x), f"{s:.6f}"])


class ProgressLine:
    """Says on stderr how far a long run is, so minutes of work never look like a hang.

    Nothing is said during the first ``after`` seconds (most runs end before), then at most
    one line every ``every`` seconds: rewritten in place on a terminal, else one line each.
    """

    def __init__(
        self,
        what: str,
        rows: int,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        after: float = 2.0,
        every: float = 1.0,
    ) -> None:
        self.what, self.rows, self.stream, self.clock = what, rows, stream, clock
        self.after, self.every = after, every
        self.start = clock()
        self.last: float | None = None
        self.tty = stream.isatty()

    def __call__(self, share: float) -> None:
        """Tell the share of the work done, in [0, 1]."""
        now = self.clock()
        if now - self.start < self.after or (
            self.last is not None and now - self.last < self.every
        ):
            return
        self.last = now
        line = (
            f"gongwatch detect: {self.what}{share:.0%} of {self.rows:,} rows"
            f" ({now - self.start:.0f} s)"
        )
        self.stream.write(f"\r{line}\x1b[K" if self.tty else line + "\n")
        self.stream.flush()

    def done(self) -> None:
        """End the line rewritten in place, if one was written."""
        if self.tty and self.last is not None:
            self.stream.write("\n")
            self.stream.flush()


def cmd_detect(args: argparse.Namespace) -> int:
    """Run the command; return the exit status (2 on a user error, said in one line)."""
    try:
        options = chosen_options(args)
        series = read_series(Path(args.file))
        progress = ProgressLine(f"{args.detector}: ", len(series.t), sys.stderr)
        try:
            scores = score_series(args.detector, series.t, series.x, progress, **options)
        except (ValueError, TypeError) as exc:
            raise DetectError(f"detector {args.detector}: {exc}") from None
        finally:
            progress.done()
        if (note := backsteps_note(series)) is not None:  # said once the run can go through
            print(f"gongwatch detect: note: {note}", file=sys.stderr)
        if args.out:
            try:
                with open(args.out, "w", encoding="utf-8") as out:
                    write_scores(out, series, scores)
            except OSError as exc:
                raise DetectError(f"{args.out}: {exc.strerror or exc}") from None
        else:
            write_scores(sys.stdout, series, scores)
    except DetectError as exc:
        print(printable(f"gongwatch detect: {exc}"), file=sys.stderr)
        return 2
    return 0
