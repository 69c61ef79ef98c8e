"""Tests the files in contrib/: the systemd unit is checked by systemd itself, and its ExecStart
and ExecReload lines run as real processes; the sudoers line passes visudo."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_tool
from tests.daemon_process import QUIET_SOURCES, ROOT, DaemonProcess

UNIT = ROOT / "contrib" / "gongwatch.service"
SUDOERS = ROOT / "contrib" / "gongwatch-smartctl.sudoers"
INSTALLED = "/usr/local/bin/gongwatch"
"""Where the unit expects gongwatch; the tests run this checkout's instead."""
CONFIG = "/etc/gongwatch/config.toml"


def unit_entries(text: str) -> dict[str, list[tuple[str, str]]]:
    """Parse a unit file the way systemd reads it: sections of ``key=value`` lines."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections.setdefault(current, [])
            continue
        key, _, value = line.partition("=")
        sections[current].append((key.strip(), value.strip()))
    return sections


def service() -> dict[str, str]:
    return dict(unit_entries(UNIT.read_text())["Service"])


def ours() -> str:
    return str(Path(sys.executable).parent / "gongwatch")


def test_the_unit_restarts_on_failure_reloads_on_hup_and_keeps_devices_readable() -> None:
    s = service()
    assert s["Restart"] == "on-failure"
    assert s["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert shlex.split(s["ExecStart"])[-1] == "daemon"
    # Options that would hide the serial ports, or stop sudo from running smartctl.
    for option in ("PrivateDevices", "DevicePolicy", "DeviceAllow", "ProtectClock",
                   "NoNewPrivileges"):  # fmt: skip
        assert option not in s, option
    assert s["ProtectSystem"] == "strict"  # /sys stays readable under it
    assert "dialout" in s["SupplementaryGroups"]


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze")
    copy = tmp_path / "gongwatch.service"
    copy.write_text(UNIT.read_text().replace(INSTALLED, ours()))
    result = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_units_exec_lines_start_reload_and_stop_the_daemon() -> None:
    s = service()
    argv = [ours() if a == INSTALLED else a for a in shlex.split(s["ExecStart"])]
    argv = ["{config}" if a == CONFIG else a for a in argv]
    with DaemonProcess(QUIET_SOURCES + "[collectors.synthetic]\nseries = 2\n", argv=argv) as d:
        d.start()
        status = d.status()
        assert status is not None and status["pid"] == d.proc.pid  # type: ignore[union-attr]
        reload = shlex.split(s["ExecReload"].replace("$MAINPID", str(d.proc.pid)))  # type: ignore[union-attr]
        subprocess.run(reload, check=True, timeout=10)
        d.wait_log("reloaded")
        assert s.get("KillSignal", "SIGTERM") == "SIGTERM"
        d.signal(signal.SIGTERM)
        assert d.stop() == 0
        assert "stopped cleanly" in d.log()


def test_the_sudoers_line_allows_smartctl_alone() -> None:
    visudo = require_tool("visudo")
    result = subprocess.run(
        [visudo, "-cf", str(SUDOERS)], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (rule,) = [ln for ln in SUDOERS.read_text().splitlines() if ln and not ln.startswith("#")]
    assert rule == "gongwatch ALL=(root) NOPASSWD: /usr/sbin/smartctl"
