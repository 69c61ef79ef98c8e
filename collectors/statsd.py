"""Provides the StatsD listener: a UDP socket read in a thread of its own, whose stats become
ordinary readings under ``statsd/<name>/<stat>`` at every flush (every poll of the engine)."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable

from collectors.base import Batch, Reading
from collectors.statsd_protocol import MAX_NAMES, Aggregator, Interval, timer_stats

RECV_TIMEOUT = 0.2
"""Seconds the listener waits for a packet before looking whether it should stop."""
DRAIN = 256
"""Packets read at most per wake-up of the listener's thread."""
SELF = "statsd/_listener"
"""Key prefix of the listener's own figures (packets, lines, malformed lines)."""


class StatsdCollector:
    """Listens for StatsD over UDP; ``poll`` flushes what arrived since the last one."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8125,
        flush: float = 10.0,
        name: str = "statsd",
        wall: Callable[[], float] = time.time,
    ) -> None:
        """Args:
        host: address to listen on.
        port: UDP port to listen on.
        flush: seconds between flushes (the engine polls this often).
        name: the source name.
        wall: wall clock for the readings' time.
        """
        self.name, self.interval = name, flush
        self.host, self.port = host, port
        self._wall = wall
        self._agg = Aggregator()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._packets = 0
        self._last_flush = time.monotonic()

    @property
    def address(self) -> tuple[str, int] | None:
        """The address it listens on, None before the first poll or after ``close``."""
        return self._sock.getsockname()[:2] if self._sock else None  # type: ignore[no-any-return]

    @property
    def pending_lines(self) -> int:
        """Lines received since the last flush (malformed ones included)."""
        with self._lock:
            return self._agg.interval.lines

    def listen(self) -> str | None:
        """Bind the socket and start reading it; return why it cannot, or None."""
        if self._sock is not None:
            return None
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET,
                             socket.SOCK_DGRAM)  # fmt: skip
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            return f"cannot listen on {self.host}:{self.port} (UDP): {exc.strerror or exc}"
        sock.setblocking(False)
        self._sock = sock
        self._stop.clear()
        self._last_flush = time.monotonic()
        self._thread = threading.Thread(target=self._read, name="statsd-listener", daemon=True)
        self._thread.start()
        return None

    def _read(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stop.is_set():
            packets: list[bytes] = []
            try:
                ready, _, _ = select.select([sock], [], [], RECV_TIMEOUT)
                # Drain what waits, so one wake-up and one lock serve many packets.
                while ready and len(packets) < DRAIN:
                    packets.append(sock.recv(65535))
            except BlockingIOError:
                pass
            except (OSError, ValueError):  # closed under us by close(): the loop ends
                return
            if not packets:
                continue
            with self._lock:
                self._packets += len(packets)
                for data in packets:
                    self._agg.feed(data.decode("utf-8", errors="replace"))

    def poll(self) -> Batch:
        """Flush: turn what arrived since the last poll into readings."""
        if self._sock is None and (why := self.listen()) is not None:
            return Batch(self.name, unavailable=why)
        now = time.monotonic()
        with self._lock:
            interval, packets = self._agg.flush(), self._packets
            gauges = dict(self._agg.gauges)
            self._packets = 0
        elapsed, self._last_flush = max(now - self._last_flush, 1e-9), now
        return Batch(self.name, self._readings(interval, gauges, packets, elapsed),
                     errors=_problems(interval))  # fmt: skip

    def _readings(
        self, iv: Interval, gauges: dict[str, float], packets: int, elapsed: float
    ) -> tuple[Reading, ...]:
        t = self._wall()
        out = [
            Reading(f"{SELF}/packets", float(packets), "", t),
            Reading(f"{SELF}/lines", float(iv.lines), "", t),
            Reading(f"{SELF}/malformed", float(iv.malformed), "", t, high=0.5),
        ]
        for name, count in sorted(iv.counters.items()):
            out.append(Reading(f"statsd/{name}/count", count, "", t))
            out.append(Reading(f"statsd/{name}/rate", count / elapsed, "/s", t))
        for name, value in sorted(gauges.items()):
            out.append(Reading(f"statsd/{name}/value", value, "", t))
        for name, timer in sorted(iv.timers.items()):
            for stat, value in timer_stats(timer).items():
                out.append(
                    Reading(f"statsd/{name}/{stat}", value, "" if stat == "count" else "ms", t)
                )
        for name, members in sorted(iv.sets.items()):
            out.append(Reading(f"statsd/{name}/count", float(len(members)), "", t))
        return tuple(out)

    def close(self) -> None:
        """Stop reading and close the socket (the next poll listens again)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(RECV_TIMEOUT * 5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _problems(iv: Interval) -> tuple[str, ...]:
    # The lines stay the same while the trouble lasts, so the engine tells it once and tells
    # the recovery; how many lines were dropped is the statsd/_listener/malformed reading.
    out = []
    if iv.malformed:
        out.append(f"dropping malformed lines (how many: {SELF}/malformed)")
    if iv.dropped_names:
        out.append(f"dropping lines with new names: {MAX_NAMES} names are kept at most")
    return tuple(out)
