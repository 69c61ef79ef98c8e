"""Tests that a screen run for good keeps Rich's cache of split segments small, and that the
halves come out the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tui.rich_cache import SPLIT_SEGMENTS

ROOT = Path(__file__).resolve().parents[2]

# Five thousand distinct lines with a cut key are divided where the compositor would cut them;
# the probe prints how many splits Rich then keeps, and the halves of wide and ordinary text.
PROBE = """
from rich.segment import Segment
from tui.rich_cache import bound_split_cache
print(bound_split_cache() if BOUND else "unbounded")
for i in range(5000):
    line = f"sensors/chip{i}/te…p {i} °C ▁▂▃▅▇"  # "…" (a cut key) is not a one-cell glyph to Rich
    list(Segment.divide([Segment(line)], [7, 20, 60]))
halves = [Segment.split_cells(Segment(t), 3) for t in ("日本語", "abcdef")]
print(Segment._split_cells.cache_info().currsize)
print("|".join(s.text for h in halves for s in h))
"""


def probe(bound: bool) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"BOUND = {bound}\n{PROBE}"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    return out.stdout.splitlines()


def test_the_split_cache_holds_at_most_its_bound() -> None:
    said, held, halves = probe(bound=True)
    assert said == "True" and int(held) <= SPLIT_SEGMENTS
    # Rich's own cache, as it comes, keeps every one of them; the halves are the same.
    _, unbounded, same = probe(bound=False)
    assert int(unbounded) >= 10_000 and same == halves
    assert halves == "日 | 語|abc|def"  # a wide glyph cut in two becomes two spaces
