"""Measures how many StatsD packets per second the listener holds on one core: a sender
process blasts single-line packets (counters, timers, gauges and sets over 1000 names) at
the listener on 127.0.0.1 for a few seconds; the figure is the packets the listener parsed,
and how many the kernel dropped because it could not keep up. The parser alone is timed too
(one thread, no socket), the listener thread's own CPU time gives the packets it handles per
CPU second (the figure that holds on a busy machine), and the load average says how busy the
machine was.

    .venv/bin/python benchmarks/statsd.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.statsd import StatsdCollector  # noqa: E402
from collectors.statsd_protocol import Aggregator  # noqa: E402


def blast(port: int, seconds: float, sent: multiprocessing.Value) -> None:  # type: ignore[valid-type]
    """Send packets to ``port`` as fast as one process can for ``seconds``."""
    kinds = ["c", "ms", "g", "c|@0.5", "s"]
    packets = [f"app.metric{i % 1000}:{i % 97}|{kinds[i % 5]}".encode() for i in range(5000)]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("127.0.0.1", port))
        n, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            for p in packets[:500]:
                s.send(p)
            packets.append(packets.pop(0))
            n += 500
    sent.value = n  # type: ignore[attr-defined]


def main() -> None:
    """Run the listener in this process and a sender in another; print packets per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    collector = StatsdCollector("127.0.0.1", 0)
    assert collector.poll().unavailable is None
    address = collector.address
    assert address is not None
    sent = multiprocessing.Value("q", 0)
    sender = multiprocessing.Process(target=blast, args=(address[1], args.seconds, sent))
    listener = next(t for t in threading.enumerate() if t.name == "statsd-listener")
    cpu_before = thread_cpu(listener)
    start = time.perf_counter()
    sender.start()
    sender.join()
    time.sleep(0.5)  # let the listener drain its socket buffer
    took = time.perf_counter() - start - 0.5
    cpu = thread_cpu(listener) - cpu_before
    flush_start = time.perf_counter()
    batch = collector.poll()
    flush_ms = (time.perf_counter() - flush_start) * 1000
    collector.close()
    got = {r.key: r.value for r in batch.readings}
    parsed = int(got["statsd/_listener/packets"] or 0)
    print(f"sent      {sent.value:>10,} packets in {took:.1f} s ({sent.value / took:,.0f}/s)")
    print(
        f"parsed    {parsed:>10,} packets ({parsed / took:,.0f} packets/s on the listener's core)"
    )
    print(f"lost      {sent.value - parsed:>10,} ({(sent.value - parsed) / sent.value:.1%})")
    print(
        f"listener thread CPU {cpu:.2f} s: {parsed / cpu:,.0f} packets per CPU second "
        "(what one core of its own holds)"
    )
    print(f"flush of {len(batch.readings)} readings took {flush_ms:.1f} ms")
    print(f"parser alone: {parse_rate():,.0f} lines per CPU second")
    print("load average while measured: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


def thread_cpu(thread: threading.Thread) -> float:
    """Return the CPU seconds a thread of this process has used (Linux schedstat)."""
    with open(f"/proc/self/task/{thread.native_id}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def parse_rate(lines: int = 200_000) -> float:
    """Return the lines per CPU second the aggregator parses and adds in this thread."""
    agg = Aggregator()
    kinds = ["c", "ms", "g", "c|@0.5", "s"]
    text = [f"app.metric{i % 1000}:{i % 97}|{kinds[i % 5]}" for i in range(lines)]
    start = time.thread_time()
    for line in text:
        agg.feed(line)
    return lines / (time.thread_time() - start)


if __name__ == "__main__":
    main()
