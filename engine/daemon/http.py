"""Provides the daemon's HTTP/1.1 (its socket, and TCP): requests, answers, routes and a server on
asyncio's streams. The protocol itself (parsing, framing, keep-alive, what may follow what) is
h11's, the small, well-kept HTTP/1.1 state machine httpx is built on; what is here is only the
routing the daemon needs (query strings, one path parameter, JSON bodies). A web framework
would cost the daemon about 15 MiB of memory (a fifth of it) for features a local socket never
uses."""

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

import h11

log = logging.getLogger("gongwatch")

MAX_HEAD = 64 * 1024
"""Bytes a request line and its headers may take."""
MAX_BODY = 1024 * 1024
"""Bytes a request body may take (a command line is a few dozen)."""
READ_SIZE = 64 * 1024
"""Bytes read from a connection at a time."""


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
        self._closing = False
        """Set by ``close``: the cancellation a connection's task then gets is the server's."""

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
        self._closing = True
        for task in self._idle:
            task.cancel()
        if self._busy:
            await asyncio.wait(set(self._busy), timeout=self.shutdown_timeout)
        for task in self._busy | self._idle:
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        try:
            while True:
                self._idle.add(task)
                try:
                    request = await read_request(conn, reader)
                finally:
                    self._idle.discard(task)
                if request is None:
                    return
                self._busy.add(task)
                try:
                    response = await self._answer(request)
                    writer.write(self._encode(conn, response))
                    await writer.drain()
                finally:
                    self._busy.discard(task)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return  # either side asked to close
                conn.start_next_cycle()
        except BadRequest as exc:
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                answer = Response(exc.status, exc.text.encode(), "text/plain")
                with contextlib.suppress(h11.LocalProtocolError):
                    writer.write(self._encode(conn, answer, close=True))
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return  # the client went away: nothing to answer
        except asyncio.CancelledError:
            # The server closing ends its connections; a task that ends cancelled makes
            # asyncio's stream callback log a traceback, so it ends as a closed connection.
            if not self._closing:
                raise
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

    def _encode(self, conn: h11.Connection, response: Response, close: bool = False) -> bytes:
        """The answer's bytes, framed by h11 (which closes the connection when the request
        asked to)."""
        headers = self.headers() | response.headers
        if response.status != 204:
            headers["Content-Type"] = response.content_type
            headers["Content-Length"] = str(len(response.body))
        if close:
            headers["Connection"] = "close"
        phrase = HTTPStatus(response.status).phrase.encode()
        head = h11.Response(
            status_code=response.status, headers=list(headers.items()), reason=phrase
        )
        out = conn.send(head)
        if response.status != 204 and response.body:
            out += conn.send(h11.Data(data=response.body))
        return out + conn.send(h11.EndOfMessage())


async def read_request(conn: h11.Connection, reader: asyncio.StreamReader) -> Request | None:
    """Read one request through h11; None when the client closed the connection between
    requests.

    Raises:
        BadRequest: the request is malformed, too large, or sends its body in chunks.
    """
    head: h11.Request | None = None
    body = bytearray()
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise BadRequest(exc.error_status_hint, str(exc) or "bad request") from None
        if event is h11.NEED_DATA:
            data = await reader.read(READ_SIZE)
            if not data and head is None and not conn.trailing_data[0]:
                return None
            try:
                conn.receive_data(data)
            except h11.RemoteProtocolError as exc:
                raise BadRequest(exc.error_status_hint, str(exc) or "bad request") from None
            continue
        if isinstance(event, h11.ConnectionClosed):
            if head is None:
                return None
            raise BadRequest(400, "incomplete request")
        if isinstance(event, h11.Request):
            head = event
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in head.headers}
            if "chunked" in headers.get("transfer-encoding", "").lower():
                raise BadRequest(501, "chunked bodies are not read")
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                raise BadRequest(400, "bad Content-Length") from None
            if not 0 <= length <= MAX_BODY:
                raise BadRequest(413, "body too large")
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            url = urlsplit(head.target.decode("latin-1"))
            return Request(
                head.method.decode("ascii"),
                unquote(url.path),
                dict(parse_qsl(url.query)),
                headers,
                bytes(body),
            )
