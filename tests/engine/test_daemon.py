"""Tests ``gongwatch daemon`` and ``gongwatch status`` as real processes: an alert strikes the
emulated gong with no screen open, SIGHUP reloads, SIGTERM leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import psutil

from tests.daemon_process import QUIET_SOURCES, ROOT, DaemonProcess
from tests.emulator import EmulatedDevice


def gong_config(port: str, series: int = 3, command: str = "") -> str:
    actions = '["gong", "command"]' if command else '["gong"]'
    return f"""{QUIET_SOURCES}
[collectors.synthetic]
series = {series}
interval = 0.5
critical_after = 1.0
[devices.gong]
port = "{port}"
cooldown = 60.0
[[alerts]]
metrics = "synthetic/**"
severity = "critical"
actions = {actions}
command = [{command}]
"""


def gongwatch(daemon: DaemonProcess, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "engine.cli", "--config", str(daemon.config_path), *args]
    return subprocess.run(
        argv, env=daemon.env, cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
    )


def test_an_alert_strikes_the_gong_with_no_screen_and_status_tells() -> None:
    with EmulatedDevice("gong") as gong, DaemonProcess(gong_config(gong.port)) as daemon:
        daemon.start()
        gong.wait_event("strike", timeout=20.0)
        daemon.wait_log("ok gong")
        result = gongwatch(daemon, "status", "--json")
        assert result.returncode == 0, result.stderr
        status = json.loads(result.stdout)
        assert status["running"] and status["pid"] == daemon.proc.pid  # type: ignore[union-attr]
        (source,) = status["sources"]
        assert source["name"] == "synthetic" and source["polls"] > 0 and not source["stale"]
        assert [(a["action"], a["result"]) for a in status["alerts"]] == [("gong", "ok gong")]
        text = gongwatch(daemon, "status").stdout
        assert f"pid {status['pid']}" in text and "synthetic" in text and "ok gong" in text
        assert daemon.stop() == 0


def test_the_socket_is_private_and_removed_on_stop() -> None:
    with DaemonProcess(QUIET_SOURCES) as daemon:
        daemon.start()
        assert stat.S_IMODE(daemon.socket.stat().st_mode) == 0o600
        assert stat.S_IMODE(daemon.socket.parent.stat().st_mode) == 0o700
        assert daemon.stop() == 0
        assert not daemon.socket.exists()
        result = gongwatch(daemon, "status")
        assert result.returncode == 3 and "no daemon answers" in result.stdout


def test_a_second_daemon_on_the_same_socket_is_refused() -> None:
    with DaemonProcess(QUIET_SOURCES) as daemon:
        daemon.start()
        second = gongwatch(daemon, "daemon")
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert lines == [f"gongwatch: a daemon already runs on {daemon.socket} (pid "
                         f"{daemon.proc.pid})"]  # type: ignore[union-attr]  # fmt: skip
        assert daemon.status() is not None  # the first one is untouched
        assert daemon.stop() == 0


def test_a_bad_config_exits_2_with_one_line() -> None:
    with DaemonProcess("[collectors.synthetic]\nseries = 0\n") as daemon:
        result = gongwatch(daemon, "daemon")
        assert result.returncode == 2
        (line,) = result.stderr.strip().splitlines()
        assert "collectors.synthetic.series" in line


def test_sighup_reloads_and_a_bad_config_keeps_the_running_one() -> None:
    with DaemonProcess(QUIET_SOURCES + "[collectors.synthetic]\nseries = 2\n") as daemon:
        daemon.start()
        wait_for(lambda: (daemon.status() or {}).get("metrics") == 2)
        daemon.write_config(QUIET_SOURCES + "[collectors.synthetic]\nseries = 4\n")
        daemon.signal(signal.SIGHUP)
        daemon.wait_log("reloaded")
        wait_for(lambda: (daemon.status() or {}).get("metrics") == 4)
        daemon.write_config("[collectors.synthetic]\nseries = -1\n")
        daemon.signal(signal.SIGHUP)
        log = daemon.wait_log("reload failed")
        assert "keeping the running configuration" in log and "series" in log
        assert (daemon.status() or {}).get("metrics") == 4
        assert daemon.stop() == 0


def test_sigterm_leaves_no_thread_and_no_child() -> None:
    with EmulatedDevice("gong") as gong:
        config = gong_config(gong.port, command='"sleep", "300"')
        with DaemonProcess(config) as daemon:
            daemon.start()
            proc = psutil.Process(daemon.proc.pid)  # type: ignore[union-attr]
            wait_for(lambda: any(c.name() == "sleep" for c in proc.children(recursive=True)))
            children = proc.children(recursive=True)
            assert daemon.stop() == 0
            log = daemon.log()
            assert "stopped cleanly: no thread left" in log, log
            assert "killed: gongwatch stopped" in log
            _gone, alive = psutil.wait_procs(children, timeout=5)
            assert not alive
            assert not daemon.socket.exists()
            assert gong.opens >= 1 and not os.path.exists(daemon.socket)


def wait_for(test: object, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if test():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_changes_answers_only_what_changed() -> None:
    import httpx

    with DaemonProcess(QUIET_SOURCES + "[collectors.synthetic]\nseries = 2\n") as daemon:
        status = daemon.start().wait_answering()
        transport = httpx.HTTPTransport(uds=str(daemon.socket))
        with httpx.Client(transport=transport, base_url="http://gongwatch") as c:
            wait_for(lambda: c.get("/v1/snapshot").json()["version"] > 0)
            first = c.get("/v1/changes")
            assert first.headers["Gongwatch-Pid"] == str(status["pid"])
            data = first.json()
            version, change = data["snapshot"]["version"], data["alerts"]["change"]
            assert len(data["snapshot"]["metrics"]) == 2 and data["log"] == []
            params = {"since_version": version, "alerts_since": change, "log_since": 0}
            same = c.get("/v1/changes", params=params).json()
            # Nothing new unless a poll landed in between; alerts never changed.
            assert same["alerts"] is None
            assert same["snapshot"] is None or same["snapshot"]["version"] > version
        assert daemon.stop() == 0
