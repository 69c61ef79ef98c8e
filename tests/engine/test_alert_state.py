"""Tests the alert state people act on: repeats until acknowledged, silences until they end,
``gongwatch alerts`` on the same file as the running monitor, and the file across restarts."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from collectors.base import Batch, Reading, Status
from engine import Engine
from engine.alert_state import AlertState, StateError
from engine.alerts import AlertManager
from engine.cli import main
from engine.config import Config
from engine.config_reader import load
from engine.notify import Notifier
from tests.clock import ManualClock
from tests.engine.receivers import Webhook, webhook

RULES = """
[general]
alert_log = "{log}"
[notify.ops]
urls = ["{url}"]
group = "0s"
[[alerts]]
name = "hot"
metrics = "sensors/**"
severity = "critical"
actions = ["notify:ops"]
repeat = "1h"
"""


def start(
    tmp_path: Path, hook: Webhook, clock: ManualClock, base: float | None = None
) -> tuple[Path, Engine, AlertManager]:
    path = tmp_path / "config.toml"
    path.write_text(RULES.format(log=tmp_path / "alerts.log", url=hook.url()), encoding="utf-8")
    config = load(path)
    engine = Engine(config, monotonic=clock)
    if base is None:
        base = time.time() - clock.now  # the wall clock moves with the test's clock
    notifier = Notifier(config.notify, host="h", monotonic=clock, flush_thread=False)
    alerts = AlertManager(
        config, log_path=tmp_path / "alerts.log", monotonic=clock,
        wall=lambda: base + clock.now, notifier=notifier,
    )  # fmt: skip
    alerts.attach(engine)
    return path, engine, alerts


def hot(engine: Engine, status: Status = Status.CRITICAL) -> None:
    engine.ingest(Batch("s", (Reading("sensors/cpu/temp", 99.0, "°C", status=status),)))


def settle(hook: Webhook, count: int) -> list[str]:
    time.sleep(0.3)  # a message that should not come would have come by now
    return [b["title"] for b in hook.wait(count)]


def test_acknowledging_stops_the_repeats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = ManualClock(1000.0)
    with webhook() as hook:
        config, engine, alerts = start(tmp_path, hook, clock)
        hot(engine)
        clock.advance(1800.0)
        hot(engine)  # half an hour: no repeat yet
        assert len(settle(hook, 1)) == 1
        clock.advance(1800.0)
        hot(engine)
        assert settle(hook, 2)[1].endswith("(still firing)")
        assert main(["--config", str(config), "alerts", "list", "--json"]) == 0
        (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert (row["state"], row["rule"], row["key"]) == ("firing", "hot", "sensors/cpu/temp")
        assert main(["--config", str(config), "alerts", "ack", str(row["id"])]) == 0
        for _ in range(3):
            clock.advance(3600.0)
            hot(engine)
        assert len(settle(hook, 2)) == 2
        main(["--config", str(config), "alerts", "list"])
        assert "acknowledged" in capsys.readouterr().out
        hot(engine, Status.OK)  # it comes back: resolved, even though acknowledged
        assert settle(hook, 3)[2] == "gongwatch on h: resolved sensors/cpu/temp"
        alerts.close()


def test_a_silence_sends_nothing_until_it_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = ManualClock(1000.0)
    with webhook() as hook:
        config, engine, alerts = start(tmp_path, hook, clock)
        assert (
            main(["--config", str(config), "alerts", "silence", "sensors/**", "--for", "2h"]) == 0
        )
        for _ in range(12):
            hot(engine)
            clock.advance(600.0)  # to 2 h after the silence began
        time.sleep(0.3)
        assert hook.bodies == []
        silenced = [r for r in alerts.records() if r.action == "silence"]
        assert len(silenced) == 1 and silenced[0].result == "silenced by sensors/**"
        clock.advance(60.0)
        hot(engine)  # the silence has ended: it fires now
        assert settle(hook, 1) == ["gongwatch on h: critical sensors/cpu/temp"]
        alerts.close()


def test_unsilence_lifts_it_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clock = ManualClock(1000.0)
    with webhook() as hook:
        config, engine, alerts = start(tmp_path, hook, clock)
        main(["--config", str(config), "alerts", "silence", "hot", "--for", "7d"])
        hot(engine)
        assert main(["--config", str(config), "alerts", "unsilence", "hot"]) == 0
        assert main(["--config", str(config), "alerts", "unsilence", "hot"]) == 1
        assert "no silence on hot" in capsys.readouterr().err
        clock.advance(10.0)
        hot(engine)
        assert len(settle(hook, 1)) == 1
        alerts.close()


def test_the_state_survives_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(1000.0)
    with webhook() as hook:
        base = time.time() - clock.now
        _, engine, alerts = start(tmp_path, hook, clock, base)
        hot(engine)
        alerts.close()
        _, engine, alerts = start(tmp_path, hook, clock, base)  # a new monitor on the same file
        clock.advance(60.0)
        hot(engine)  # the alert is still open: the new monitor does not announce it again
        assert len(settle(hook, 1)) == 1
        (alert,) = alerts.state.alerts(time.time())
        assert alert.state == "firing"
        clock.advance(3600.0)
        hot(engine)  # but it repeats, an hour after the first message
        assert len(settle(hook, 2)) == 2
        alerts.close()
        _, engine, alerts = start(tmp_path, hook, clock, base)
        hot(engine, Status.OK)  # it recovered while nothing watched: resolved all the same
        assert settle(hook, 3)[2] == "gongwatch on h: resolved sensors/cpu/temp"
        assert "for 01:01:00" in hook.bodies[2]["message"]
        assert alerts.state.alerts(time.time()) == []
        alerts.close()


def test_a_state_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "alerts.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StateError, match="newer gongwatch"):
        AlertState(path).alerts(0.0)


def test_the_cli_refuses_a_bad_duration_and_an_unknown_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[general]\nalert_log = "{tmp_path / "a.log"}"\n', encoding="utf-8")
    assert main(["--config", str(path), "alerts"]) == 0
    assert capsys.readouterr().out == "no open alerts and no silences\n"
    assert main(["--config", str(path), "alerts", "silence", "x", "--for", "soon"]) == 1
    assert main(["--config", str(path), "alerts", "ack", "42"]) == 1
    err = capsys.readouterr().err
    assert "not a duration: 'soon'" in err and "no firing alert with id 42" in err
    assert Config  # the default configuration needs no file


def test_the_state_file_lies_beside_the_log_unless_the_log_is_a_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.alert_state import default_state_path

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_state_path(tmp_path / "logs" / "a.log") == tmp_path / "logs" / "alerts.db"
    assert default_state_path(Path("/dev/null")) == tmp_path / "state" / "gongwatch" / "alerts.db"


def test_the_state_files_are_private(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        AlertState(tmp_path / "new" / "alerts.db").silence("disks", 1e12)
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "new").iterdir()}
    assert modes == {"alerts.db": 0o600, "alerts.db-wal": 0o600, "alerts.db-shm": 0o600}
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
