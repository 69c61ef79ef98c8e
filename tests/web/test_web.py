"""Tests ``gongwatch web``: a real server, a real headless Chromium, the real screen."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from engine.web_cli import app_command
from tests.conftest import require_tool
from tests.daemon_process import DaemonProcess
from tests.web.browser import chromium

WAIT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the web server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {WAIT} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(WAIT)
        raise


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "gongwatch.toml"
    path.write_text("[collectors.system]\ninterval = 0.5\n")
    return path


def start(
    args: list[str], tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a server with a home, configuration and runtime folder of its own (no daemon of
    this machine's is found there) unless ``env`` says otherwise."""
    private = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    env = env or {**os.environ, **private, "XDG_RUNTIME_DIR": str(tmp_path)}
    log = (tmp_path / "web.log").open("wb")
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)


async def test_a_browser_tab_shows_the_daemon_and_stopping_the_server_leaves_it_running(
    tmp_path: Path,
) -> None:
    sources = "[collectors.system]\ninterval = 0.5\n[collectors.sensors]\nenabled = false\n"
    with DaemonProcess(sources + "[collectors.smart]\nenabled = false\n") as daemon:
        daemon.start()
        port = free_port()
        argv = [sys.executable, "-m", "engine.cli", "--config", str(daemon.config_path)]
        server = start([*argv, "web", "--port", str(port)], tmp_path, env=daemon.env)
        try:
            wait_listening(port, server)
            async with chromium(require_tool("chromium")) as page:
                await page.send("Page.navigate", url=f"http://127.0.0.1:{port}/")
                await page.wait_text("Overview")
                await page.wait_text(f"attached to daemon pid {daemon.proc.pid}")
                await page.wait_text("system/load")
                shot = await page.send("Page.captureScreenshot", format="png")
                (tmp_path / "attached.png").write_bytes(base64.b64decode(shot["data"]))
                screens = psutil.Process(server.pid).children(recursive=True)
                assert [p.cmdline()[-2:] for p in screens] == [["run", "--attach-only"]]
                before = len(page.received)
                await page.focus_terminal()
                await page.press("6")
                await page.wait_text("rule", before)  # the Alerts pane's title
        finally:
            stop(server)
        assert not psutil.wait_procs(screens, timeout=WAIT)[1], "a screen outlived the server"
        # The daemon keeps watching: a browser was only ever a viewer.
        assert daemon.proc.poll() is None


@pytest.fixture
def embedded_server(config: Path, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The web server, its tabs running the screen with an engine of their own: the server
    alone, with no daemon in the way (``gongwatch web`` itself only runs attach-only screens).
    """
    port = free_port()
    command = app_command(str(config)).replace(" run --attach-only", " run")
    code = f"from tui.web import serve; serve('127.0.0.1', {port}, None, {command!r})"
    proc = start([sys.executable, "-c", code], tmp_path)
    try:
        wait_listening(port, proc)
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT)


async def test_a_browser_tab_shows_live_data_switches_panes_and_leaves_nothing(
    embedded_server: tuple[int, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    port, server = embedded_server
    async with chromium(require_tool("chromium")) as page:
        await page.send("Page.navigate", url=f"http://127.0.0.1:{port}/")
        # The Overview pane's title, then its live groups, reach the browser's terminal.
        await page.wait_text("Overview")
        await page.wait_text("system/load")
        await page.wait_text("metrics ·")
        shot = await page.send("Page.captureScreenshot", format="png")
        png = base64.b64decode(shot["data"])
        (tmp_path / "overview.png").write_bytes(png)
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
        dom = await page.send("Runtime.evaluate", expression="document.body.outerHTML")
        assert "/ws" in dom["result"]["value"]  # the page links the server's websocket
        screens = psutil.Process(server.pid).children(recursive=True)
        assert any("engine.cli" in " ".join(p.cmdline()) for p in screens), screens
        before = len(page.received)
        await page.focus_terminal()
        await page.press("6")
        await page.wait_text("0 actions · 0 rules", before)  # the Alerts pane's title
    stop(server)
    _, alive = psutil.wait_procs(screens, timeout=WAIT)
    assert not alive, f"left running after SIGTERM: {alive}"
