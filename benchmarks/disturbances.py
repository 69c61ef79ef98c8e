"""Scores a streaming detector on the 1 s recording of known disturbances and prints tables.

    .venv/bin/python benchmarks/disturbances.py [--detector auto] [--threshold SCORE]
                                                [--data benchmarks/data/disturbances]

Every metric of the recording is its own series, replayed in time order through a fresh
detector from the registry (causal: one ``update`` per point). A point is flagged when the
detector's ``Verdict.anomalous`` is true, its own rule at its default options (what the
monitor alerts on); with ``--threshold`` it is flagged when the score reaches that value
instead. A disturbance is caught when one of its expected metrics is flagged within 10 s of
its start; false-alarm episodes (runs of flags on one metric, merged when closer than 30 s)
are counted in quiet time, outside every disturbance and the 60 s after it.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import detectors  # noqa: E402
from detectors.episodes import (  # noqa: E402
    MERGE,
    TAIL,
    WITHIN,
    Catch,
    Disturbance,
    catch,
    false_alarms,
    quiet_mask,
    quiet_seconds,
)

DEFAULT_DATA = ROOT / "benchmarks" / "data" / "disturbances"
Series = dict[str, tuple[np.ndarray, np.ndarray]]


def load_recording(path: Path) -> Series:
    """Read a ``time,key,value`` CSV (gzip when it ends in .gz) into per-key ascending arrays."""
    rows: dict[str, list[tuple[float, float]]] = defaultdict(list)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as f:
        for row in csv.DictReader(f):
            rows[row["key"]].append((float(row["time"]), float(row["value"])))
    out: Series = {}
    for key, pairs in rows.items():
        arr = np.array(sorted(pairs), dtype=np.float64)
        out[key] = (arr[:, 0], arr[:, 1])
    return out


def load_labels(path: Path) -> list[Disturbance]:
    """Read the labels JSON: a list of ``{kind, start, end, keys}``, in start order."""
    raw = json.loads(path.read_text())
    labels = [
        Disturbance(d["kind"], float(d["start"]), float(d["end"]), tuple(d["keys"])) for d in raw
    ]
    return sorted(labels, key=lambda d: d.start)


def flag_series(name: str, series: Series, threshold: float | None) -> Series:
    """Replay each metric through its own fresh detector; return per-key times and flags."""
    if detectors.info(name).kind != "streaming":
        raise SystemExit(f"{name} is a batch detector: this benchmark replays live, causally")
    out: Series = {}
    for key, (t, x) in series.items():
        update = detectors.create(name).update
        flags = np.zeros(t.size, dtype=bool)
        for i, (ti, xi) in enumerate(zip(t.tolist(), x.tolist(), strict=True)):
            v = update(ti, xi)
            flags[i] = v.anomalous if threshold is None else v.score >= threshold
        out[key] = (t, flags)
    return out


def span_of(series: Series) -> tuple[float, float]:
    """First and last time of the recording."""
    return (
        min(float(t[0]) for t, _ in series.values()),
        max(float(t[-1]) for t, _ in series.values()),
    )


def print_catches(catches: list[Catch]) -> None:
    """One row per disturbance, then the catch count per kind."""
    print(f"{'kind':<16}{'start UTC':>10}{'length':>8}  {'caught':<8}{'delay':>7}  first on")
    for c in catches:
        d = c.disturbance
        delay = "-" if c.delay is None else f"{c.delay:.1f} s"
        print(
            f"{d.kind:<16}{time.strftime('%H:%M:%S', time.gmtime(d.start)):>10}"
            f"{d.end - d.start:>6.0f} s  {'yes' if c.delay is not None else 'no':<8}"
            f"{delay:>7}  {c.key or ''}"
        )
    caught = sum(c.delay is not None for c in catches)
    delays = [c.delay for c in catches if c.delay is not None]
    median = f", median delay {np.median(delays):.1f} s" if delays else ""
    print(f"caught {caught} of {len(catches)} within {WITHIN:.0f} s of their start{median}")
    by_kind: dict[str, list[float | None]] = defaultdict(list)
    for c in catches:
        by_kind[c.disturbance.kind].append(c.delay)
    print(f"\n{'kind':<16}{'caught':>8}{'median delay':>14}")
    for kind, delays in sorted(by_kind.items()):
        hits = [x for x in delays if x is not None]
        median = f"{np.median(hits):.1f} s" if hits else "-"
        print(f"{kind:<16}{len(hits):>4} / {len(delays):<3}{median:>12}")


def print_false_alarms(flagged: Series, labels: list[Disturbance], quiet_h: float) -> int:
    """Per metric: false-alarm episodes and their rate per quiet hour; returns the total."""
    total = 0
    print(f"\n{'metric':<26}{'episodes':>9}{'per quiet h':>13}")
    for key in sorted(flagged):
        t, flags = flagged[key]
        n = len(false_alarms(t, flags, labels))
        total += n
        print(f"{key:<26}{n:>9}{n / quiet_h:>13.1f}")
    print(f"{'total':<26}{total:>9}{total / quiet_h:>13.1f}")
    return total


def print_load(series: Series, labels: list[Disturbance]) -> None:
    """How busy the machine was in quiet time, from what the recording itself holds."""
    for key in ("system/cpu/total", "system/load/1m"):
        if key in series:
            t, x = series[key]
            q = x[quiet_mask(t, labels)]
            print(
                f"quiet {key}: median {np.median(q):.2f}, p90 {np.percentile(q, 90):.2f}, "
                f"max {q.max():.2f}"
            )


def main() -> int:
    """Load, replay, score and print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", default="auto", help="registry name of a streaming detector")
    ap.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="flag on score >= this instead of the detector's own rule",
    )
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="recording directory")
    args = ap.parse_args()
    series = load_recording(args.data / "recording.csv.gz")
    labels = load_labels(args.data / "labels.json")
    span = span_of(series)
    quiet_h = quiet_seconds(span, labels) / 3600
    started = time.perf_counter()
    flagged = flag_series(args.detector, series, args.threshold)
    took = time.perf_counter() - started
    rule = "Verdict.anomalous" if args.threshold is None else f"score >= {args.threshold:g}"
    print(
        f"detector {args.detector} ({rule}); {len(series)} metrics over "
        f"{(span[1] - span[0]) / 3600:.2f} h, {quiet_h:.2f} h quiet "
        f"(outside windows + {TAIL:.0f} s); episodes merge under {MERGE:.0f} s; "
        f"replayed in {took:.1f} s\n"
    )
    print_load(series, labels)
    print()
    print_catches([catch(d, flagged) for d in labels])
    print_false_alarms(flagged, labels, quiet_h)
    return 0


if __name__ == "__main__":
    sys.exit(main())
