"""Provides ``Connection``: one HTTP/1.1 connection kept open to a daemon, for the requests an
attached screen makes every second.

An httpx client costs about 0.8 ms of CPU a request (its request and response models, its
connection pool, its transports), as much as decoding a second's changes of 500 series. This
asks the same questions for a fifth of that: h11 writes each request and frames each answer,
on a socket kept open between requests and opened again when the daemon has closed it.
"""

from __future__ import annotations

import json
import socket
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import h11

from engine.config_daemon import TOKEN_HEADER

READ_SIZE = 256 * 1024
"""Bytes asked of the socket at a time (a whole snapshot of 500 metrics is about 80 KiB)."""


class LinkError(Exception):
    """The daemon did not answer, or not in HTTP, or with an error status."""


class Answer:
    """One answer: its status, headers (names in lower case) and body."""

    __slots__ = ("body", "headers", "status_code")

    def __init__(self, status_code: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code, self.headers, self.body = status_code, headers, body

    def json(self) -> Any:
        """The body, decoded.

        Raises:
            ValueError: it is not JSON.
        """
        return json.loads(self.body)

    def raise_for_status(self) -> Answer:
        """Return the answer; raise ``LinkError`` when its status is an error."""
        if self.status_code >= 400:
            raise LinkError(f"the daemon answered HTTP {self.status_code}")
        return self


class Connection:
    """GET requests to one daemon, by its Unix socket or its ``http(s)://host:port``."""

    def __init__(self, target: Path | str, timeout: float, token: str | None = None) -> None:
        """Args:
        target: the daemon's socket, or its URL.
        timeout: seconds to wait for the daemon to connect and, then, for each read.
        token: sent as ``Bearer`` to a daemon reached by URL.
        """
        self.target, self.timeout = target, timeout
        url = urlsplit(str(target)) if str(target).startswith(("http://", "https://")) else None
        self._url = url
        host = url.netloc if url is not None else "gongwatch"
        self._prefix = url.path.rstrip("/") if url is not None else ""
        self._headers = [("Host", host), ("Accept", "application/json")]
        if token and url is not None:
            self._headers.append((TOKEN_HEADER, f"Bearer {token}"))
        self._sock: socket.socket | None = None
        self._http = h11.Connection(h11.CLIENT)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Answer:
        """Ask the daemon for ``path``; a connection the daemon has closed since the last
        request is opened again once.

        Raises:
            LinkError: no answer, or not one in HTTP.
        """
        target = self._prefix + path + (f"?{urlencode(params)}" if params else "")
        while True:
            fresh = self._sock is None
            try:
                if fresh:
                    self._open()
                return self._exchange(target)
            except TimeoutError:
                self.close()
                raise LinkError(f"no answer in {self.timeout:g} s") from None
            except (OSError, h11.ProtocolError) as exc:
                self.close()
                if fresh:
                    raise LinkError(str(exc) or type(exc).__name__) from None
                # A kept connection the daemon closed meanwhile (a restart): once more, anew.

    def close(self) -> None:
        """Close the connection (the next request opens another)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._http = h11.Connection(h11.CLIENT)

    def _open(self) -> None:
        url = self._url
        if url is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(str(self.target))
            except OSError:
                sock.close()
                raise
        else:
            port = url.port or (443 if url.scheme == "https" else 80)
            sock = socket.create_connection((url.hostname or "", port), self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if url.scheme == "https":
                context = ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=url.hostname)
        self._sock = sock

    def _exchange(self, target: str) -> Answer:
        sock, http = self._sock, self._http
        assert sock is not None
        request = h11.Request(method="GET", target=target, headers=self._headers)
        sock.sendall(http.send(request) + (http.send(h11.EndOfMessage()) or b""))
        status, headers, body = 0, {}, bytearray()
        while True:
            event = http.next_event()
            if event is h11.NEED_DATA:
                http.receive_data(sock.recv(READ_SIZE))
            elif isinstance(event, h11.Response):
                status = event.status_code
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in event.headers}
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("the daemon closed the connection")
        if http.our_state is h11.DONE and http.their_state is h11.DONE:
            http.start_next_cycle()
        else:
            self.close()  # the daemon said it closes: the next request connects again
        return Answer(status, headers, bytes(body))
