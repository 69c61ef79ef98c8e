"""Tests the smartctl children of the SMART collector: their environment, what a timeout leaves
behind when smartctl is a wrapper, and smartctl installed while the monitor runs."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from collectors import smart
from collectors.smart import SmartCollector
from tests.collectors.test_process import dump_env_argv, marker, pids_with, read_env
from tests.hardware_fakes.smartctl import FakeSmartctl, recorded_machines

__all__ = ["marker"]  # the fixture, shared with test_process

SATA = next(p for p in recorded_machines() if p.name == "sata_hdd_0_issue42")
SECRET = "sd-t0ken-never-crosses"


def wrapper(tmp_path: Path, body: str) -> Path:
    """A ``smartctl`` that is a shell script around the fake, as ``sudo -n smartctl`` is."""
    script = tmp_path / "wrapped-smartctl"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def test_smartctl_gets_a_minimal_environment_and_never_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SD_TOKEN", SECRET)
    monkeypatch.setenv("GONGWATCH_SD_TOKEN", SECRET)
    fake = FakeSmartctl(tmp_path, SATA)
    dump = tmp_path / "env"
    # Dump the environment smartctl was started with, then be smartctl.
    dumper = shlex.join(dump_env_argv(dump))
    script = wrapper(tmp_path, f'{dumper}\nexec {shlex.quote(str(fake.path))} "$@"')
    batch = SmartCollector(smartctl=str(script), hwmon_root="/nonexistent").poll()
    assert "disk/sdau/health" in {r.key for r in batch.readings}, batch
    assert SECRET not in dump.read_text()
    env = read_env(dump)
    assert env["LC_ALL"] == "C" and env["PATH"] == os.environ["PATH"]
    # PWD is the wrapper shell's own; Python may add LC_CTYPE when it coerces a C locale.
    allowed = {"PATH", "HOME", "TZ", "LANG", "LANGUAGE", "LC_CTYPE", "LC_ALL", "PWD"}
    assert set(env) <= allowed | {k for k in os.environ if k.startswith("LC_")}


def test_ten_timed_out_polls_through_a_wrapper_leave_no_process_behind(
    tmp_path: Path, marker: str
) -> None:
    fake = FakeSmartctl(tmp_path, SATA)
    fake.set_state(hang=["/dev/sdau"])
    # The wrapper does not exec: the real smartctl (here its fake, which hangs on the disk,
    # through pySMART's Device) runs as its child, as under sudo.
    script = wrapper(
        tmp_path,
        f'case "$*" in *--scan*) ;; *) sh -c "sleep {marker}; true" ;; esac\n'
        f'{shlex.quote(str(fake.path))} "$@"',
    )
    collector = SmartCollector(smartctl=str(script), hwmon_root="/nonexistent", timeout=0.3)
    for _ in range(10):
        batch = collector.poll()
        assert batch.errors[:1] == ("sdau: smartctl took longer than 0.3 s",), batch
    left = pids_with(marker)
    assert left == [], f"{len(left)} processes left behind after ten timed-out polls"


def test_smartctl_installed_after_the_start_is_read_at_the_next_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setattr(smart, "SBIN", str(tmp_path / "sbin"))
    collector = SmartCollector(smartctl="smartctl", hwmon_root="/nonexistent")
    first = collector.poll()
    assert first.unavailable is not None and first.unavailable.startswith("smartctl not found")
    FakeSmartctl(tmp_path, SATA)  # installs tmp_path/bin/smartctl
    second = collector.poll()
    assert second.unavailable is None, second.unavailable
    assert {r.key: r.text for r in second.readings}["disk/sdau/health"] == "PASSED"
    assert collector.problem is None
