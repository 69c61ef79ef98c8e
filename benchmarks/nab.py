"""Scores every detector on the NAB development corpus with NAB's rules and prints a table.

    .venv/bin/python benchmarks/nab.py [--data ../shared/data/nab-dev] [--detectors a,b]
                                       [--jobs 2] [--per-file NAME]

Streaming detectors run causally over each file (one ``update`` per row). Batch detectors see
the whole file at once and score 1 on what they flag: they are not causal, so their rows are an
upper bound of what they could do live. The threshold of each detector is optimised over the
whole corpus, per profile, as NAB does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import detectors  # noqa: E402
from detectors import nab  # noqa: E402
from detectors.run import score_series  # noqa: E402

DEFAULT_DATA = next(
    (d / "shared" / "data" / "nab-dev" for d in ROOT.parents if (d / "shared" / "data").is_dir()),
    ROOT.parent / "shared" / "data" / "nab-dev",
)
"""``../shared/data/nab-dev`` beside the project (or beside a folder that holds it)."""
EDM_MAX_ROWS = 2500
"""EDM's search takes quadratic time; longer files score 0 for it, to keep the run short."""


@dataclass(frozen=True, slots=True)
class NabFile:
    """One data file of the corpus with its labels."""

    name: str
    t: np.ndarray
    x: np.ndarray
    labels: nab.FileLabels


def _epoch(stamps: np.ndarray) -> np.ndarray:
    return stamps.astype("datetime64[s]").astype(np.int64).astype(np.float64)


def load_corpus(data: Path) -> list[NabFile]:
    """Read every CSV under ``data/data`` and its windows from ``data/labels``."""
    windows = json.loads((data / "labels" / "combined_windows.json").read_text())
    files = []
    for name in sorted(windows):
        raw = np.genfromtxt(data / "data" / name, delimiter=",", skip_header=1, dtype=str)
        t = _epoch(np.array([s.replace(" ", "T") for s in raw[:, 0]], dtype="datetime64[s]"))
        x = raw[:, 1].astype(np.float64)
        rows = []
        for lo, hi in windows[name]:
            lo_t = _epoch(np.array([lo[:19].replace(" ", "T")], dtype="datetime64[s]"))[0]
            hi_t = _epoch(np.array([hi[:19].replace(" ", "T")], dtype="datetime64[s]"))[0]
            rows.append((int(np.searchsorted(t, lo_t)), int(np.searchsorted(t, hi_t, "right")) - 1))
        files.append(NabFile(name, t, x, nab.label_file(len(t), rows)))
    return files


def _batch_options(name: str, f: NabFile) -> dict[str, object]:
    step = float(np.median(np.diff(f.t)))
    if name == "shesd":
        period = max(2, round(86400 / step))
        while len(f.t) < 2 * period + 1:
            period //= 2
        return {"period": period, "max_anoms": 0.02, "direction": "both"}
    return {}


def run_one(args: tuple[str, NabFile]) -> tuple[str, str, np.ndarray, float]:
    """Score one file with one detector: (detector, file, scores, seconds)."""
    name, f = args
    start = time.perf_counter()
    if name == "edm" and len(f.t) > EDM_MAX_ROWS:
        scores = np.zeros(len(f.t))
    elif detectors.info(name).kind == "batch":
        scores = score_series(name, f.t, f.x, **_batch_options(name, f))
    else:
        scores = score_series(name, f.t, f.x)
    return name, f.name, scores, time.perf_counter() - start


def evaluate(names: list[str], files: list[NabFile], jobs: int) -> dict[str, dict[str, object]]:
    """Run every detector on every file and sweep the thresholds."""
    jobs_list = [(n, f) for n in names for f in files]
    by_name = {f.name: f for f in files}
    results: dict[str, dict[str, object]] = {n: {"scores": {}, "seconds": 0.0} for n in names}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for name, fname, scores, secs in pool.map(run_one, jobs_list, chunksize=1):
            results[name]["scores"][fname] = scores  # type: ignore[index]
            results[name]["seconds"] += secs  # type: ignore[operator]
    for name in names:
        pairs = [(results[name]["scores"][f], by_name[f].labels) for f in by_name]  # type: ignore[index]
        for prof in nab.PROFILES:
            results[name][prof] = nab.sweep(pairs, prof)
    return results


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the corpus, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--detectors", default=",".join(detectors.names()))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--per-file", default=None, help="also print per-file scores of NAME")
    args = ap.parse_args(argv)
    files = load_corpus(args.data)
    names = [n for n in args.detectors.split(",") if n]
    points = sum(len(f.t) for f in files)
    results = evaluate(names, files, args.jobs)
    print(
        f"NAB ({len(files)} files, {points} rows, "
        f"{sum(len(f.labels.windows) for f in files)} windows), threshold optimised per profile"
    )
    print(
        f"{'detector':<12} {'kind':<9} {'standard':>9} {'low_FP':>9} {'low_FN':>9} {'us/point':>9}"
    )
    for name in names:
        r = results[name]
        cols = [r[p].normalized for p in nab.PROFILES]  # type: ignore[attr-defined]
        us = 1e6 * float(r["seconds"]) / points  # type: ignore[arg-type]
        kind = detectors.info(name).kind
        print(f"{name:<12} {kind:<9} {cols[0]:>9.1f} {cols[1]:>9.1f} {cols[2]:>9.1f} {us:>9.1f}")
    if args.per_file:
        r = results[args.per_file]
        thr = r["standard"].threshold  # type: ignore[attr-defined]
        for f in files:
            s = nab.file_score(r["scores"][f.name], f.labels, thr, "standard")  # type: ignore[index]
            print(f"  {f.name:<60} {s:+7.2f}  ({len(f.labels.windows)} windows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
