"""Provides the reading of a chunk's bit stream (see ``codec``): its times and values.

Python reads a bit stream quickest as a string of ``0`` and ``1``: the ones that lead a prefix
code are found with ``str.find`` and a payload is ``int(bits[a:b], 2)``, both in C, where a
reader of bits pays an interpreted call for each bit of a prefix. Warming the detectors of a
restarted monitor decodes every series' last 2,000 points, so this is its cost.
"""

from __future__ import annotations

import math
import struct

from engine.history.bits import DOD_CODES, float_bits

_DOD_WIDTHS = tuple(code[2] for code in DOD_CODES)
_ESCAPE = len(DOD_CODES) + 1
"""Ones of the delta-of-delta code whose payload is 64 bits."""
_double = struct.Struct(">d")
_u64 = struct.Struct(">Q")


def stream_bits(body: bytes, count: int) -> str:
    """The bits of a chunk's stream as text, then zeros enough that reading ``count`` points
    never runs past the text: a short chunk shows by where the reading ends (see ``ended``)."""
    size = len(body) * 8
    bits = format(int.from_bytes(body, "big"), f"0{size}b") if body else ""
    return bits + "0" * (2 * count + 160)


def ended(stream: bytes, pos: int) -> None:
    """Raise if reading the stream stopped at bit ``pos``, past its end.

    Raises:
        ValueError: the chunk holds fewer points than were read.
    """
    if pos > len(stream) * 8:
        raise ValueError("chunk ends before its last point")


def _u(bits: str, start: int, width: int) -> int:
    return int(bits[start : start + width], 2) if width else 0


def _dod(bits: str, pos: int) -> tuple[int, int]:
    """The delta of delta at ``pos`` (not a lone 0 bit) and where the next code starts."""
    stop = bits.find("0", pos, pos + _ESCAPE)
    ones = _ESCAPE if stop < 0 else stop - pos
    if ones == _ESCAPE:
        raw = _u(bits, pos + ones, 64)
        return raw - (1 << 64) if raw >> 63 else raw, pos + ones + 64
    width = _DOD_WIDTHS[ones - 1]
    raw = _u(bits, pos + ones + 1, width)
    return raw - (1 << width) if raw >> (width - 1) else raw, pos + ones + 1 + width


def xor_points(
    bits: str, count: int, time_ms: int, unit: int, first: int
) -> tuple[list[int], list[float], int]:
    """The points of an XOR-encoded stream from bit 128 on; also where the reading ended."""
    times, values = [time_ms], [_double.unpack(_u64.pack(first))[0]]
    pos, delta, prev, lead, trail = 128, 0, first, 0, 0
    for _ in range(count - 1):
        if bits[pos] == "0":
            pos += 1
        else:
            dod, pos = _dod(bits, pos)
            delta += dod
        time_ms += delta * unit
        times.append(time_ms)
        if bits[pos] == "1":
            if bits[pos + 1] == "1":
                lead = int(bits[pos + 2 : pos + 7], 2)
                trail = 64 - lead - (int(bits[pos + 7 : pos + 13], 2) or 64)
                pos += 11
            width = 64 - lead - trail
            prev ^= _u(bits, pos + 2, width) << trail
            pos += 2 + width
            values.append(_double.unpack(_u64.pack(prev))[0])
        else:
            pos += 1
            values.append(values[-1])
    return times, values, pos


def decimal_points(
    bits: str, count: int, time_ms: int, unit: int, first: int, digits: int, widths: tuple[int, ...]
) -> tuple[list[int], list[float], int]:
    """The points of a stream of decimal deltas (``digits`` after the point, codes of
    ``widths``) from bit 128 on; also where the reading ended."""
    scale = 10.0**digits
    value = _double.unpack(_u64.pack(first))[0]
    times, values = [time_ms], [value]
    prev = round(value * scale) if math.isfinite(value) and abs(value) * scale < 2**53 else 0
    escape = len(widths) + 1
    pos, delta = 128, 0
    for _ in range(count - 1):
        if bits[pos] == "0":
            pos += 1
        else:
            dod, pos = _dod(bits, pos)
            delta += dod
        time_ms += delta * unit
        times.append(time_ms)
        stop = bits.find("0", pos, pos + escape)
        ones = escape if stop < 0 else stop - pos
        ulps = 0
        if ones == escape:  # a raw double, or ulps off the digits before the code
            if bits[pos + escape] == "1":
                values.append(_double.unpack(_u64.pack(_u(bits, pos + escape + 1, 64)))[0])
                pos += escape + 65
                continue
            ulps = _u(bits, pos + escape + 1, 4)
            ulps, pos = (ulps - 16 if ulps >> 3 else ulps), pos + escape + 5
            stop = bits.find("0", pos, pos + escape)
            ones = escape if stop < 0 else stop - pos
        if ones:
            width = widths[ones - 1] if ones < escape else 1
            start = pos + ones + (ones < escape)
            zigzag = _u(bits, start, width)
            prev += (zigzag >> 1) ^ -(zigzag & 1)
            pos = start + width
        else:
            pos += 1
        got = prev / scale
        values.append(_double.unpack(_u64.pack(float_bits(got) + ulps))[0] if ulps else got)
    return times, values, pos
