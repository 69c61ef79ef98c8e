"""Measures how long after the start a fast remote service first shows, when another service
of the same API never answers: the real engine, the Server Density collector and the test
HTTP server on 127.0.0.1, with the request timeout at 30 s.

    .venv/bin/python benchmarks/remote_first_poll.py [--timeout 30]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.serverdensity import ServerDensityCollector
from engine.config import Config
from engine.engine import Engine
from tests.remote_server import TOKEN, RemoteServer

FAST = "remote/shop-front/frankfurt/status"
"""A location of a service that answers in milliseconds."""
STUCK = "remote/stuck/london/status"
"""The location of the service whose route never answers."""


def first_seen(timeout: float, limit: float) -> tuple[float | None, float | None]:
    """Return the seconds until the fast service, and the stuck one, first appear."""
    with RemoteServer() as server:
        collector = ServerDensityCollector(
            "sd", server.url, TOKEN, timeout=timeout, interval=60.0
        )
        engine = Engine(Config(), [collector])
        start = time.perf_counter()
        engine.start()
        fast = stuck = None
        try:
            while time.perf_counter() - start < limit and (fast is None or stuck is None):
                metrics = engine.snapshot().metrics
                now = time.perf_counter() - start
                fast = fast if fast is not None or FAST not in metrics else now
                stuck = stuck if stuck is not None or STUCK not in metrics else now
                time.sleep(0.02)
        finally:
            engine.stop()
    return fast, stuck


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=30.0, help="request timeout, s")
    args = parser.parse_args()
    fast, stuck = first_seen(args.timeout, args.timeout + 10.0)

    def shown(t: float | None) -> str:
        return "never" if t is None else f"{t:.2f} s"

    print(f"request timeout {args.timeout:g} s")
    print(f"fast service first shown after   {shown(fast)}")
    print(f"stuck service first listed after {shown(stuck)} (as unknown, still waiting)")


if __name__ == "__main__":
    main()
