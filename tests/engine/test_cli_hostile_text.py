"""Tests that ``gongwatch once`` prints text from outside with its control characters made
visible: a Server Density node name holding an escape sequence and a newline must neither
drive the terminal nor break its line, in the plain output or in JSON lines."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.remote_server import NODES, TOKEN, RemoteServer

EVIL = "New York\x1b]0;pwned\x1b\\\nUSA\x9b2J\u2028"


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with RemoteServer() as srv:
        nodes = [dict(n, name=EVIL) if n["id"] == "nyc" else n for n in NODES]
        srv.override["/service-monitor/nodes"] = json.dumps(nodes)
        yield srv


def once(server: RemoteServer, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[collectors.system]\nenabled = false\n[collectors.sensors]\nenabled = false\n"
        "[collectors.smart]\nenabled = false\n"
        f'[[remote.serverdensity]]\nname = "sd"\nurl = "{server.url}"\ntoken_env = "SD_T"\n'
        'services = ["web"]\n'
    )
    exe = shutil.which("gongwatch", path=os.path.dirname(sys.executable))
    assert exe
    env = {**os.environ, "SD_T": TOKEN, "XDG_CONFIG_HOME": str(tmp_path)}
    return subprocess.run(
        [exe, "once", "--config", str(cfg), *args],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


def test_plain_output_shows_controls_as_text(server: RemoteServer, tmp_path: Path) -> None:
    out = once(server, tmp_path)
    assert out.returncode == 0, out.stderr
    for bad in ("\x1b", "\x9b", "\u2028"):
        assert bad not in out.stdout
    line = next(
        x for x in out.stdout.splitlines() if x.startswith("remote/web/new-york") and "/error" in x
    )
    assert "down from New York␛]0;pwned␛\\␊USA\\x9b2J\\u2028 (HTTP 503)" in line


def test_json_lines_escape_every_control(server: RemoteServer, tmp_path: Path) -> None:
    out = once(server, tmp_path, "--json")
    assert out.returncode == 0, out.stderr
    for bad in ("\x1b", "\x9b", "\u2028"):
        assert bad not in out.stdout
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    errors = [r for r in rows if r.get("key", "").endswith("/error")]
    assert errors and errors[0]["text"] == f"down from {EVIL} (HTTP 503)"
