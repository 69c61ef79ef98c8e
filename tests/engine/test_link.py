"""Tests the connection an attached screen polls a daemon over: kept open between requests,
opened again when the daemon closed it, and one clear error when nothing answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from engine.link import Connection, LinkError
from tests.daemon_process import QUIET_SOURCES, DaemonProcess


class Handler(BaseHTTPRequestHandler):
    """Answers with the request's path, its token and how many requests its connection
    carried; ``/close`` closes the connection after answering, ``/slow`` waits."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.served += 1  # type: ignore[attr-defined]
        self.carried = getattr(self, "carried", 0) + 1
        if self.path.startswith("/slow"):
            time.sleep(1.0)
        body = json.dumps({
            "path": self.path, "token": self.headers.get("Authorization"),
            "carried": self.carried,
        }).encode()  # fmt: skip
        code = 404 if self.path.startswith("/missing") else 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.path.startswith("/close"):
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.served = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def url(httpd: ThreadingHTTPServer) -> str:
    host, port = httpd.server_address[:2]
    return f"http://{host!s}:{port}"


def test_requests_share_one_connection_and_carry_the_query_and_token(
    server: ThreadingHTTPServer,
) -> None:
    link = Connection(url(server), 2.0, token="t0k")
    try:
        answers = [link.get("/v1/changes", {"since_version": 3, "cells": 1}) for _ in range(3)]
        first = answers[0].json()
        assert first["path"] == "/v1/changes?since_version=3&cells=1"
        assert first["token"] == "Bearer t0k"
        assert [a.json()["carried"] for a in answers] == [1, 2, 3]  # kept open
        assert answers[0].headers["content-type"] == "application/json"
        with pytest.raises(LinkError, match="HTTP 404"):
            link.get("/missing").raise_for_status()
    finally:
        link.close()


def test_a_connection_the_server_closed_is_opened_again(server: ThreadingHTTPServer) -> None:
    link = Connection(url(server), 2.0)
    try:
        assert link.get("/close").json()["carried"] == 1
        assert link.get("/again").json()["carried"] == 1  # a new connection
        assert server.served == 2  # type: ignore[attr-defined]
    finally:
        link.close()


def test_no_answer_is_one_error_that_says_why(server: ThreadingHTTPServer, tmp_path: Path) -> None:
    with pytest.raises(LinkError, match="No such file"):
        Connection(tmp_path / "none.sock", 1.0).get("/v1/status")
    link = Connection(url(server), 0.3)
    try:
        with pytest.raises(LinkError, match=r"no answer in 0\.3 s"):
            link.get("/slow")
        assert link.get("/fast").json()["path"] == "/fast"  # the next request connects anew
    finally:
        link.close()


def test_a_daemon_restarted_between_two_polls_answers_the_next() -> None:
    with DaemonProcess(QUIET_SOURCES) as daemon:
        daemon.start()
        link = Connection(daemon.socket, 3.0)
        try:
            first = link.get("/v1/status").raise_for_status()
            assert first.json()["pid"] == int(first.headers["gongwatch-pid"])
            assert daemon.stop() == 0
            with pytest.raises(LinkError):
                link.get("/v1/status")
            daemon.start()
            again = link.get("/v1/status").raise_for_status().json()
            assert again["pid"] != first.json()["pid"]
        finally:
            link.close()
        assert daemon.stop() == 0
