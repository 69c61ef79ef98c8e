"""Tests that SIGHUP rebuilds a real daemon's exporters: a Prometheus exporter moved to another
port serves there and nowhere else, one that cannot bind leaves the running one serving and
says so in the log, and one taken out of the file stops, its socket closed and no thread left."""

from __future__ import annotations

import signal
import socket
import time

from tests.daemon_process import QUIET_SOURCES, DaemonProcess
from tests.prometheus_servers import free_port, get, wait_for

SOURCES = QUIET_SOURCES + "[collectors.synthetic]\nseries = 2\ninterval = 0.5\n"


def exporter(port: int) -> str:
    return f'{SOURCES}[prometheus]\nlisten = "127.0.0.1:{port}"\n'


def scrape(port: int) -> str | None:
    body = get(f"http://127.0.0.1:{port}/metrics")
    return body.decode() if body is not None else None


def refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def reload(daemon: DaemonProcess, text: str, said: str) -> str:
    """Write the config, send SIGHUP and wait until the log says ``said``; return the log."""
    daemon.write_config(text)
    daemon.signal(signal.SIGHUP)
    return daemon.wait_log(said)


def test_sighup_moves_stops_and_keeps_the_prometheus_exporter() -> None:
    first, second, taken = free_port(), free_port(), free_port()
    with DaemonProcess(exporter(first)) as daemon:
        daemon.start()
        wait_for("first port serves", lambda: "gongwatch_" in (scrape(first) or "") or None)

        reload(daemon, exporter(second), f"exporter replaced: 127.0.0.1:{second}")
        assert "gongwatch_" in (scrape(second) or "")
        assert refused(first)  # the old server's socket is closed

        with socket.socket() as blocker:  # another program holds the port asked for
            blocker.bind(("127.0.0.1", taken))
            blocker.listen()
            log = reload(daemon, exporter(taken), "cannot start")
            line = next(ln for ln in log.splitlines() if "cannot start" in ln)
            assert "prometheus: cannot start: Address already in use" in line
            assert "keeping the running one" in line
            assert "gongwatch_" in (scrape(second) or "")

        reload(daemon, SOURCES, f"exporter stopped: 127.0.0.1:{second}")
        deadline = time.monotonic() + 5
        while not refused(second) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert refused(second)
        assert (daemon.status() or {}).get("metrics") == 2  # the rest of the daemon goes on
        assert daemon.stop() == 0
        assert "stopped cleanly: no thread left" in daemon.log(), daemon.log()
