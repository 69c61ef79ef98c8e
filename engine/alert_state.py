"""Provides the alert state people act on, kept in a small SQLite file next to the alert log:
which alerts fire, which are acknowledged or resolved, what is silenced until when, and which
calendar occurrences have struck. The engine and ``gongwatch alerts`` share the file; SQLite's
own lock keeps their writes apart, and the engine reads it afresh on every evaluation."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.config import glob_match
from engine.private import private_folders

SCHEMA_VERSION = 1
"""Stored in ``PRAGMA user_version``; a newer file is refused rather than misread."""
KEEP_RESOLVED = 500
"""Resolved alerts kept for ``gongwatch alerts list``."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL,
    since REAL NOT NULL, last_sent REAL NOT NULL, acked REAL, resolved REAL,
    summary TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts(rule, key, state);
CREATE TABLE IF NOT EXISTS silences (glob TEXT PRIMARY KEY, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS fired (
    schedule TEXT NOT NULL, uid TEXT NOT NULL, start REAL NOT NULL,
    PRIMARY KEY (schedule, uid, start)
);
"""


class StateError(Exception):
    """The state file cannot be used (unreadable, or written by a newer gongwatch)."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert of one rule on one metric, as ``gongwatch alerts list`` shows it."""

    id: int
    rule: str
    key: str
    state: str
    """``firing``, ``acknowledged``, ``silenced`` or ``resolved``."""
    since: float
    """Wall-clock time it began firing."""
    summary: str


def default_state_path(log_path: Path) -> Path:
    """Return the state file that goes with an alert log: ``alerts.db`` beside it; in the
    user's state directory when the log is no file of its own (``/dev/null``, a pipe)."""
    if log_path.exists() and not log_path.is_file():
        base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
        return Path(base) / "gongwatch" / "alerts.db"
    return log_path.with_name("alerts.db")


class AlertState:
    """The alert state file. Every call is one transaction on a connection of the calling
    thread's own, so any thread may call, and ``gongwatch alerts`` run from a shell sees and
    changes what the monitor does at once."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        """Return this thread's connection, opening it on first use: opening and closing one
        per call would cost a checkpoint and an fsync each time (~25 ms), on the collector
        thread that evaluates the rules."""
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is not None:
            return con
        try:
            private_folders(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # silences name hosts
            os.close(fd)
            con = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            # WAL: readers never wait for the writer, and a commit appends to the log without
            # an fsync; SQLite gives the -wal and -shm files the database's own mode.
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open {self.path}: {exc}") from None
        self._local.con = con
        return con

    @contextmanager
    def _db(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        con = self._connection()
        try:
            # One writer at a time (the monitor or the CLI); reads take no lock until they read.
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StateError(f"{self.path} was written by a newer gongwatch (v{version})")
            if version < SCHEMA_VERSION:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        con.execute(statement)
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            yield con
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            self._local.con = None  # a file replaced or broken: open it afresh next time
            con.close()  # which rolls back what was begun
            raise StateError(f"{self.path}: {exc}") from None
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise

    def open(self, rule: str, key: str, summary: str, now: float) -> tuple[int, bool]:
        """Return the id of the open alert of ``rule`` on ``key``, opening one if there is
        none; and whether it is new."""
        with self._db() as db:
            row = db.execute(
                "SELECT id FROM alerts WHERE rule=? AND key=? AND state!='resolved'", (rule, key)
            ).fetchone()
            if row:
                return int(row[0]), False
            cur = db.execute(
                "INSERT INTO alerts(rule, key, state, since, last_sent, summary)"
                " VALUES (?, ?, 'firing', ?, ?, ?)", (rule, key, now, now, summary),
            )  # fmt: skip
            return int(cur.lastrowid or 0), True

    def resolve(self, rule: str, key: str, now: float) -> int | None:
        """Mark the open alert of ``rule`` on ``key`` resolved; return its id, if it had one."""
        with self._db() as db:
            row = db.execute(
                "SELECT id FROM alerts WHERE rule=? AND key=? AND state!='resolved'", (rule, key)
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE alerts SET state='resolved', resolved=? WHERE id=?", (now, row[0]))
            db.execute(
                "DELETE FROM alerts WHERE state='resolved' AND id NOT IN (SELECT id FROM alerts"
                " WHERE state='resolved' ORDER BY id DESC LIMIT ?)", (KEEP_RESOLVED,),
            )  # fmt: skip
            return int(row[0])

    def repeat_due(self, alert_id: int, every: float, now: float) -> bool:
        """Return whether a firing, unacknowledged alert is due to repeat, and if so note that
        it is being sent now."""
        with self._db() as db:
            row = db.execute(
                "SELECT last_sent FROM alerts WHERE id=? AND state='firing'", (alert_id,)
            ).fetchone()
            if row is None or now - row[0] < every:
                return False
            db.execute("UPDATE alerts SET last_sent=? WHERE id=?", (now, alert_id))
            return True

    def ack(self, alert_id: int, now: float) -> bool:
        """Acknowledge a firing alert: it stops repeating. Return whether there was one."""
        with self._db() as db:
            cur = db.execute(
                "UPDATE alerts SET state='acknowledged', acked=? WHERE id=? AND state='firing'",
                (now, alert_id),
            )
            return cur.rowcount > 0

    def silence(self, glob: str, until: float) -> None:
        """Silence every rule named, and every metric matched, by ``glob`` until ``until``."""
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO silences(glob, until) VALUES (?, ?)", (glob, until))

    def unsilence(self, glob: str) -> bool:
        """Lift a silence; return whether there was one."""
        with self._db() as db:
            return db.execute("DELETE FROM silences WHERE glob=?", (glob,)).rowcount > 0

    def silences(self, now: float) -> dict[str, float]:
        """Return the silences still running: glob to the time they end."""
        with self._db(write=False) as db:
            rows = db.execute(
                "SELECT glob, until FROM silences WHERE until > ? ORDER BY glob", (now,)
            )
            return dict(rows.fetchall())

    def silenced(self, rule: str, key: str, now: float) -> str | None:
        """Return the silence that covers this rule or metric, or None."""
        return _covering(self.silences(now), rule, key)

    def find(self, rule: str, key: str) -> tuple[int, str] | None:
        """Return the id and state of the open alert of ``rule`` on ``key``, if there is one."""
        with self._db(write=False) as db:
            row = db.execute(
                "SELECT id, state FROM alerts WHERE rule=? AND key=? AND state!='resolved'",
                (rule, key),
            ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def alerts(self, now: float, resolved: bool = False) -> list[Alert]:
        """Return the open alerts (and the resolved ones too when asked), newest first."""
        where = "" if resolved else "WHERE state!='resolved'"
        with self._db(write=False) as db:
            rows = db.execute(
                f"SELECT id, rule, key, state, since, summary FROM alerts {where} ORDER BY id DESC"
            ).fetchall()
        silences = self.silences(now)
        out = []
        for id_, rule, key, state, since, summary in rows:
            if state == "firing" and _covering(silences, rule, key):
                state = "silenced"
            out.append(Alert(id_, rule, key, state, since, summary))
        return out

    def strike_once(self, schedule: str, uid: str, start: float) -> bool:
        """Remember that an occurrence of a calendar event has struck; return False when it
        had struck already (before a restart, say)."""
        with self._db() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO fired(schedule, uid, start) VALUES (?, ?, ?)",
                (schedule, uid, start),
            )
            return cur.rowcount > 0


def _covering(silences: dict[str, float], rule: str, key: str) -> str | None:
    """Return the glob of the silence that covers a rule or a metric, or None."""
    for glob in silences:
        if glob == rule or glob_match(glob, rule) or glob_match(glob, key):
            return glob
    return None
