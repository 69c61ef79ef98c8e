"""Provides the reading of RRD files (collectd's, Munin's, any rrdtool's) through ``rrdtool dump``.

The binary format depends on the architecture and version that wrote it, so the file is never
parsed here: Debian's ``rrdtool`` runs as a child (``collectors.process.run``: a process group
of its own, a deadline, only the locale, PATH and HOME of the environment), and its XML dump
is read. Every data source becomes one series; for each
period the finest AVERAGE archive that covers it gives the points, so the last hours come at
the update step and older days at the coarser steps of the consolidated archives.
"""

from __future__ import annotations

import math
import os
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from collectors.process import ChildTimeout, child_environment, run
from engine.imports.series import ImportFileError

RRDTOOL_TIMEOUT = 60.0
"""Seconds ``rrdtool dump`` may take on one file before it is stopped."""


@dataclass(slots=True)
class _Archive:
    width: int
    """Seconds one row covers: the step times the primary points per row."""
    first: int
    """End time of the oldest row."""
    rows: list[list[float]] = field(default_factory=list)


def dump(path: Path, timeout: float = RRDTOOL_TIMEOUT) -> bytes:
    """The XML ``rrdtool dump`` writes for ``path``.

    Raises:
        ImportFileError: rrdtool is missing, failed on the file, or took too long.
    """
    exe = shutil.which("rrdtool")
    if exe is None:
        raise ImportFileError(f"{path}: cannot read RRD files: rrdtool is not installed")
    # An absolute path, so a file named like an option is never taken for one.
    argv = [exe, "dump", os.path.abspath(path)]
    try:
        # LC_ALL=C: the dump's numbers are written with a decimal point whatever the locale.
        done = run(argv, timeout, child_environment({"LC_ALL": "C"}))
    except ChildTimeout:
        raise ImportFileError(f"{path}: rrdtool dump gave no answer within {timeout:g} s") from None
    except OSError as error:
        raise ImportFileError(f"{path}: cannot run rrdtool: {error.strerror or error}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = said[-1] if said else f"rrdtool exited with status {done.returncode}"
        raise ImportFileError(f"{path}: not a readable RRD file ({why.removeprefix('ERROR: ')})")
    return done.stdout


def read_rrd(path: Path, timeout: float = RRDTOOL_TIMEOUT) -> dict[str, list[tuple[float, float]]]:
    """The points of every data source of an RRD file, by data source name, oldest first.

    Raises:
        ImportFileError: the file is not an RRD file rrdtool can read.
    """
    return parse_dump(dump(path, timeout), str(path))


def parse_dump(xml: bytes, source: str) -> dict[str, list[tuple[float, float]]]:
    """The points of every data source in an ``rrdtool dump``, finest archive first per period.

    Unknown values (``NaN``) are left out. A row of a coarser archive is used only when the
    period it consolidates ends before the oldest row of every finer archive begins.

    Raises:
        ImportFileError: the XML is not a dump, or has no AVERAGE archive.
    """
    try:
        root = ET.fromstring(xml)
        step = int(_text(root, "step"))
        last = int(_text(root, "lastupdate"))
        names = [_text(ds, "name") for ds in root.findall("ds")]
        archives = [_archive(rra, step, last) for rra in root.findall("rra")]
    except (ET.ParseError, ValueError) as error:
        raise ImportFileError(f"{source}: rrdtool dump could not be read: {error}") from None
    averages = sorted((a for a in archives if a is not None), key=lambda a: a.width)
    if not averages or not names:
        raise ImportFileError(f"{source}: the RRD file has no AVERAGE archive to import")
    pieces: list[list[tuple[int, list[float]]]] = []
    covered = math.inf  # the finer archives hold every period from here on
    for archive in averages:
        rows = [
            (archive.first + i * archive.width, row)
            for i, row in enumerate(archive.rows)
            if archive.first + i * archive.width <= covered
        ]
        pieces.append(rows)
        covered = min(covered, archive.first - archive.width)
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for rows in reversed(pieces):  # the coarsest holds the oldest periods
        for t, row in rows:
            for name, value in zip(names, row, strict=False):
                if math.isfinite(value):
                    out[name].append((float(t), value))
    return out


def _archive(rra: ET.Element, step: int, last: int) -> _Archive | None:
    if _text(rra, "cf") != "AVERAGE":
        return None
    width = step * int(_text(rra, "pdp_per_row"))
    if width <= 0:
        raise ValueError(f"archive of {width} s rows")
    database = rra.find("database")
    rows = [] if database is None else database.findall("row")
    end = last - last % width  # the newest row ends on a multiple of its width
    archive = _Archive(width, end - (len(rows) - 1) * width)
    archive.rows = [[float((v.text or "nan").strip()) for v in row.findall("v")] for row in rows]
    return archive


def _text(element: ET.Element, tag: str) -> str:
    found = element.findtext(tag)
    if found is None:
        raise ValueError(f"no <{tag}>")
    return found.strip()
