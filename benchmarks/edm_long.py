"""Measures EDM on the longest NAB dev file: CPU time and how much memory the search adds.

    .venv/bin/python benchmarks/edm_long.py [--file ../shared/data/nab-dev/data/...csv]

EDM's exact medians cost quadratic time; their memory is linear (a column or a row of medians
at a time, never the table of them all, which took 400 MB at 7,267 points).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detectors.edm import breakout  # noqa: E402

DEFAULT = (
    ROOT.parent / "shared" / "data" / "nab-dev" / "data" / "realKnownCause"
    / "ambient_temperature_system_failure.csv"
)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT)
    parser.add_argument("--method", default="multi", choices=("multi", "amoc"))
    args = parser.parse_args()
    x = np.loadtxt(args.file, delimiter=",", skiprows=1, usecols=1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()
    locs = breakout(x, 30, args.method)
    cpu = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"EDM {args.method} on {len(x):,} rows of {args.file.name}: {cpu:.1f} s CPU,"
        f" peak RSS {peak / 1024:.0f} MiB (+{(peak - before) / 1024:.0f} MiB for the search),"
        f" {len(locs)} breakouts"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
