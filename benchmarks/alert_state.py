"""Measures what the alert state file costs the collector thread that evaluates the rules:
a batch in which metrics start firing (each one is looked up for a silence and opened in the
SQLite file), and a batch in which they keep firing under a rule with ``repeat`` (each one is
looked up for its repeat). Also the first message to a JSON webhook on 127.0.0.1 through
apprise, from the batch to the receiver.

    .venv/bin/python benchmarks/alert_state.py [--metrics 50] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.base import Batch, Reading, Status  # noqa: E402
from engine import Engine  # noqa: E402
from engine.alerts import AlertManager  # noqa: E402
from engine.config import AlertRule, Config, NotifyTarget  # noqa: E402
from engine.notify import Notifier  # noqa: E402
from tests.clock import ManualClock  # noqa: E402
from tests.engine.receivers import webhook  # noqa: E402


def batch(count: int, status: Status) -> Batch:
    readings = tuple(Reading(f"sensors/chip/t{i}", 99.0, "°C", status=status) for i in range(count))
    return Batch("bench", readings)


def one_run(folder: Path, count: int) -> tuple[float, float]:
    """Return the seconds of the batch that opens ``count`` alerts and of the next one."""
    clock = ManualClock(1000.0)
    config = Config(alerts=(AlertRule("sensors/**", "critical", 0.0, ("bell",), repeat=3600.0),))
    engine = Engine(config, monotonic=clock)
    alerts = AlertManager(config, bell=lambda: None, log_path=folder / "a.log", monotonic=clock)
    alerts.attach(engine)
    start = time.perf_counter()
    engine.ingest(batch(count, Status.CRITICAL))
    opened = time.perf_counter() - start
    clock.advance(1.0)
    start = time.perf_counter()
    engine.ingest(batch(count, Status.CRITICAL))
    again = time.perf_counter() - start
    alerts.close()
    return opened, again


def webhook_latency(folder: Path) -> float:
    """Seconds from the batch to the body arriving at the receiver."""
    clock = ManualClock(1000.0)
    with webhook() as hook:
        targets = {"ops": NotifyTarget("ops", (hook.url(),), group=0.0)}
        config = Config(alerts=(AlertRule("sensors/**", "critical", 0.0, ("notify:ops",)),),
                        notify=targets)  # fmt: skip
        engine = Engine(config, monotonic=clock)
        notifier = Notifier(targets, host="bench", monotonic=clock, flush_thread=False)
        alerts = AlertManager(
            config, log_path=folder / "hook" / "w.log", monotonic=clock, notifier=notifier
        )
        alerts.attach(engine)
        start = time.perf_counter()
        engine.ingest(batch(1, Status.CRITICAL))
        hook.wait(1)
        took = time.perf_counter() - start
        alerts.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    opened, again, hook = [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            o, a = one_run(Path(tmp), args.metrics)
            opened.append(o)
            again.append(a)
            hook.append(webhook_latency(Path(tmp)))
    n = args.metrics
    print(f"batch opening {n} alerts:     median {statistics.median(opened) * 1000:7.1f} ms "
          f"({statistics.median(opened) / n * 1e6:.0f} µs per alert)")  # fmt: skip
    print(f"next batch, {n} firing, repeat: median {statistics.median(again) * 1000:7.1f} ms "
          f"({statistics.median(again) / n * 1e6:.0f} µs per alert)")  # fmt: skip
    print(f"first message to a webhook:   median {statistics.median(hook) * 1000:7.1f} ms "
          f"(batch to body received, apprise's import included in the first run: "
          f"{hook[0] * 1000:.0f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
