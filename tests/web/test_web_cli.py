"""Tests ``gongwatch web`` as users start it: where it may listen, its token, its origin check,
and its tabs that only attach to a daemon."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp
import psutil
import pytest

from engine.web_cli import check_listen
from tests.web.browser import ANSI
from tests.web.test_web import WAIT, free_port, start, stop, wait_listening


def gongwatch() -> list[str]:
    script = shutil.which("gongwatch", path=str(Path(sys.executable).parent))
    assert script is not None, "the console script is installed with the package"
    return [script]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--host", "0.0.0.0"], "refusing to listen on 0.0.0.0 without --token"),
        (["--host", "192.168.1.5"], "refusing to listen on 192.168.1.5 without --token"),
        (["--host", "::"], "refusing to listen on :: without --token"),
        (["--host", "0.0.0.0", "--token", " "], "--token must not be empty"),
        (["--port", "0"], "port 0 is outside 1-65535"),
        (["--port", "65536"], "port 65536 is outside 1-65535"),
        (["--port", "http"], "not a port number: 'http'"),
    ],
)
def test_refused_with_one_line_and_status_2(args: list[str], line: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [*gongwatch(), "web", *args], capture_output=True, text=True, timeout=WAIT, cwd=tmp_path
    )
    assert done.returncode == 2
    assert line in done.stderr
    assert done.stdout == ""


def test_loopback_needs_no_token() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        assert check_listen(host, None) is None
    assert check_listen("0.0.0.0", "s3cret") is None


@pytest.fixture
def tokened(tmp_path: Path) -> object:
    port = free_port()
    proc = start(
        [*gongwatch(), "web", "--host", "0.0.0.0", "--port", str(port), "--token", "s3cret"],
        tmp_path,
    )
    try:
        wait_listening(port, proc)
        yield port, proc
    finally:
        if proc.poll() is None:
            stop(proc)


async def test_every_route_needs_the_token_and_the_first_page_sets_a_cookie(
    tokened: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, _ = tokened
    base = f"http://127.0.0.1:{port}"
    timeout = aiohttp.ClientTimeout(total=WAIT)
    # A browser keeps a cookie from 127.0.0.1; aiohttp's jar only when told it may.
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=timeout, cookie_jar=jar) as http:
        for path in ("/", "/ws", "/static/js/textual.js", "/?token=wrong"):
            async with http.get(base + path) as reply:
                assert reply.status == 401, path
        async with http.get(base + "/?token=s3cret") as reply:
            assert reply.status == 200
            page = await reply.text()
        # The page's websocket is the address the browser used, not the one listened on.
        assert f"ws://127.0.0.1:{port}/ws" in page
        async with http.get(base + "/static/js/textual.js") as reply:
            assert reply.status == 200  # the cookie stands for the token now
    async with aiohttp.ClientSession(timeout=timeout) as http:
        bearer = {"Authorization": "Bearer s3cret"}
        async with http.get(base + "/static/js/textual.js", headers=bearer) as reply:
            assert reply.status == 200


async def test_a_page_from_another_site_may_not_open_the_websocket(
    tokened: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, _ = tokened
    url = f"http://127.0.0.1:{port}/ws?token=s3cret"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url, headers={"Origin": "http://evil.example"})
        assert refused.value.status == 403


async def test_a_tab_never_runs_an_engine_of_its_own(tmp_path: Path) -> None:
    port = free_port()
    proc = start([*gongwatch(), "web", "--port", str(port)], tmp_path)
    try:
        wait_listening(port, proc)
        url = f"http://127.0.0.1:{port}/ws?width=200&height=20"
        screen = bytearray()
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http,
            http.ws_connect(url) as ws,
            asyncio.timeout(WAIT),
        ):
            # The screen finds no daemon and says so in the tab.
            while b"no daemon running" not in screen:
                message = await ws.receive()
                assert message.type == aiohttp.WSMsgType.BINARY, message
                screen += ANSI.sub(b"", message.data)
            screens = psutil.Process(proc.pid).children(recursive=True)
            assert [p.cmdline()[-2:] for p in screens] == [["run", "--attach-only"]]
    finally:
        stop(proc)
    assert "no daemon running" in (tmp_path / "web.log").read_text()
    assert proc.returncode == 0
    assert not psutil.wait_procs(screens, timeout=WAIT)[1], "a screen outlived the server"
