"""Provides a headless Chromium driven over the DevTools protocol, for the web tests."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-port=0", "--window-size=1200,800",
]  # fmt: skip
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
WAIT = 30.0
"""Seconds any one wait on the browser may take."""


class Page:
    """One tab, over the DevTools protocol: commands, and the websocket frames it receives."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.received = bytearray()
        """What the page's websockets received, escape sequences removed: the screen's text."""
        self.arrived = asyncio.Event()
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data:
                self.replies.pop(data["id"]).set_result(data)
            elif data.get("method") == "Network.webSocketFrameReceived":
                response = data["params"]["response"]
                payload = response["payloadData"]
                raw = base64.b64decode(payload) if response["opcode"] == 2 else payload.encode()
                self.received += ANSI.sub(b"", raw)
                self.arrived.set()

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Run one DevTools command and return its result."""
        self.next_id += 1
        reply = self.replies[self.next_id] = asyncio.get_running_loop().create_future()
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        data = await asyncio.wait_for(reply, WAIT)
        assert "error" not in data, data
        return data["result"]  # type: ignore[no-any-return]

    async def wait_text(self, text: str, start: int = 0) -> None:
        """Wait until ``text`` was received after offset ``start`` of the screen's text."""
        async with asyncio.timeout(WAIT):
            while text.encode() not in self.received[start:]:
                self.arrived.clear()
                await self.arrived.wait()

    async def focus_terminal(self) -> None:
        """Click the middle of the page, as a user would before typing into the terminal."""
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent", type=kind, x=600, y=400, button="left", clickCount=1
            )

    async def press(self, key: str) -> None:
        """Press and release one printable key, as a keyboard would."""
        await self.send("Input.dispatchKeyEvent", type="keyDown", key=key, text=key)
        await self.send("Input.dispatchKeyEvent", type="keyUp", key=key)


@asynccontextmanager
async def chromium(binary: str) -> AsyncIterator[Page]:
    """Run a headless Chromium and yield its first tab; the browser is stopped afterwards."""
    # Chromium's helpers may still be writing the profile as it exits: do not fail on them.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = await asyncio.to_thread(
            subprocess.Popen, [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            endpoint = await asyncio.wait_for(asyncio.to_thread(_devtools_port, proc), WAIT)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{endpoint}/json/list") as reply:
                    tabs = await reply.json()
                url = next(t for t in tabs if t["type"] == "page")["webSocketDebuggerUrl"]
                async with http.ws_connect(url, max_msg_size=0) as ws:
                    page = Page(ws)
                    await page.send("Network.enable")
                    await page.send("Page.enable")
                    yield page
                    page.reader.cancel()
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _devtools_port(proc: subprocess.Popen[str]) -> int:
    assert proc.stderr is not None
    for line in proc.stderr:
        if match := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line):
            # Keep reading what it says, so a full pipe never stalls it.
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return int(match.group(1))
    raise RuntimeError(f"chromium exited ({proc.wait()}) before it listened")
