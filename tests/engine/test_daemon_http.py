"""Tests the daemon's HTTP on a real Unix socket: routes, path and query parameters, JSON
bodies, kept-alive connections, and clear answers to what is wrong."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx

from engine.daemon import http

ROOT = Path(__file__).resolve().parents[2]


async def echo(request: http.Request) -> http.Response:
    body = await request.json() if request.can_read_body else None
    return http.json_response({"query": request.query, "params": request.match_info, "body": body})


async def strict(request: http.Request) -> http.Response:
    try:
        return http.json_response({"n": int(request.query.get("n", "0"))})
    except ValueError:
        raise http.HTTPBadRequest("n must be an integer") from None


async def broken(request: http.Request) -> http.Response:
    raise RuntimeError("a bug")


async def serve(socket: Path) -> http.HttpServer:
    router = http.Router()
    router.add("GET", "/v1/echo", echo)
    router.add("POST", "/v1/devices/{name}/command", echo)
    router.add("GET", "/v1/strict", strict)
    router.add("GET", "/v1/broken", broken)
    server = http.HttpServer(router, lambda: {"Gongwatch-Pid": "42"})
    await server.start_unix(str(socket))
    return server


async def test_routes_answer_over_one_kept_alive_connection(tmp_path: Path) -> None:
    socket = tmp_path / "s.sock"
    server = await serve(socket)
    transport = httpx.AsyncHTTPTransport(uds=str(socket))
    async with httpx.AsyncClient(transport=transport, base_url="http://gongwatch") as client:
        got = await client.get("/v1/echo", params={"key": "system/cpu total", "n": "3"})
        assert got.status_code == 200 and got.headers["Gongwatch-Pid"] == "42"
        assert got.json()["query"] == {"key": "system/cpu total", "n": "3"}
        sent = await client.post("/v1/devices/my%20gong/command", json={"line": "gong"})
        assert sent.json()["params"] == {"name": "my gong"}
        assert sent.json()["body"] == {"line": "gong"}
        assert (await client.get("/v1/nothing")).status_code == 404
        assert (await client.post("/v1/echo")).status_code == 405
        bad = await client.get("/v1/strict", params={"n": "x"})
        assert bad.status_code == 400 and bad.text == "n must be an integer"
        assert (await client.get("/v1/broken")).status_code == 500
        assert (await client.get("/v1/strict", params={"n": "7"})).json() == {"n": 7}
    await server.close()
    assert not socket.exists() or not await _connects(socket)


async def _connects(socket: Path) -> bool:
    try:
        _, writer = await asyncio.open_unix_connection(str(socket))
    except OSError:
        return False
    writer.close()
    return True


async def raw(socket: Path, data: bytes) -> bytes:
    reader, writer = await asyncio.open_unix_connection(str(socket))
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_what_is_not_a_request_gets_one_clear_answer(tmp_path: Path) -> None:
    socket = tmp_path / "s.sock"
    server = await serve(socket)
    assert (await raw(socket, b"garbage\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
    too_big = b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"
    assert (await raw(socket, too_big)).startswith(b"HTTP/1.1 413 ")
    chunked = b"POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert (await raw(socket, chunked)).startswith(b"HTTP/1.1 501 ")
    closing = b"GET /v1/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = await raw(socket, closing)  # read() returns: the server closed the connection
    assert answer.startswith(b"HTTP/1.1 200 ") and b"Connection: close" in answer
    await server.close()


async def slow(request: http.Request) -> http.Response:
    await asyncio.sleep(30)
    return http.json_response({})


async def test_closing_with_connections_open_ends_them_quietly(tmp_path: Path) -> None:
    """An idle kept-alive connection and a request past its shutdown time end with the server,
    and asyncio reports no error for either (it once logged a CancelledError traceback)."""
    socket = tmp_path / "s.sock"
    router = http.Router()
    router.add("GET", "/v1/echo", echo)
    router.add("GET", "/v1/slow", slow)
    server = http.HttpServer(router, shutdown_timeout=0.1)
    await server.start_unix(str(socket))
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    idle_reader, idle_writer = await asyncio.open_unix_connection(str(socket))
    idle_writer.write(b"GET /v1/echo HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await idle_reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200 ")
    busy_reader, busy_writer = await asyncio.open_unix_connection(str(socket))
    busy_writer.write(b"GET /v1/slow HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(0.1)
    await server.close()
    for _ in range(10):
        await asyncio.sleep(0.02)
    await asyncio.wait_for(busy_reader.read(), 5)
    idle_writer.close()
    busy_writer.close()
    assert errors == []


def test_the_daemon_does_not_load_an_http_framework() -> None:
    """The daemon's server is asyncio's streams and h11: aiohttp alone would be about 15 MiB,
    and an HTTP client (httpx, with the rich it loads) about 8 more, which a server never uses."""
    code = (
        "import sys\nimport engine.daemon, engine.daemon.server\n"
        "print([m for m in ('aiohttp', 'httpx', 'rich') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
