"""Mutates NAB CSV files and feeds each to ``gongwatch detect``'s reader and a detector, counting
how each ends: scored, refused cleanly in one line, or escaped (a traceback, a hang, a NaN in
the output, a multi-line message).

    .venv/bin/python benchmarks/fuzz_detect.py [--runs 3000] [--seed 1] [--cli 12]

Every run goes through the command itself (``cmd_detect``: the CSV reader, the options and the
detector) in this process, for speed; ``--cli`` of them also go through the real console
script (``gongwatch detect FILE``) with a timeout.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.cli import build_parser  # noqa: E402
from engine.detect_cli import cmd_detect  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "nab-dev" / "data"
ROWS = 400
"""Rows kept of each file: enough for every detector to warm up, few enough to run fast."""
DETECTORS = ("auto", "robust_z", "holtwinters", "season", "cv", "gaussian", "ema", "shesd", "edm")
CLI_TIMEOUT = 60.0

Mutation = Callable[[random.Random, list[bytes]], list[bytes]]


def _row(rng: random.Random, lines: list[bytes]) -> int:
    return rng.randrange(1, len(lines)) if len(lines) > 1 else 0


def _set_value(value: bytes) -> Mutation:
    def mutate(rng: random.Random, lines: list[bytes]) -> list[bytes]:
        i = _row(rng, lines)
        stamp = lines[i].split(b",", 1)[0]
        lines[i] = stamp + b"," + value
        return lines

    return mutate


def bad_byte(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    i = _row(rng, lines)
    j = rng.randrange(len(lines[i]) + 1)
    lines[i] = lines[i][:j] + bytes([rng.choice([0xFF, 0xFE, 0xC3, 0x80, 0x00])]) + lines[i][j:]
    return lines


def huge_field(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    i = _row(rng, lines)
    lines[i] = lines[i] + b"," + b"9" * rng.choice([131_073, 200_000])
    return lines


def duplicate_stamps(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    i = _row(rng, lines)
    stamp = lines[i].split(b",", 1)[0]
    for k in range(i, min(len(lines), i + rng.randint(2, 60))):
        lines[k] = stamp + b"," + lines[k].split(b",", 1)[-1]
    return lines


def step_back(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    i, j = sorted(rng.sample(range(1, len(lines)), 2)) if len(lines) > 3 else (0, 0)
    lines[i], lines[j] = lines[j], lines[i]
    return lines


def dst_hour(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    """Repeat an hour of rows, as a local-time export does when the clocks go back."""
    i = _row(rng, lines)
    return lines[: i + 1] + lines[max(1, i - 12) : i + 1] + lines[i + 1 :]


def drop_column(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    i = _row(rng, lines)
    lines[i] = lines[i].split(b",", 1)[0]
    return lines


def garbage_stamp(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    i = _row(rng, lines)
    stamp = rng.choice([b"", b"yesterday", b"1e400", b"nan", b"inf", b"2014-13-45 99:99:99"])
    lines[i] = stamp + b"," + lines[i].split(b",", 1)[-1]
    return lines


def quote(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    i = _row(rng, lines)
    lines[i] = b'"' + lines[i]
    return lines


def bom_crlf(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    return [line + b"\r" for line in lines]


def truncate(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    return lines[: rng.randint(0, 3)]


def constant(rng: random.Random, lines: list[bytes]) -> list[bytes]:
    return [lines[0]] + [line.split(b",", 1)[0] + b",1e308" for line in lines[1:]]


MUTATIONS: tuple[Mutation, ...] = (
    _set_value(b"nan"),
    _set_value(b"inf"),
    _set_value(b"-1e308"),
    _set_value(b"1.7976931348623157e308"),
    _set_value(b""),
    _set_value(b"12,34"),
    _set_value(b"0x1f"),
    bad_byte,
    huge_field,
    duplicate_stamps,
    step_back,
    dst_hour,
    drop_column,
    garbage_stamp,
    quote,
    bom_crlf,
    truncate,
    constant,
)


def mutate(rng: random.Random, original: list[bytes]) -> bytes:
    """Apply one to three mutations to a copy of the lines."""
    lines = list(original)
    for _ in range(rng.randint(1, 3)):
        if not lines:
            break
        lines = rng.choice(MUTATIONS)(rng, lines)
    return b"\n".join(lines) + b"\n"


def judge(path: Path, detector: str) -> str:
    """Run ``gongwatch detect`` in this process on one file: ``scored``, ``refused`` (exit 2 and
    one line on stderr) or ``escaped: why``."""
    args = build_parser().parse_args(["detect", str(path), "--detector", detector])
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            status = cmd_detect(args)
    except Exception as exc:  # the point of the harness: anything that escapes the command
        return f"escaped: {type(exc).__name__}"
    return outcome(status, out.getvalue(), err.getvalue())


def outcome(status: int, out: str, err: str) -> str:
    """Classify how one run of the command ended."""
    if "Traceback" in err:
        return "escaped: traceback"
    if status == 2:
        return "refused" if len(err.strip().splitlines()) == 1 else "escaped: multi-line message"
    if status != 0:
        return f"escaped: exit {status}"
    scores = [float(row.rsplit(",", 1)[-1]) for row in out.splitlines()[1:]]
    if not all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores):
        return "escaped: score not in [0, 1]"
    return "scored"


def judge_cli(path: Path, detector: str) -> str:
    """Run the real console script on one file with a timeout."""
    exe = shutil.which("gongwatch", path=str(Path(sys.executable).parent)) or "gongwatch"
    try:
        proc = subprocess.run(
            [exe, "detect", str(path), "--detector", detector],
            capture_output=True, text=True, errors="replace", timeout=CLI_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return "escaped: hang"
    return outcome(proc.returncode, proc.stdout, proc.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cli", type=int, default=12, help="runs also made by the real CLI")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sources = sorted(DATA.glob("*/*.csv"))
    originals = {p: p.read_bytes().splitlines()[: ROWS + 1] for p in sources}
    outcomes: Counter[str] = Counter()
    cli: Counter[str] = Counter()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gongwatch-fuzz-") as tmp:
        path = Path(tmp) / "mutated.csv"
        cli_at = set(rng.sample(range(args.runs), min(args.cli, args.runs)))
        for run in range(args.runs):
            path.write_bytes(mutate(rng, originals[rng.choice(sources)]))
            detector = rng.choice(DETECTORS)
            outcomes[judge(path, detector)] += 1
            if run in cli_at:
                cli[judge_cli(path, detector)] += 1
    seconds = time.perf_counter() - start
    print(report("in process", outcomes) + f" ({seconds:.0f} s)")
    print(report("through `gongwatch detect`", cli))
    return 0 if not any(k.startswith("escaped") for k in outcomes | cli) else 1


def report(where: str, counts: Counter[str]) -> str:
    """One line: tried, scored, refused cleanly, escaped (and how)."""
    escaped = {k.split(": ", 1)[1]: n for k, n in counts.items() if k.startswith("escaped")}
    how = ", ".join(f"{n} {k}" for k, n in sorted(escaped.items())) or "none"
    return (
        f"{where}: tried {sum(counts.values())} · scored {counts['scored']} · refused cleanly"
        f" in one line {counts['refused']} · escaped {sum(escaped.values())} ({how})"
    )


if __name__ == "__main__":
    sys.exit(main())
