"""Tests ``gongwatch import`` of StatsD-style CSV and Graphite render JSON into a history file."""

from __future__ import annotations

import io
import json
from pathlib import Path

from engine.history import HistoryReader
from engine.history.query import Tier
from engine.imports.cli import cmd_import

T0 = 1_790_000_000


def do_import(db: Path, *files: Path, prefix: str = "import") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cmd_import(db, list(files), prefix, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def stored(db: Path) -> dict[str, list[tuple[float, float]]]:
    with HistoryReader(db) as reader:
        keys = reader.keys()
        return {
            key: [(p.time, p.value) for p in reader.points(key, 0, T0 + 86400, Tier.RAW)]
            for key in keys
        }


def test_csv_of_timestamp_value_with_a_header(tmp_path: Path) -> None:
    csv = tmp_path / "requests.csv"
    csv.write_text("time,count\n1790000000,5\n1790000010,\n2026-09-21T14:13:40,7.5\n")
    status, out, err = do_import(tmp_path / "h.db", csv)
    assert (status, err) == (0, "")
    assert out.strip() == f"{csv}: 1 series, 2 points added"
    # The empty value is a missing point; the ISO time (naive: UTC) is 1790000020.
    assert stored(tmp_path / "h.db") == {"import/requests": [(T0, 5.0), (T0 + 20, 7.5)]}


def test_csv_of_timestamp_metric_value_without_a_header(tmp_path: Path) -> None:
    csv = tmp_path / "statsd.csv"
    rows = [f"{T0 + 10 * i},web1.requests,{i}\n{T0 + 10 * i},web1.errors,{i % 2}" for i in range(3)]
    csv.write_text("\n".join(rows) + "\n")
    status, _, err = do_import(tmp_path / "h.db", csv, prefix="statsd")
    assert (status, err) == (0, "")
    assert stored(tmp_path / "h.db") == {
        "statsd/web1/errors": [(T0, 0.0), (T0 + 10, 1.0), (T0 + 20, 0.0)],
        "statsd/web1/requests": [(T0, 0.0), (T0 + 10, 1.0), (T0 + 20, 2.0)],
    }


def test_a_bad_csv_row_names_its_line(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("timestamp,value\n1790000000,5\nyesterday,6\n")
    status, out, err = do_import(tmp_path / "h.db", csv)
    assert (status, out) == (2, "")
    assert err.strip() == (
        f"gongwatch: {csv}:3: not a timestamp,value or timestamp,metric,value row"
    )


def test_graphite_render_json_skips_nulls(tmp_path: Path) -> None:
    render = tmp_path / "render.json"
    render.write_text(
        json.dumps(
            [
                {
                    "target": "servers.web1.load",
                    "datapoints": [[0.5, T0], [None, T0 + 60], [0.7, T0 + 120]],
                },
                {"target": "servers.web2.load", "datapoints": [[None, T0]]},
            ]
        )
    )
    status, out, err = do_import(tmp_path / "h.db", render)
    assert (status, err) == (0, "")
    assert "1 series, 2 points added" in out
    assert stored(tmp_path / "h.db") == {"import/servers/web1/load": [(T0, 0.5), (T0 + 120, 0.7)]}


def test_json_that_is_not_a_render_answer_is_one_line(tmp_path: Path) -> None:
    shapes = {
        "object.json": '{"target": "a"}',
        "no-target.json": '[{"datapoints": []}]',
        "pairs.json": '[{"target": "a", "datapoints": [[1, 2, 3]]}]',
        "text.json": '[{"target": "a", "datapoints": [["1", 2]]}]',
    }
    for name, text in shapes.items():
        (tmp_path / name).write_text(text)
    status, _, err = do_import(tmp_path / "h.db", *(tmp_path / n for n in shapes))
    assert status == 2
    lines = err.splitlines()
    assert len(lines) == 4
    for line, name in zip(lines, shapes, strict=True):
        assert line.startswith(f"gongwatch: {tmp_path / name}: ")


def test_importing_the_same_csv_twice_stores_each_point_once(tmp_path: Path) -> None:
    csv = tmp_path / "temp.csv"
    csv.write_text("".join(f"{T0 + 10 * i},{i}\n" for i in range(100)))
    db = tmp_path / "h.db"
    assert do_import(db, csv)[0] == 0
    status, out, _ = do_import(db, csv, csv)
    assert status == 0
    assert out.splitlines() == [f"{csv}: 1 series, 0 points added, 100 already stored"] * 2
    points = stored(db)["import/temp"]
    assert points == [(T0 + 10 * i, float(i)) for i in range(100)]
    with HistoryReader(db) as reader:
        minute = reader.points("import/temp", T0 - 60, T0 + 1000, Tier.MINUTE)
    # The rollups count each point once too.
    assert sum(p.count for p in minute) == 100


def test_a_time_far_in_the_future_refuses_the_file_and_keeps_what_is_stored(
    tmp_path: Path,
) -> None:
    db = tmp_path / "h.db"
    good = tmp_path / "temp.csv"
    good.write_text(f"{T0},1\n{T0 + 10},2\n")
    assert do_import(db, good)[0] == 0
    # Milliseconds where seconds belong: the year 58,000.
    millis = tmp_path / "millis.csv"
    millis.write_text(f"{T0 * 1000},3\n")
    before = tmp_path / "before.json"
    before.write_text('[{"target": "old", "datapoints": [[1, -86400]]}]')
    status, out, err = do_import(db, millis, before)
    assert (status, out) == (2, "")
    lines = err.splitlines()
    assert len(lines) == 2
    assert f"{millis}: import/millis has a point at 1790000000000, not a time between" in lines[0]
    assert f"{before}: import/old has a point at -86400" in lines[1]
    # Retention counts back from the newest point: one in the far future would expire the rest.
    assert stored(db) == {"import/temp": [(T0, 1.0), (T0 + 10, 2.0)]}
