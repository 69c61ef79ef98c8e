"""Provides ``gongwatch status``: whether a daemon runs, since when, its sources and its last
alerts. Exit status 0 when one runs, 3 when none answers."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from typing import Any, TextIO

import httpx

from engine.config import Config
from engine.paths import socket_path

NOT_RUNNING = 3
"""Exit status of ``status`` when no daemon answers (as ``systemctl status`` does)."""
TIMEOUT = 3.0
"""Seconds to wait for the daemon's answer."""


def fetch_status(config: Config, timeout: float = TIMEOUT) -> dict[str, Any] | None:
    """Return the daemon's status, or None when no daemon answers on the socket."""
    path = socket_path(config)
    transport = httpx.HTTPTransport(uds=str(path))
    try:
        with httpx.Client(transport=transport, base_url="http://gongwatch", timeout=timeout) as c:
            response = c.get("/v1/status")
            response.raise_for_status()
            data: dict[str, Any] = response.json()
            return data
    except (httpx.HTTPError, ValueError):
        return None


def cmd_status(config: Config, as_json: bool, out: TextIO = sys.stdout) -> int:
    """Print the status; return 0 when a daemon runs, ``NOT_RUNNING`` when none does."""
    status = fetch_status(config)
    if status is None:
        if as_json:
            out.write(json.dumps({"running": False, "socket": str(socket_path(config))}) + "\n")
        else:
            out.write(f"no daemon answers on {socket_path(config)}\n")
        return NOT_RUNNING
    if as_json:
        out.write(json.dumps({"running": True} | status) + "\n")
    else:
        print_status(status, out)
    return 0


def _when(t: float | None) -> str:
    if t is None:
        return "never"
    return datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def print_status(status: dict[str, Any], out: TextIO) -> None:
    """Print the status for a person."""
    up = time.time() - status["started"]
    out.write(f"gongwatch daemon pid {status['pid']}, running since {_when(status['started'])} "
              f"({up:.0f} s)\n")  # fmt: skip
    out.write(f"socket {status['socket']}, config {status['config']}, "
              f"{status['metrics']} metrics\n")  # fmt: skip
    out.write("sources:\n")
    for src in status["sources"]:
        flags = " STALE" if src["stale"] else ""
        flags += f" unavailable: {src['unavailable']}" if src["unavailable"] else ""
        flags += "".join(f" error: {e}" for e in src["errors"])
        out.write(f"  {src['name']:<20} last poll {_when(src['last_poll'])}, "
                  f"{src['polls']} polls{flags}\n")  # fmt: skip
    for dev in status.get("devices", []):
        out.write(f"device {dev['name']}: {dev['status']} {dev['port'] or ''} {dev['detail']}\n")
    out.write("last alerts:\n" if status["alerts"] else "no alerts yet\n")
    for rec in status["alerts"]:
        out.write(f"  {_when(rec['time'])} {rec['action']} {rec['key']} ({rec['severity']}): "
                  f"{rec['result'] or '…'}\n")  # fmt: skip
