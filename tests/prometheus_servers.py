"""Provides Debian's Prometheus and node exporter for tests: each started on a free 127.0.0.1 port
with a temporary data dir, waited for with bounded polls, and stopped by pid."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from collectors.prometheus import PrometheusCollector
from tests.conftest import require_tool

T = TypeVar("T")

NODE_COLLECTORS = ("loadavg", "meminfo", "time")
"""The node exporter's collectors the tests enable: cheap, and present on any Linux."""


def free_port() -> int:
    """Return a 127.0.0.1 port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], T | None], seconds: float = 20.0) -> T:
    """Poll ``check`` until it returns something other than None, for ``seconds`` at most."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:g} s")
        time.sleep(0.1)


def get(url: str) -> bytes | None:
    """Return the body of a 200 answer from ``url``, or None (no answer, or another status)."""
    try:
        with urllib.request.urlopen(url, timeout=2.0) as resp:
            return bytes(resp.read()) if resp.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


class Process:
    """A server process started by a test and stopped by its pid."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(argv, stdout=self._out, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 s) and close its log."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()

    def alive(self) -> None:
        """Fail with the end of the log when the process has died."""
        if self.proc.poll() is not None:
            tail = self.log.read_text(errors="replace")[-2000:]
            raise AssertionError(f"{self.proc.args[0]} exited {self.proc.returncode}:\n{tail}")


class NodeExporter(Process):
    """Debian's prometheus-node-exporter with a few cheap collectors, on a free port."""

    def __init__(self, workdir: Path) -> None:
        binary = require_tool("prometheus-node-exporter")
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        argv = [binary, f"--web.listen-address={self.address}", "--collector.disable-defaults"]
        argv += [f"--collector.{c}" for c in NODE_COLLECTORS]
        super().__init__(argv, workdir / "node-exporter.log")
        wait_for("node exporter answers", self._ready)

    def _ready(self) -> bool | None:
        self.alive()
        return True if get(f"http://{self.address}/metrics") else None


class Prometheus(Process):
    """Debian's prometheus scraping ``targets`` every second, with its TSDB in ``workdir``."""

    def __init__(self, workdir: Path, targets: list[str], job: str = "node") -> None:
        binary = require_tool("prometheus")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            f"scrape_configs:\n  - job_name: {job}\n    static_configs:\n"
            f"      - targets: {json.dumps(targets)}\n"
        )
        argv = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        super().__init__(argv, workdir / "prometheus.log")
        wait_for("prometheus is ready", self._ready, 30.0)

    def _ready(self) -> bool | None:
        self.alive()
        return True if get(f"{self.url}/-/ready") else None

    def query(self, promql: str) -> list[dict[str, Any]]:
        """Return the instant vector of ``promql`` (empty when Prometheus does not answer)."""
        body = get(f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}")
        return list(json.loads(body)["data"]["result"]) if body else []

    def wait_until_scraped(self, up: dict[str, float], seconds: float = 30.0) -> None:
        """Wait until ``up`` of each target (``host:port``) is the value given."""

        def check() -> bool | None:
            self.alive()
            seen = {s["metric"]["instance"]: float(s["value"][1]) for s in self.query("up")}
            return True if all(seen.get(t) == v for t, v in up.items()) else None

        wait_for(f"prometheus scraped {up}", check, seconds)


@dataclass
class Lab:
    """A Prometheus server scraping a live node exporter and a dead target."""

    prometheus: Prometheus
    node: NodeExporter
    dead: str
    """``host:port`` of the target where nothing listens."""

    def collector(self, query: str = '{job="node"}', **kwargs: Any) -> PrometheusCollector:
        """Return a collector of this lab's Prometheus."""
        return PrometheusCollector("lab", self.prometheus.url, query, **kwargs)


@contextmanager
def running_lab(workdir: Path) -> Iterator[Lab]:
    """Start a node exporter and a Prometheus scraping it and a dead target; stop both after."""
    node = NodeExporter(workdir)
    dead = f"127.0.0.1:{free_port()}"
    try:
        prometheus = Prometheus(workdir, [node.address, dead])
    except BaseException:
        node.stop()
        raise
    try:
        prometheus.wait_until_scraped({node.address: 1.0, dead: 0.0})
        yield Lab(prometheus, node, dead)
    finally:
        prometheus.stop()
        node.stop()


class StallingProxy:
    """An HTTP server on 127.0.0.1 that passes every request on to a Prometheus server, except
    ``query_range``, which it answers only when ``release`` is set (or fails, with ``fail``):
    a range query that is slow, without changing what the live queries get."""

    def __init__(self, upstream: str, fail: bool = False) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/api/v1/query_range"):
                    if fail:
                        self._answer(503, b"Service Unavailable")
                        return
                    proxy.release.wait(60)
                body = get(upstream + self.path) or b""
                self._answer(200 if body else 502, body)

            def _answer(self, code: int, body: bytes) -> None:
                # The client may have given up waiting: that is what the tests make happen.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Answer what waits, stop serving and close the socket."""
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
