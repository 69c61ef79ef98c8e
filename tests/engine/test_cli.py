"""Tests the installed ``gongwatch`` console script in a subprocess, as a user runs it."""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from collectors.replay import ReplayCollector

DATA = Path(__file__).parent.parent / "data"


def gongwatch(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("gongwatch", path=os.path.dirname(sys.executable))
    assert exe, "the gongwatch console script is not installed in this environment"
    env = {**os.environ, "XDG_CONFIG_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=60)


def test_once_json_prints_the_readings(tmp_path: Path) -> None:
    out = gongwatch("once", "--json", home=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    readings = {d["key"]: d for d in lines if "key" in d}
    for key in (
        "system/cpu/total",
        "system/load/1m",
        "system/memory/used",
        "system/uptime",
        "system/procs/zombies",
        "system/net/rx",
        "system/disk/read",
    ):
        assert key in readings, key
    cpu = readings["system/cpu/total"]
    assert set(cpu) >= {"key", "value", "unit", "time", "status"} and cpu["unit"] == "%"
    assert readings["system/memory/used"]["high"] == 90.0  # limits where known
    for d in lines:  # every other line names an unavailable source or an error
        assert "key" in d or ("source" in d and ({"unavailable", "error"} & set(d)))


def test_once_measures_the_cpu_instead_of_printing_a_start_up_zero(tmp_path: Path) -> None:
    # One core kept busy by a child process: the CPU share 'once' prints must show it.
    burn = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        out = gongwatch("once", "--json", home=tmp_path)
    finally:
        burn.kill()
        burn.wait()
    assert out.returncode == 0, out.stderr
    got = {d["key"]: d for d in map(json.loads, out.stdout.splitlines()) if "key" in d}
    cores = sum(1 for k in got if k.split("/")[:2] == ["system", "cpu"] and k[-1].isdigit())
    assert got["system/cpu/total"]["value"] >= 80 / cores, got["system/cpu/total"]
    assert max(got[f"system/cpu/{i}"]["value"] for i in range(cores)) >= 80
    for key in ("system/disk/read", "system/net/rx"):  # measured over two samples
        assert isinstance(got[key]["value"], float) and got[key]["status"] == "ok", got[key]


def test_once_output_replays(tmp_path: Path) -> None:
    out = gongwatch("once", "--json", home=tmp_path)
    path = tmp_path / "rec.jsonl"
    path.write_text(out.stdout)
    replay = ReplayCollector(path)
    batch = replay.poll()
    assert batch.errors == () and any(r.key == "system/cpu/total" for r in batch.readings)


def test_version(tmp_path: Path) -> None:
    out = gongwatch("--version", home=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("gongwatch ")


@pytest.mark.parametrize("where", ["before", "after"])
def test_bad_config_is_one_line_and_exit_2(tmp_path: Path, where: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[collectors.system]\ninterval = -1\n")
    args = ["--config", str(bad), "once"] if where == "before" else ["once", "--config", str(bad)]
    out = gongwatch(*args, home=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0
    assert "collectors.system.interval" in out.stderr and ":2:" in out.stderr
    assert "Traceback" not in out.stderr


def test_disabled_collector_is_not_run(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[collectors.system]\nenabled = false\n")
    out = gongwatch("once", "--json", "--config", str(cfg), home=tmp_path)
    assert out.returncode == 0
    assert "system/cpu/total" not in out.stdout


def test_replay_reports_garbage_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text((DATA / "system_readings.jsonl").read_text().splitlines()[0] + "\nnot json\n")
    batch = ReplayCollector(path).poll()
    assert len(batch.readings) == 1 and "r.jsonl:2" in batch.errors[0]


def test_a_world_readable_config_with_a_token_is_warned_about(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[collectors.system]\nenabled = false\n"
        "[[remote.serverdensity]]\nname = 'sd'\nurl = 'http://127.0.0.1:9'\n"
        "token = 'tok-9f8e7d'\ntimeout = 0.5\n"
    )
    cfg.chmod(0o644)
    out = gongwatch("once", "--config", str(cfg), home=tmp_path)
    assert out.returncode == 0
    assert "warning" in out.stderr and str(cfg) in out.stderr
    assert "tok-9f8e7d" not in out.stderr + out.stdout
    cfg.chmod(0o600)
    out = gongwatch("once", "--config", str(cfg), home=tmp_path)
    assert "warning" not in out.stderr


def test_gongwatch_with_no_command_starts_the_screen_and_quits_on_q(tmp_path: Path) -> None:
    # The one path from the engine's command line into tui/: the real app on a real terminal.
    exe = shutil.which("gongwatch", path=os.path.dirname(sys.executable))
    assert exe, "the gongwatch console script is not installed in this environment"
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path),
           "TERM": "xterm-256color"}  # fmt: skip
    proc = subprocess.Popen([exe], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    screen = b""
    try:
        deadline = time.monotonic() + 30
        while b"Quit" not in screen and time.monotonic() < deadline and proc.poll() is None:
            if select.select([master], [], [], 0.2)[0]:
                screen += os.read(master, 65536)
        assert b"Quit" in screen, screen[-500:]
        os.write(master, b"q")
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    os.read(master, 65536)
                except OSError:  # the terminal closes as the app exits
                    break
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
