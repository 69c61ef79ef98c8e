"""Provides ``count_reads``: counts the read transactions a history file's readers begin."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.history import reader


class Reads:
    """The statements the reading connections ran, as SQLite traced them."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def transactions(self) -> int:
        """How many read transactions began."""
        return sum(1 for sql in self.statements if sql.startswith("BEGIN"))


def count_reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    """Trace every connection a reader opens from now on (the writer's own is not a reader's:
    ``HistoryStore`` opens it through ``engine.history.store``)."""
    reads = Reads()
    connect = reader.connect

    def traced(path: Path) -> sqlite3.Connection:
        conn = connect(path)
        conn.set_trace_callback(reads.statements.append)
        return conn

    monkeypatch.setattr(reader, "connect", traced)
    return reads
