"""Provides the Graphite exporter: every numeric reading as ``prefix.metric.path value time``
over Graphite's plaintext protocol (TCP), with keys cut down to Graphite's characters."""

from __future__ import annotations

import math
import re
import select
import socket
from collections.abc import Sequence

from collectors.base import Batch
from engine.engine import MetricState
from engine.exporters.config import GraphiteConfig
from engine.exporters.queue import PushExporter, Report, SendError

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")


def graphite_path(prefix: str, key: str) -> str:
    """Return the Graphite path of a metric key: each key part becomes a node, its characters
    outside letters, digits, ``_`` and ``-`` become ``_`` (``+3.3V`` is ``_3_3V``)."""
    nodes = [_UNSAFE.sub("_", part) or "_" for part in key.split("/")]
    return ".".join([prefix, *nodes] if prefix else nodes)


class GraphiteExporter(PushExporter[bytes]):
    """Sends readings to carbon's line receiver, one connection kept open."""

    name = "graphite"

    def __init__(self, config: GraphiteConfig, report: Report) -> None:
        """Args:
        config: the server, the prefix and the timeout.
        report: tells the engine's events of a lost or regained server.
        """
        super().__init__(report, config.timeout)
        self.config = config
        self.target = f"tcp://{config.server}"
        self._sock: socket.socket | None = None

    def encode(self, batch: Batch, changed: list[MetricState]) -> list[bytes]:
        """Return one plaintext line per finite numeric reading."""
        out = []
        for st in changed:
            r = st.reading
            if r.value is not None and math.isfinite(r.value):
                path = graphite_path(self.config.prefix, r.key)
                out.append(f"{path} {r.value!r} {int(r.time)}\n".encode())
        return out

    def send(self, items: Sequence[bytes]) -> None:
        """Write the lines, connecting first when there is no open connection."""
        sock = self._sock
        if sock is not None and _closed_by_peer(sock):
            self.disconnect()
            sock = None
        if sock is None:
            server = self.config.server
            sock = socket.create_connection((server.host, server.port), timeout=self.timeout)
            self._sock = sock
        try:
            sock.sendall(b"".join(items))
        except OSError as exc:
            raise SendError(f"write failed: {exc.strerror or exc}") from None

    def disconnect(self) -> None:
        """Close the connection."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _closed_by_peer(sock: socket.socket) -> bool:
    """Whether carbon closed the connection (it never writes, so readable means closed)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
