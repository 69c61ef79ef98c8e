"""Tests ``gongwatch import`` of RRD files made by Debian's rrdtool, into a real history file."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest

from engine.history import HistoryReader
from engine.history.query import Tier
from engine.imports.cli import cmd_import
from engine.imports.rrd import read_rrd
from engine.imports.series import ImportFileError
from tests.conftest import require_tool
from tests.engine import rrd_files
from tests.engine.rrd_files import DAY, END, STEP


@pytest.fixture(scope="module")
def rrdtool() -> str:
    return require_tool("rrdtool")


def do_import(db: Path, *files: Path | str, prefix: str = "import") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = cmd_import(db, list(files), prefix, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def stored(db: Path, key: str) -> tuple[np.ndarray, np.ndarray]:
    with HistoryReader(db) as reader:
        points = reader.points(key, 0, END + DAY, Tier.RAW)
    return np.array([p.time for p in points]), np.array([p.value for p in points])


def test_each_data_source_at_the_finest_archive_of_each_period(
    rrdtool: str, tmp_path: Path
) -> None:
    rrd = rrd_files.create(rrdtool, tmp_path / "web1" / "load" / "load.rrd", ["shortterm", "x"])
    fed = rrd_files.update(rrdtool, rrd, lambda t: [(t - END) / 1000.0, np.full(len(t), 2.0)])
    status, out, err = do_import(tmp_path / "h.db", rrd)
    assert (status, err) == (0, "")
    assert "2 series" in out
    t, x = stored(tmp_path / "h.db", "import/web1/load/shortterm")
    steps = np.diff(t)
    # The last 200 minutes at the 10 s step, the rest of the day at the 70 s step before them.
    assert list(t[-1200:]) == list(range(END - 1199 * STEP, END + 1, STEP))
    assert set(steps[-1199:]) == {10.0}
    assert set(steps[:-1200]) == {70.0}
    # The first 70 s row that lies wholly in the day (a part-known row is unknown at xff 0.1).
    assert fed[0] + 70 <= t[0] < fed[0] + 140
    # The finest rows are the values fed; a 70 s row is the mean of its seven.
    assert np.allclose(x[-1200:], (t[-1200:] - END) / 1000.0)
    assert math.isclose(x[0], (t[0] - 30 - END) / 1000.0, abs_tol=1e-6)
    _, flat = stored(tmp_path / "h.db", "import/web1/load/x")
    assert np.allclose(flat, 2.0) and len(flat) == len(x)


def test_keys_follow_collectds_layout_and_the_prefix(rrdtool: str, tmp_path: Path) -> None:
    files = rrd_files.machine(rrdtool, tmp_path / "rrd")
    status, _, err = do_import(tmp_path / "h.db", *files)
    assert (status, err) == (0, "")
    status, _, err = do_import(tmp_path / "h.db", files[1], prefix="lab/dads")
    assert (status, err) == (0, "")
    with HistoryReader(tmp_path / "h.db") as reader:
        assert reader.keys() == [
            "import/web1/load/longterm",
            "import/web1/load/midterm",
            "import/web1/load/shortterm",
            "import/web1/memory/used",
            "import/web1/processes/ps_state-running",
            "import/web1/processes/ps_state-zombies",
            "lab/dads/web1/memory/used",
        ]


def test_importing_again_adds_only_what_is_new(rrdtool: str, tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    rrd = rrd_files.create(rrdtool, tmp_path / "h1" / "memory" / "memory-used.rrd", ["value"])
    rrd_files.update(rrdtool, rrd, lambda t: [t % 1000.0], end=END - 600)
    status, _, _ = do_import(db, rrd)
    assert status == 0
    t_before, _ = stored(db, "import/h1/memory/used")
    status, again, _ = do_import(db, rrd)
    assert status == 0
    assert f"{len(t_before)} already stored" in again and ", 0 points added" in again
    assert np.array_equal(stored(db, "import/h1/memory/used")[0], t_before)
    # Ten more minutes in the file: the next import adds those sixty points and nothing else.
    rrd_files.update(rrdtool, rrd, lambda t: [t % 1000.0], start=END - 590, end=END)
    status, later, _ = do_import(db, rrd)
    t_after, x_after = stored(db, "import/h1/memory/used")
    assert "60 points added" in later
    assert len(t_after) == len(t_before) + 60
    assert np.all(np.diff(t_after) > 0)
    assert np.allclose(x_after[-60:], t_after[-60:] % 1000.0)


def test_a_bad_file_among_good_ones_is_one_line_and_the_rest_is_imported(
    rrdtool: str, tmp_path: Path
) -> None:
    good = rrd_files.create(rrdtool, tmp_path / "h1" / "load" / "load.rrd", ["shortterm"])
    rrd_files.update(rrdtool, good, lambda t: [np.ones(len(t))], start=END - 3600)
    not_rrd = tmp_path / "h1" / "cpu" / "cpu-idle.rrd"
    not_rrd.parent.mkdir()
    not_rrd.write_text("this is not an RRD file\n")
    bad_json = tmp_path / "render.json"
    bad_json.write_text('[{"target": "a.b", "datapoints": [[1, 2]')
    missing = tmp_path / "nowhere.csv"
    csv = tmp_path / "requests.csv"
    csv.write_text("timestamp,value\n1790000000,5\n1790000010,6\n")
    status, out, err = do_import(tmp_path / "h.db", not_rrd, good, bad_json, missing, csv)
    assert status == 0
    lines = err.splitlines()
    assert len(lines) == 3, err
    assert str(not_rrd) in lines[0] and "not a readable RRD file" in lines[0]
    assert str(bad_json) in lines[1] and "bad JSON" in lines[1]
    assert str(missing) in lines[2] and "No such file" in lines[2]
    assert out.count("points added") == 2
    with HistoryReader(tmp_path / "h.db") as reader:
        assert reader.keys() == ["import/h1/load/shortterm", "import/requests"]


def test_nothing_importable_exits_2(rrdtool: str, tmp_path: Path) -> None:
    only_max = rrd_files.create(
        rrdtool, tmp_path / "h1" / "load" / "load.rrd", ["shortterm"], functions=("MAX",)
    )
    garbage = tmp_path / "x.rrd"
    garbage.write_bytes(b"RRD\0garbage")
    status, out, err = do_import(tmp_path / "h.db", only_max, garbage)
    assert status == 2 and out == ""
    assert "no AVERAGE archive" in err.splitlines()[0]
    assert str(garbage) in err.splitlines()[1]


def test_rrdtool_that_takes_too_long_is_stopped_and_said_in_one_line(
    rrdtool: str, tmp_path: Path
) -> None:
    rrd = rrd_files.create(rrdtool, tmp_path / "h1" / "load" / "load.rrd", ["shortterm"])
    # A real rrdtool cannot even start in a millisecond: the timeout is what answers.
    with pytest.raises(ImportFileError, match=r"load\.rrd: rrdtool dump gave no answer within"):
        read_rrd(rrd, timeout=0.001)
