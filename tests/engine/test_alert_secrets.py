"""Tests that alert commands get no secrets: a minimal environment (no ``token_env`` token), a
log readable by its owner alone, and arguments that look like credentials redacted in it."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from collectors.base import Batch, Reading, Status
from engine.alerts import AlertManager
from engine.config import AlertRule
from engine.private import append_private, redact_argv
from tests.engine.test_alerts import Waiter, feed, rules, setup

DUMP_ENV = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"


def test_an_alert_command_gets_a_minimal_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SD_TOKEN", "sd-s3cret")  # what a token_env names
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-s3cret")
    monkeypatch.setenv("LANG", "C.UTF-8")
    out = tmp_path / "env.json"
    argv = (sys.executable, "-c", DUMP_ENV, str(out))
    config = rules(AlertRule("system/**", "warning", 0.0, ("command",), argv))
    engine, manager, _, _, _ = setup(config, tmp_path)
    waiter = Waiter()
    manager.add_listener(waiter)
    feed(engine, ("system/load/1m", Status.CRITICAL))
    assert waiter.wait()[0].result == "exit 0"
    env = json.loads(out.read_text())
    assert "sd-s3cret" not in json.dumps(env) and "aws-s3cret" not in json.dumps(env)
    kept = {"PATH", "HOME", "LANG", "LANGUAGE", "TZ"}
    extra = {k for k in env if k not in kept and not k.startswith(("LC_", "GONGWATCH_ALERT_"))}
    assert extra <= {"PWD", "SHLVL", "_"}, extra  # what the interpreter itself may set
    assert env["LANG"] == "C.UTF-8" and env["GONGWATCH_ALERT_METRIC"] == "system/load/1m"
    manager.close()


def test_the_log_is_private_to_its_owner(tmp_path: Path) -> None:
    log = tmp_path / "state" / "gongwatch" / "alerts.log"
    config = rules(AlertRule("**", "warning", 0.0, ("bell",)))
    manager = AlertManager(config, bell=lambda: None, log_path=log)
    engine, _, _, _, _ = setup(config, tmp_path)
    manager.attach(engine)
    feed(engine, ("system/load/1m", Status.CRITICAL))
    assert log.is_file() and manager.log_error is None
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(log.parent.parent.stat().st_mode) == 0o700


def test_an_existing_log_readable_by_others_is_made_private(tmp_path: Path) -> None:
    log = tmp_path / "alerts.log"
    log.write_text("")
    log.chmod(0o644)
    config = rules(AlertRule("**", "warning", 0.0, ("bell",)))
    engine, _, _, _, _ = setup(config, tmp_path)
    feed(engine, ("system/load/1m", Status.CRITICAL))
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_a_log_that_is_not_a_plain_file_keeps_its_mode(tmp_path: Path) -> None:
    """A log sent to a device or a pipe (``/dev/null`` in tests, a FIFO a user reads) is
    written to as it is: tightening it would take the device from every other user."""
    fifo = tmp_path / "alerts.fifo"
    os.mkfifo(fifo, 0o666)
    os.chmod(fifo, 0o666)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        append_private(fifo, "line\n")
        assert stat.S_IMODE(fifo.stat().st_mode) == 0o666
        assert os.read(reader, 100) == b"line\n"
    finally:
        os.close(reader)


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["curl", "--api-key=abc123", "x"], ["curl", "--api-key=***", "x"]),
        (["h", "--token=t0k", "--auth-token", "t"], ["h", "--token=***", "--auth-token", "***"]),
        (["mysql", "--password", "pw", "-u", "me"], ["mysql", "--password", "***", "-u", "me"]),
        (["mysql", "--password=pw"], ["mysql", "--password=***"]),
        (["curl", "https://me:pw@example.org/x"], ["curl", "https://me:***@example.org/x"]),
        (["notify-send", "gongwatch", "--urgency=critical"], None),
    ],
)
def test_arguments_that_look_like_credentials_are_redacted(
    argv: list[str], shown: list[str] | None
) -> None:
    assert redact_argv(argv) == (argv if shown is None else shown)


def test_the_log_and_the_pane_never_show_a_credential(tmp_path: Path) -> None:
    argv = (sys.executable, "-c", "pass", "--api-key=abc123", "--password", "hunter2")
    config = rules(AlertRule("system/**", "warning", 0.0, ("command",), argv))
    engine, manager, _, _, _ = setup(config, tmp_path)
    waiter = Waiter()
    manager.add_listener(waiter)
    feed(engine, ("system/load/1m", Status.CRITICAL))
    assert waiter.wait()[0].result == "exit 0"
    text = (tmp_path / "alerts.log").read_text() + repr(manager.records())
    assert "abc123" not in text and "hunter2" not in text
    assert "--api-key=*** --password ***" in text
    manager.close()


def test_the_log_holds_no_raw_terminal_controls(tmp_path: Path) -> None:
    config = rules(AlertRule("**", "warning", 0.0, ("bell",)))
    engine, _, _, _, _ = setup(config, tmp_path)
    text = "FAILED\x9b2J\x1b]0;x\x07\u2028"
    engine.ingest(
        Batch("smart", (Reading("disk/sda/health", None, text=text, status=Status.CRITICAL),))
    )
    raw = (tmp_path / "alerts.log").read_text(encoding="utf-8")
    assert not any(c in raw for c in "\x9b\x1b\x07\u2028") and raw.count("\n") == 1
    assert json.loads(raw)["detail"] == f"critical: {text}"
