"""Provides the history file's schema, its versions and the migrations between them.

The version lives in ``PRAGMA user_version``. ``MIGRATIONS[n]`` brings a file from version
``n`` to ``n + 1``; a new file runs them all from 0. A file newer than this code is refused
rather than guessed at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

Migration = Callable[[sqlite3.Connection], None]


class SchemaError(Exception):
    """The history file cannot be used by this version of gongwatch."""


def _create_v1(conn: sqlite3.Connection) -> None:
    # Times are integers: chunk bounds in milliseconds, rollup buckets in seconds.
    # Statement by statement: executescript would commit the migration's transaction.
    for statement in _V1_TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)


_V1_TABLES = """
        CREATE TABLE series (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY, series INTEGER NOT NULL, start INTEGER NOT NULL,
            end INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL,
            flags BLOB NOT NULL);
        CREATE INDEX chunks_by_series ON chunks (series, end);
        CREATE TABLE open_chunks (
            id INTEGER PRIMARY KEY, series INTEGER NOT NULL, start INTEGER NOT NULL,
            end INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL,
            flags BLOB NOT NULL);
        CREATE INDEX open_chunks_by_series ON open_chunks (series, start);
        CREATE TABLE minute (
            series INTEGER NOT NULL, t INTEGER NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
            sum REAL NOT NULL, count INTEGER NOT NULL, anomalies INTEGER NOT NULL,
            PRIMARY KEY (series, t)) WITHOUT ROWID;
        CREATE TABLE minute_blocks (
            id INTEGER PRIMARY KEY, series INTEGER NOT NULL, start INTEGER NOT NULL,
            end INTEGER NOT NULL, data BLOB NOT NULL);
        CREATE INDEX minute_blocks_by_series ON minute_blocks (series, end);
        CREATE TABLE quarter_blocks (
            id INTEGER PRIMARY KEY, series INTEGER NOT NULL, start INTEGER NOT NULL,
            end INTEGER NOT NULL, data BLOB NOT NULL);
        CREATE INDEX quarter_blocks_by_series ON quarter_blocks (series, end);
        CREATE TABLE quarter (
            series INTEGER NOT NULL, t INTEGER NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
            sum REAL NOT NULL, count INTEGER NOT NULL, anomalies INTEGER NOT NULL,
            PRIMARY KEY (series, t)) WITHOUT ROWID;
        """


def _add_units_v2(conn: sqlite3.Connection) -> None:
    # A series may carry its unit, so a reader of the file alone can print it.
    conn.execute("ALTER TABLE series ADD COLUMN unit TEXT NOT NULL DEFAULT ''")


MIGRATIONS: Sequence[Migration] = (_create_v1, _add_units_v2)
"""``MIGRATIONS[n]`` upgrades a file of version ``n`` to ``n + 1``."""

VERSION = len(MIGRATIONS)
"""The schema version this code writes."""


def connect(path: str | Path, timeout: float = 10.0) -> sqlite3.Connection:
    """Open a history file in WAL mode, in autocommit mode (transactions are explicit)."""
    conn = sqlite3.connect(
        str(path), timeout=timeout, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL loses nothing when the process dies, only on a power cut.
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def version(conn: sqlite3.Connection) -> int:
    """The schema version of an open file (0 for an empty one)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    conn: sqlite3.Connection,
    migrations: Sequence[Migration] = MIGRATIONS,
    upto: int | None = None,
) -> int:
    """Bring a file to the newest version (or ``upto``), each step in its own transaction.

    Returns:
        The version the file has afterwards.

    Raises:
        SchemaError: the file is newer than the migrations know.
    """
    target = len(migrations) if upto is None else upto
    current = version(conn)
    if current > len(migrations):
        raise SchemaError(
            f"history file has schema version {current}; this gongwatch reads up to "
            f"{len(migrations)} (upgrade gongwatch or use another file)"
        )
    while current < target:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while this one waited for the lock.
            current = version(conn)
            if current < target:
                migrations[current](conn)
                current += 1
                conn.execute(f"PRAGMA user_version = {current}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return current
