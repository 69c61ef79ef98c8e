"""Provides a real HTTP server on 127.0.0.1 for the remote tests: Server Density-style routes and
our own check targets, with behaviours the tests switch at run time."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "s3cr3t-T0KEN+/xyz"
"""The token the server accepts; odd characters so URL-encoded leaks show too."""

SERVICES: list[dict[str, Any]] = [
    {
        "_id": "s-web",
        "name": "web",
        "checkUrl": "https://web.example/",
        "slowThreshold": 500,
        "checkLocations": ["syd", "lon", "nyc"],
        "currentStatus": "down",
    },
    {
        "_id": "s-shop",
        "name": "Shop Front",
        "checkUrl": "https://shop.example/",
        "slowThreshold": 400,
        "checkLocations": ["syd", "fra"],
        "currentStatus": "up",
    },
    {
        "_id": "s-bad",
        "name": "broken",
        "checkUrl": "https://bad.example/",
        "slowThreshold": 400,
        "checkLocations": ["syd"],
        "currentStatus": "up",
    },
    {
        "_id": "s-hang",
        "name": "stuck",
        "checkUrl": "https://stuck.example/",
        "slowThreshold": 400,
        "checkLocations": ["lon"],
        "currentStatus": "up",
    },
]
"""The inventory: web has an up, a slow and a down location; broken answers malformed JSON;
stuck never answers."""

LAST: dict[str, Any] = {
    "s-web": [
        {"location": "syd", "status": "up", "code": 200, "time": 0.12, "rtt": 0.1},
        {"location": "lon", "status": "up", "code": 200, "time": 0.9, "rtt": 0.8},
        {"location": "nyc", "status": "down", "code": 503, "time": 1.5, "rtt": 1.4},
    ],
    "s-shop": [
        {"location": "syd", "status": "up", "code": 200, "time": 0.2, "rtt": 0.2},
        {"location": "fra", "status": "up", "code": 200, "time": 0.3, "rtt": 0.3},
    ],
    "s-bad": "malformed",
    "s-hang": "hang",
}
"""``/service-monitor/last/{id}`` answers: a list of results, or a behaviour."""

NODES = [
    {"id": "syd", "name": "Sydney, Australia"},
    {"id": "lon", "name": "London, UK"},
    {"id": "nyc", "name": "New York, USA"},
    {"id": "fra", "name": "Frankfurt, Germany"},
]


class _Handler(BaseHTTPRequestHandler):
    server: RemoteServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the request line holds the token, and the tests grep all output."""

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        self.server.hits[path] += 1
        self.server.cookies[path] = self.headers.get("Cookie")
        mode = self.server.override.get(path)
        if path.startswith("/check/"):
            return self._check(path, mode)
        if parse_qs(parts.query).get("token") != [self.server.token]:
            return self._send(401, b'{"message": "invalid token"}')
        if path in self.server.bodies:
            return self._send(200, self.server.bodies[path], "application/json")
        if mode is not None:
            return self._behave(mode)
        if path == "/inventory/services":
            return self._json(SERVICES)
        if path == "/service-monitor/nodes":
            return self._json(NODES)
        if path.startswith("/service-monitor/last/"):
            answer = LAST.get(path.rsplit("/", 1)[-1])
            if isinstance(answer, str):
                return self._behave(answer)
            if answer is not None:
                return self._json(answer)
        self._send(404, b'{"message": "not found"}')

    def _check(self, path: str, mode: str | None) -> None:
        if mode is not None:
            return self._behave(mode)
        if path == "/check/ok":
            return self._send(200, b"ok")
        if path == "/check/cookie":
            return self._send(200, b"have one", cookie="session=abc123; Path=/")
        if path == "/check/slow":
            time.sleep(self.server.slow_delay)
            return self._send(200, b"slow but fine")
        if path == "/check/hang":
            return self._behave("hang")
        if path.startswith("/check/status/"):
            return self._send(int(path.rsplit("/", 1)[-1]), b"as asked")
        self._send(404, b"not found")

    def _behave(self, mode: str) -> None:
        if mode.startswith("delay:"):
            _, seconds, then = mode.split(":", 2)
            self.server.release.wait(float(seconds))
            return self._behave(then)
        if mode == "hang":
            self.server.release.wait(30.0)
            self.close_connection = True
        elif mode == "malformed":
            self._send(200, b'[{"location": "syd", "status": ')
        elif mode.isdigit():
            self._send(int(mode), b'{"message": "as asked"}')
        else:
            self._json(json.loads(mode))

    def _json(self, data: Any) -> None:
        self._send(200, json.dumps(data).encode(), "application/json")

    def _send(
        self, code: int, body: bytes, ctype: str = "text/plain", cookie: str | None = None
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if cookie is not None:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class RemoteServer(ThreadingHTTPServer):
    """The test server; use as a context manager. ``url`` is its base URL."""

    daemon_threads = True
    request_queue_size = 128
    """Connections waiting to be accepted, as a real server's (socketserver's default of 5
    drops most of fifty checks that connect at once, and they time out instead)."""

    def __init__(self, token: str = TOKEN, slow_delay: float = 0.3) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.token = token
        self.slow_delay = slow_delay
        """Seconds ``/check/slow`` waits before it answers."""
        self.override: dict[str, str] = {}
        """Path to behaviour: ``hang``, ``malformed``, a status code, a JSON answer, or
        ``delay:SECONDS:`` followed by one of those."""
        self.bodies: dict[str, bytes] = {}
        """Path to a body served as it is, with 200 (for JSON no encoder would write)."""
        self.hits: Counter[str] = Counter()
        """Requests per path."""
        self.cookies: dict[str, str | None] = {}
        """The Cookie header of the last request per path (None: it sent none)."""
        self.release = threading.Event()
        """Set on stop: lets hanging handlers go."""
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.02,), name="remote-server", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> RemoteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
        self._thread.join(5.0)
