"""Tests the history file's schema versions and the migrations between them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.history import HistoryReader, HistoryStore, SchemaError
from engine.history.schema import MIGRATIONS, VERSION, connect, migrate, version

T0 = 1_790_000_100.0


def test_a_new_file_has_the_newest_schema(tmp_path: Path) -> None:
    with HistoryStore(path=tmp_path / "h.db") as store:
        store.append("k", T0, 1.0)
    conn = sqlite3.connect(tmp_path / "h.db")
    assert version(conn) == VERSION == len(MIGRATIONS) == 2
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_version_1_file_is_migrated_to_2_with_its_points(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    # A file as the first schema had it, with a chunk of three points.
    conn = connect(path)
    assert migrate(conn, upto=1) == 1
    with pytest.raises(sqlite3.OperationalError, match="no such column: unit"):
        conn.execute("SELECT unit FROM series")
    conn.close()
    assert _store_at_version_1(path) == 1
    with HistoryReader(path) as reader:  # a reader reads a v1 file as it is
        assert reader.unit("k") == "" and len(reader.points("k", T0, T0 + 10)) == 3

    with HistoryStore(path=path) as store:  # opening migrates
        assert [p.value for p in store.points("k", T0, T0 + 10)] == [1.0, 2.0, 3.0]
        store.set_unit("k", "%")
        store.append("k", T0 + 3, 4.0)
    with HistoryReader(path) as reader:
        assert reader.unit("k") == "%"
        assert len(reader.points("k", T0, T0 + 10)) == 4
    assert version(sqlite3.connect(path)) == 2


def _store_at_version_1(path: Path) -> int:
    """Write three points with the v1 tables only, as a v1 gongwatch did."""
    from engine.history.codec import ChunkEncoder

    chunk = ChunkEncoder()
    for i, value in enumerate((1.0, 2.0, 3.0)):
        chunk.append(round((T0 + i) * 1000), value)
    conn = connect(path)
    conn.execute("INSERT INTO series (key) VALUES ('k')")
    conn.execute(
        "INSERT INTO chunks (series, start, end, count, data, flags) VALUES (1, ?, ?, 3, ?, ?)",
        (chunk.first_time, chunk.last_time, chunk.data(), chunk.flags()),
    )
    found = version(conn)
    conn.close()
    return found


def test_migrations_run_in_order_each_in_a_transaction(tmp_path: Path) -> None:
    calls: list[int] = []

    def step(n: int, fail: bool = False):  # type: ignore[no-untyped-def]
        def run(conn: sqlite3.Connection) -> None:
            calls.append(n)
            conn.execute(f"CREATE TABLE t{n} (x)")
            if fail:
                raise RuntimeError("broken migration")

        return run

    conn = connect(tmp_path / "m.db")
    assert migrate(conn, [step(0), step(1)]) == 2
    with pytest.raises(RuntimeError, match="broken"):
        migrate(conn, [step(0), step(1), step(2, fail=True)])
    # The failed step left nothing behind and the version did not move.
    assert calls == [0, 1, 2] and version(conn) == 2
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 't2'").fetchone() is None
    assert migrate(conn, [step(0), step(1), step(2)]) == 3 and calls[-1] == 2


def test_a_file_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with HistoryStore(path=path) as store:
        store.append("k", T0, 1.0)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaError, match=f"schema version {VERSION + 1}"):
        HistoryStore(path=path)
    with pytest.raises(SchemaError, match=f"schema version {VERSION + 1}"):
        HistoryReader(path)
