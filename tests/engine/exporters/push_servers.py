"""Provides the real servers the push exporters are tested against, each from Debian's
packages, on free 127.0.0.1 ports with temporary data dirs: carbon-cache, influxd, mosquitto."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import require_tool
from tests.servers import free_port, server


@contextmanager
def carbon(tmp: Path, port: int | None = None) -> Iterator[tuple[int, Path]]:
    """Run carbon-cache; yield its line receiver's port and its whisper directory."""
    binary = require_tool("carbon-cache")
    port = port or free_port()
    storage = tmp / "storage"
    for d in ("whisper", "log", "lists"):
        (storage / d).mkdir(parents=True, exist_ok=True)
    (tmp / "storage-schemas.conf").write_text("[all]\npattern = .*\nretentions = 1s:1h\n")
    (tmp / "storage-aggregation.conf").write_text(
        "[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n"
    )
    (tmp / "carbon.conf").write_text(
        "[cache]\n"
        f"STORAGE_DIR = {storage}\nLOCAL_DATA_DIR = {storage / 'whisper'}\n"
        f"WHITELISTS_DIR = {storage / 'lists'}\nCONF_DIR = {tmp}\nLOG_DIR = {storage / 'log'}\n"
        f"PID_DIR = {tmp}\nENABLE_LOGROTATION = False\nUSER =\n"
        "MAX_CACHE_SIZE = inf\nMAX_UPDATES_PER_SECOND = 10000\nMAX_CREATES_PER_MINUTE = inf\n"
        f"LINE_RECEIVER_INTERFACE = 127.0.0.1\nLINE_RECEIVER_PORT = {port}\n"
        "ENABLE_UDP_LISTENER = False\n"
        f"PICKLE_RECEIVER_INTERFACE = 127.0.0.1\nPICKLE_RECEIVER_PORT = {free_port()}\n"
        f"CACHE_QUERY_INTERFACE = 127.0.0.1\nCACHE_QUERY_PORT = {free_port()}\n"
        "LOG_LISTENER_CONN_SUCCESS = False\nLOG_UPDATES = False\nLOG_CREATES = False\n"
    )
    argv = [binary, f"--config={tmp / 'carbon.conf'}", f"--pidfile={tmp / 'carbon.pid'}",
            f"--logdir={storage / 'log'}", "--nodaemon", "start"]  # fmt: skip
    with server(argv, tmp / "carbon.out", port):
        yield port, storage / "whisper"


@contextmanager
def influxd(tmp: Path, port: int | None = None) -> Iterator[int]:
    """Run InfluxDB 1.x; yield its HTTP port."""
    binary = require_tool("influxd")
    port = port or free_port()
    (tmp / "influxdb.conf").write_text(
        f'reporting-disabled = true\nbind-address = "127.0.0.1:{free_port()}"\n'
        f'[meta]\n  dir = "{tmp / "meta"}"\n'
        f'[data]\n  dir = "{tmp / "data"}"\n  wal-dir = "{tmp / "wal"}"\n'
        "  query-log-enabled = false\n"
        f'[http]\n  bind-address = "127.0.0.1:{port}"\n  log-enabled = false\n'
        "[monitor]\n  store-enabled = false\n"
    )
    with server([binary, "-config", str(tmp / "influxdb.conf")], tmp / "influxd.out", port):
        yield port


@contextmanager
def mosquitto(tmp: Path, port: int | None = None) -> Iterator[int]:
    """Run mosquitto (no persistence); yield its port."""
    binary = require_tool("mosquitto")
    port = port or free_port()
    (tmp / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        f"user {getpass.getuser()}\n"  # stay who we are: the files are ours
    )
    with server([binary, "-c", str(tmp / "mosquitto.conf")], tmp / "mosquitto.out", port):
        yield port
