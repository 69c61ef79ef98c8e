"""Provides the daemon's HTTP/1.1 (its socket, and TCP): requests, answers, routes and a server on
asyncio's streams, with no more than the routes need (query strings, one path parameter, JSON
bodies, kept-alive connections). An HTTP framework would cost the daemon about 15 MiB of
memory (a fifth of it) for features a local socket never uses."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger("gongwatch")

MAX_HEAD = 64 * 1024
"""Bytes a request line and its headers may take."""
MAX_BODY = 1024 * 1024
"""Bytes a request body may take (a command line is a few dozen)."""


@dataclass(slots=True)
class Request:
    """One request, read whole."""

    method: str
    path: str
    query: dict[str, str]
    """The query string's parameters (the last of a repeated name)."""
    headers: dict[str, str]
    """Header names in lower case."""
    body: bytes = b""
    match_info: dict[str, str] = field(default_factory=dict)
    """The path's parameters, by the names the route gave them (``{name}``)."""

    @property
    def can_read_body(self) -> bool:
        """Whether the request has a body."""
        return bool(self.body)

    async def json(self) -> Any:
        """The body as JSON.

        Raises:
            ValueError: the body is not JSON.
        """
        return json.loads(self.body)


@dataclass(slots=True)
class Response:
    """One answer."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(data: Any, status: int = 200) -> Response:
    """An answer carrying ``data`` as JSON."""
    return Response(status, json.dumps(data).encode())


class HTTPBadRequest(Exception):
    """Raised by a handler: the request is wrong; the text says how (a 400 answer)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


Handler = Callable[[Request], Awaitable[Response]]


class Router:
    """Routes by method and path; a path part written ``{name}`` matches any one part."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, list[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Route ``method`` requests whose path matches ``pattern`` to ``handler``."""
        self._routes.append((method, pattern.strip("/").split("/"), handler))

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], int]:
        """Return the handler, the path's parameters, and the status when there is none."""
        parts = path.strip("/").split("/")
        status = 404
        for want, pattern, handler in self._routes:
            params = _match(pattern, parts)
            if params is None:
                continue
            if want == method:
                return handler, params, 200
            status = 405
        return None, {}, status


def _match(pattern: list[str], parts: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(parts):
        return None
    params = {}
    for want, got in zip(pattern, parts, strict=True):
        if want.startswith("{") and want.endswith("}"):
            params[want[1:-1]] = unquote(got)
        elif want != got:
            return None
    return params


class BadRequest(Exception):
    """The bytes on the connection are not a request this server reads."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


class HttpServer:
    """Serves a router on a Unix socket, one task a connection, connections kept alive."""

    def __init__(
        self,
        router: Router,
        headers: Callable[[], dict[str, str]] = dict,
        *,
        guard: Callable[[Request], Response | None] | None = None,
        shutdown_timeout: float = 2.0,
    ) -> None:
        """Args:
        router: the routes.
        headers: called for the headers every answer carries.
        guard: looks at every request first; what it returns is the answer instead (a 401).
        shutdown_timeout: seconds a request still running at ``close`` gets.
        """
        self.router, self.headers, self.shutdown_timeout = router, headers, shutdown_timeout
        self.guard = guard
        self._server: asyncio.AbstractServer | None = None
        self._idle: set[asyncio.Task[None]] = set()
        self._busy: set[asyncio.Task[None]] = set()

    async def start_unix(self, path: str) -> None:
        """Listen on a Unix socket at ``path``."""
        self._server = await asyncio.start_unix_server(self._serve, path, limit=MAX_HEAD)

    async def start_tcp(self, host: str, port: int) -> tuple[str, int]:
        """Listen on TCP at ``host``:``port`` (0: any free port); return the address bound.

        Raises:
            OSError: the address is taken or cannot be bound.
        """
        self._server = await asyncio.start_server(self._serve, host, port, limit=MAX_HEAD)
        bound = self._server.sockets[0].getsockname()
        return str(bound[0]), int(bound[1])

    async def close(self) -> None:
        """Stop listening, end the idle connections, give running requests their time."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in self._idle:
            task.cancel()
        if self._busy:
            await asyncio.wait(set(self._busy), timeout=self.shutdown_timeout)
        for task in self._busy | self._idle:
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        try:
            while True:
                self._idle.add(task)
                try:
                    request = await read_request(reader)
                finally:
                    self._idle.discard(task)
                if request is None:
                    return
                self._busy.add(task)
                try:
                    response = await self._answer(request)
                    keep = request.headers.get("connection", "").lower() != "close"
                    writer.write(self._encode(response, keep))
                    await writer.drain()
                finally:
                    self._busy.discard(task)
                if not keep:
                    return
        except BadRequest as exc:
            writer.write(self._encode(Response(exc.status, exc.text.encode(), "text/plain"), False))
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return  # the client went away: nothing to answer
        finally:
            writer.close()

    async def _answer(self, request: Request) -> Response:
        refused = self.guard(request) if self.guard is not None else None
        if refused is not None:
            return refused
        handler, params, status = self.router.match(request.method, request.path)
        if handler is None:
            return Response(status, HTTPStatus(status).phrase.encode(), "text/plain")
        request.match_info = params
        try:
            return await handler(request)
        except HTTPBadRequest as exc:
            return Response(400, exc.text.encode(), "text/plain")
        except Exception:  # a handler's bug is one 500 and a log line; the daemon serves on
            log.exception("%s %s failed", request.method, request.path)
            return Response(500, b"internal error", "text/plain")

    def _encode(self, response: Response, keep: bool) -> bytes:
        status = HTTPStatus(response.status)
        head = [f"HTTP/1.1 {status.value} {status.phrase}"]
        if response.status != 204:
            head += [
                f"Content-Type: {response.content_type}",
                f"Content-Length: {len(response.body)}",
            ]
        head += [f"{k}: {v}" for k, v in (self.headers() | response.headers).items()]
        if not keep:
            head.append("Connection: close")
        body = b"" if response.status == 204 else response.body
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request; None when the client closed the connection between requests.

    Raises:
        BadRequest: the request is malformed, too large, or sends its body in chunks.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadRequest(400, "incomplete request") from None
    except asyncio.LimitOverrunError:
        raise BadRequest(431, "request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ")
    except ValueError:
        raise BadRequest(400, "bad request line") from None
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest(501, "chunked bodies are not read")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise BadRequest(400, "bad Content-Length") from None
    if not 0 <= length <= MAX_BODY:
        raise BadRequest(413, "body too large")
    body = await reader.readexactly(length) if length else b""
    url = urlsplit(target)
    return Request(method, unquote(url.path), dict(parse_qsl(url.query)), headers, body)
