"""Leave-one-category-out check of a streaming detector on the NAB development corpus.

    .venv/bin/python benchmarks/nab_loco.py [--detector auto] [--jobs 2]
                                            [--grid window=100,200,400 --grid rest=50,100,200]

``benchmarks/nab.py`` optimises the threshold on the very files it scores. Here each of the
five categories is held out in turn: the detector's settings (every combination of the
``--grid`` values, the defaults when none is given) and then, per profile, the threshold are
chosen to maximise the score on the other four categories, and the held-out category is scored
with those choices. Settings are chosen on the standard profile (one detector, one set of
settings), thresholds per profile, as ``nab.py`` does.

Printed per held-out category: its normalised score (its raw total when it has no window) and
the settings chosen for it; then the pooled figure, the raw totals of all five held-out
categories normalised over all 53 windows. For comparison, the last lines give the best setting
scored on the whole corpus (the optimistic figure ``nab.py`` reports) and the defaults with
only the threshold held out (settings tuned in sight of every category, so still optimistic).
Every (setting, file) score array is computed once and reused by every fold.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from nab import DEFAULT_DATA, NabFile, load_corpus  # noqa: E402

from detectors import nab  # noqa: E402
from detectors.run import OPTIONS, score_series  # noqa: E402

DEFAULT_GRID = ("window=100,200,400", "rest=50,100,200", "memory=300,1000,3000")
"""The settings tuned per fold when ``--grid`` is not given (for ``auto``)."""

Setting = tuple[tuple[str, Any], ...]
Table = dict[Setting, dict[str, np.ndarray]]


def category(f: NabFile) -> str:
    """A file's category: the folder it lives in."""
    return f.name.split("/")[0]


def parse_grid(name: str, specs: Sequence[str]) -> list[Setting]:
    """Every combination of ``key=v1,v2,...`` specs, values typed as the detector's options."""
    types = {o.name: o.type for o in OPTIONS[name]}
    axes = []
    for spec in specs:
        key, _, vals = spec.partition("=")
        if key not in types:
            raise SystemExit(f"{name} has no option {key!r} (it has {', '.join(types)})")
        cast = (lambda v: v.lower() in ("1", "true", "yes")) if types[key] is bool else types[key]
        axes.append([(key, cast(v)) for v in vals.split(",") if v])
    return [tuple(combo) for combo in itertools.product(*axes)]


def _run(args: tuple[str, Setting, NabFile]) -> tuple[Setting, str, np.ndarray, float]:
    name, setting, f = args
    start = time.perf_counter()
    scores = score_series(name, f.t, f.x, **dict(setting))
    return setting, f.name, scores, time.perf_counter() - start


def score_table(
    name: str, settings: Sequence[Setting], files: Sequence[NabFile], jobs: int
) -> tuple[Table, float]:
    """Scores of every file under every setting, and the seconds spent per point."""
    table: Table = {s: {} for s in settings}
    work = [(name, s, f) for s in settings for f in files]
    secs = 0.0
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for setting, fname, scores, spent in pool.map(_run, work, chunksize=4):
            table[setting][fname] = scores
            secs += spent
    points = len(settings) * sum(len(f.t) for f in files)
    return table, secs / max(points, 1)


def _pairs(scores: dict[str, np.ndarray], files: Sequence[NabFile]) -> list[Any]:
    return [(scores[f.name], f.labels) for f in files]


def _windows(files: Sequence[NabFile]) -> int:
    return sum(nab._counted_windows(f.labels) for f in files)


def _normalised(raw: float, windows: int, profile: str) -> float:
    p = nab.PROFILES[profile]
    perfect, null = p.a_tp * windows, -p.a_fn * windows
    return 100.0 * (raw - null) / (perfect - null) if windows else float("nan")


def loco(table: Table, files: Sequence[NabFile]) -> dict[str, Any]:
    """Hold out each category in turn; returns per category the chosen setting and, per
    profile, the held-out raw total, and the pooled normalised figure per profile."""
    cats = sorted({category(f) for f in files})
    out: dict[str, Any] = {"folds": {}, "pooled": {}}
    pooled = dict.fromkeys(nab.PROFILES, 0.0)
    for cat in cats:
        train = [f for f in files if category(f) != cat]
        test = [f for f in files if category(f) == cat]
        best = max(table, key=lambda s: nab.sweep(_pairs(table[s], train), "standard").raw)
        fold: dict[str, Any] = {"setting": best, "windows": _windows(test)}
        for prof in nab.PROFILES:
            thr = nab.sweep(_pairs(table[best], train), prof).threshold
            raw = sum(nab.file_score(table[best][f.name], f.labels, thr, prof) for f in test)
            fold[prof] = raw
            pooled[prof] += raw
        out["folds"][cat] = fold
    for prof in nab.PROFILES:
        out["pooled"][prof] = _normalised(pooled[prof], _windows(files), prof)
    return out


def _fmt(setting: Setting) -> str:
    return " ".join(f"{k}={v}" for k, v in setting) or "(defaults)"


def report(table: Table, files: Sequence[NabFile], us: float) -> dict[str, Any]:
    """Print the LOCO table and the in-sample comparisons; return the LOCO result."""
    res = loco(table, files)
    profs = list(nab.PROFILES)
    print(f"{'held out':<24} {'windows':>7} {'standard':>9} {'low_FP':>9} {'low_FN':>9}  chosen")
    for cat, fold in res["folds"].items():
        w = fold["windows"]
        cells = []
        for p in profs:
            cells.append(f"{_normalised(fold[p], w, p):>9.1f}" if w else f"{fold[p]:>+8.2f}r")
        print(f"{cat:<24} {w:>7} {' '.join(cells)}  {_fmt(fold['setting'])}")
    pooled = " ".join(f"{res['pooled'][p]:>9.1f}" for p in profs)
    print(f"{'pooled (LOCO)':<24} {_windows(files):>7} {pooled}")
    whole = {s: {p: nab.sweep(_pairs(table[s], files), p).normalized for p in profs} for s in table}
    best = max(whole, key=lambda s: whole[s]["standard"])
    row = " ".join(f"{whole[best][p]:>9.1f}" for p in profs)
    print(f"{'in-sample, best setting':<24} {_windows(files):>7} {row}  {_fmt(best)}")
    print(f"({len(table)} settings, {us * 1e6:.1f} us/point; r = raw total, no window)")
    return res


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, score the corpus under every setting, print the LOCO table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--detector", default="auto")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--grid", action="append", default=None, help="key=v1,v2,... (repeatable)")
    ap.add_argument("--no-grid", action="store_true", help="defaults only, threshold held out")
    args = ap.parse_args(argv)
    files = load_corpus(args.data)
    specs = [] if args.no_grid else args.grid or (DEFAULT_GRID if args.detector == "auto" else [])
    settings = parse_grid(args.detector, specs) or [()]
    start = time.perf_counter()
    table, us = score_table(args.detector, settings, files, args.jobs)
    tuned = ", ".join(specs) or "threshold only"
    print(f"{args.detector}: leave one category out, {len(files)} files; tuned per fold: {tuned}")
    report(table, files, us)
    if settings != [()]:
        base, _ = score_table(args.detector, [()], files, args.jobs)
        print("defaults, threshold held out:")
        report(base, files, us)
    print(f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
