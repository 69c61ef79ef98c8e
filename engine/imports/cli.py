"""Provides ``gongwatch import``: RRD files, CSV exports and Graphite JSON into the history file."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from collectors.base import printable
from engine.history.config import HistoryConfig
from engine.history.schema import SchemaError
from engine.history.store import HistoryStore
from engine.imports import DEFAULT_PREFIX, ImportFileError, read_series, store_points


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``import`` subcommand's arguments to its parser."""
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="collectd/rrdtool .rrd files, timestamp,value CSV, Graphite render JSON",
    )
    parser.add_argument(
        "--prefix",
        default=DEFAULT_PREFIX,
        help=f"first part of every imported metric key (default {DEFAULT_PREFIX})",
    )
    parser.add_argument(
        "--file", metavar="PATH", default=None, help="history file (default: the configured one)"
    )


def cmd_import(
    store_path: str | Path,
    files: Sequence[str | Path],
    prefix: str = DEFAULT_PREFIX,
    *,
    config: HistoryConfig | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Import every file into the history file; return the exit status.

    Each file prints one line: how many series and points it added, or, on stderr, why it
    could not be imported (the others are imported all the same).

    Returns:
        0 when at least one file was read (even if all its points were stored already),
        2 when none could be, or the history file could not be opened.
    """
    out, err = out or sys.stdout, err or sys.stderr
    try:
        store = HistoryStore(config, path=store_path)
    except (OSError, SchemaError, sqlite3.Error) as error:
        print(printable(f"gongwatch: cannot open {store_path}: {error}"), file=err)
        return 2
    read = 0
    try:
        for name in files:
            path = Path(name)
            try:
                found = read_series(path, prefix)
            except ImportFileError as error:
                print(printable(f"gongwatch: {error}"), file=err)
                continue
            read += 1
            added = skipped = 0
            for key, points in found.items():
                new, old = store_points(store, key, points)
                added, skipped = added + new, skipped + old
            line = f"{path}: {len(found)} series, {added} points added"
            print(printable(line + (f", {skipped} already stored" if skipped else "")), file=out)
    finally:
        store.close()
    return 0 if read else 2
