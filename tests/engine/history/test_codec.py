"""Tests the chunk codec: every point comes back bit for bit, in every encoding."""

from __future__ import annotations

import contextlib
import json
import math
import random
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.history.codec import ZLIB, ChunkEncoder, decode, decode_flags
from engine.history.open_chunk import OpenChunk
from engine.history.sealing import _PERCENTILES, choose_ladder, decimal_digits, percentiles, seal

READINGS = Path(__file__).resolve().parents[2] / "data" / "system_readings.jsonl"
ROOT = Path(__file__).resolve().parents[3]


def same(a: float, b: float) -> bool:
    """Equal to the bit (so -0.0 differs from 0.0 and NaN equals NaN)."""
    return struct.pack(">d", a) == struct.pack(">d", b)


def encode(points: list[tuple[int, float, bool]]) -> OpenChunk:
    chunk = OpenChunk()
    for t, v, flag in points:
        chunk.append(t, v, flag)
    return chunk


def gorilla(points: list[tuple[int, float, bool]]) -> ChunkEncoder:
    chunk = ChunkEncoder()
    for t, v, flag in points:
        chunk.append(t, v, flag)
    return chunk


def assert_round_trip(points: list[tuple[int, float, bool]]) -> None:
    chunk = encode(points)
    assert gorilla(points).flags() == chunk.flags()
    blobs = (chunk.data(), gorilla(points).data(), seal(chunk), seal(chunk, compress=False))
    for blob in blobs:
        times, values = decode(blob, len(points))
        assert times == [p[0] for p in points]
        bad = [
            (a, b) for a, b in zip(values, (p[1] for p in points), strict=True) if not same(a, b)
        ]
        assert not bad, bad[:3]
        assert decode_flags(chunk.flags(), len(points)) == [p[2] for p in points]


def random_points(rng: random.Random, kind: int) -> list[tuple[int, float, bool]]:
    n = rng.randint(1, 300)
    t = rng.randint(-(10**12), 10**13)
    points = []
    for i in range(n):
        if kind == 0:
            t += rng.choice([0, 1000, 999, 1003, 5000, rng.randint(0, 10**9), 2**40])
            v = rng.choice([1.0, rng.random(), float(i), -0.0, math.inf, 1e300, math.nan, 1e-310])
        elif kind == 1:
            t += 60_000 * rng.randint(0, 3)
            v = rng.randint(-(10**6), 10**6) / 100
        else:
            t += rng.choice([300_000, 600_000])
            v = rng.choice([36.806999999999995, 0.1 + 0.2, 1.5, -7.25, 12345678.9, -0.0, 1e18])
            v = v if rng.random() > 0.05 else rng.choice([math.nan, -math.inf, 1e300, 5e-324])
        points.append((t, v, rng.random() < 0.1))
    return points


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_random_chunks_round_trip_exactly(kind: int) -> None:
    rng = random.Random(kind)
    for _ in range(60):
        assert_round_trip(random_points(rng, kind))


def test_recorded_readings_round_trip_and_shrink_when_sealed() -> None:
    series: dict[str, list[tuple[int, float, bool]]] = {}
    for line in READINGS.read_text().splitlines():
        r = json.loads(line)
        series.setdefault(r["key"], []).append((round(r["time"] * 1000), r["value"], False))
    for points in series.values():
        assert_round_trip(points)
        assert len(seal(encode(points))) <= len(gorilla(points).data())


def test_one_decimal_readings_seal_as_decimal_deltas_in_a_coarse_unit() -> None:
    points = [
        (1_700_000_000_000 + 60_000 * i, round(20 + (i % 7) * 0.1, 1), False) for i in range(240)
    ]
    chunk = encode(points)
    sealed = seal(chunk, compress=False)
    assert sealed[1:5] == bytes((0xE0, 0xD4, 0x03, 2))  # varint 60000 (ms), 1 digit
    assert len(sealed) < len(gorilla(points).data()) / 2
    assert decode(sealed, 240) == ([p[0] for p in points], [p[1] for p in points])


def test_zlib_is_used_only_when_it_shrinks_the_chunk() -> None:
    short = encode([(1_789_012_345_678, 0.123456789, False)])
    flat = encode([(1000 * i, 5.0, False) for i in range(240)])
    assert seal(short)[0] & ZLIB == 0  # zlib's own header would cost more than it saves
    assert seal(flat)[0] & ZLIB and len(seal(flat)) < len(seal(flat, compress=False))


def test_decimal_digits_tolerate_sum_artifacts_but_not_noise() -> None:
    assert decimal_digits(np.array([36.807, 36.806999999999995, 40.294000000000004])) == 3
    assert decimal_digits(np.array([1.0, 2.0, 3.0])) == 0
    assert decimal_digits(np.random.default_rng(0).random(100)) is None
    assert decimal_digits(np.array([])) is None


def test_a_chunk_gets_its_own_code_widths_when_they_are_cheaper() -> None:
    rng = np.random.default_rng(0)
    values = np.cumsum(rng.integers(-300, 300, 240)) / 100.0
    ladder, bits = choose_ladder(values, 2)
    assert ladder[-1] <= 11 and bits < 12 * 240
    assert choose_ladder(np.full(10, 3.0), 0) == ((6, 13, 20, 32, 56), 9 + 40)


def test_flags_are_run_lengths() -> None:
    chunk = encode([(i, 0.0, 10 <= i < 13) for i in range(400)])
    assert chunk.flags() == bytes((10, 3, 0x83, 0x03))  # 10 ordinary, 3 anomalous, 387
    assert encode([(i, 0.0, False) for i in range(9)]).flags() == b""
    assert decode_flags(b"", 3) == [False] * 3


def test_garbage_is_refused() -> None:
    with pytest.raises(ValueError, match="not a history chunk"):
        decode(b"\x80abc", 1)
    for chunk in (encode([(i, float(i), False) for i in range(3)]), gorilla([(1, 2.0, False)])):
        with pytest.raises(ValueError, match="ends before"):
            decode(chunk.data(), 50)


def test_random_bytes_are_read_or_refused_with_a_value_error() -> None:
    """Never another error: a chunk that cannot be read costs its series' warm start or
    chart, which callers catch as a ValueError, never the thread reading it."""
    rng = random.Random(3)
    for _ in range(3000):
        widths = [rng.randint(0, 80) for _ in range(rng.randint(0, 6))]
        head = bytes((0, rng.choice([1, 60]), rng.choice([0, 1, 4]), len(widths), *widths))
        blob = head + rng.randbytes(rng.randint(0, 120))
        with contextlib.suppress(ValueError):  # what callers catch for a chunk not to be read
            times, values = decode(blob, rng.randint(1, 400))
            assert len(times) == len(values)


def test_the_ladder_percentiles_are_numpys_without_numpy_ma() -> None:
    rng = np.random.default_rng(4)
    for n in [*range(1, 30), 240, 1000] * 5:
        need = rng.integers(1, 64, size=n)
        ours = percentiles(need, _PERCENTILES).tolist()
        assert ours == np.percentile(need, _PERCENTILES).tolist()
    code = (
        "import sys, numpy as np\n"
        "from engine.history.sealing import choose_ladder\n"
        "choose_ladder(np.cumsum(np.random.default_rng(1).normal(size=240)), 2)\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr
