"""Provides the chunk codec: delta-of-delta timestamps and XOR-encoded floats, as Gorilla does.

A chunk holds the points of one series over a few minutes. Timestamps are integer
milliseconds; the first is written whole, then each one as the change of the gap to the one
before (delta of delta) in a prefix code whose shortest form, one ``0`` bit, says "same gap".
Values are IEEE doubles; each is XORed with the one before and only the bits that differ are
written, reusing the previous window of meaningful bits when they fit (Facebook's Gorilla
paper, section 4.1, and the Prometheus TSDB chunk format). Anomaly flags are a run-length list.

The encoder is incremental (one point at a time, as the writer receives them) so that an open
chunk can be saved every few seconds without encoding it again; a sealed chunk may then be
zlib-compressed when that makes it smaller.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

RAW = 0
"""First byte of a chunk blob whose bit stream follows as is."""
ZLIB = 1
"""First byte of a chunk blob whose bit stream follows zlib-compressed."""

# Delta-of-delta prefix codes: (prefix bits, prefix length, payload bits). A gap that changes
# by a few milliseconds (the jitter of a poll) fits the 7-bit form; a missed poll the 12-bit one.
_DOD_CODES = ((0b10, 2, 7), (0b110, 3, 9), (0b1110, 4, 12), (0b11110, 5, 20))
_DOD_WIDE = (0b11111, 5, 64)

_pack_double = struct.Struct(">d").pack
_unpack_double = struct.Struct(">d").unpack
_pack_u64 = struct.Struct(">Q").pack
_unpack_u64 = struct.Struct(">Q").unpack


def _float_bits(value: float) -> int:
    return int(_unpack_u64(_pack_double(value))[0])


def _bits_float(bits: int) -> float:
    return float(_unpack_double(_pack_u64(bits))[0])


class ChunkEncoder:
    """Encodes the points of one chunk as they come, one ``append`` at a time."""

    __slots__ = (
        "_acc",
        "_delta",
        "_lead",
        "_nbits",
        "_prev_bits",
        "_run",
        "_run_flag",
        "_runs",
        "_trail",
        "count",
        "first_time",
        "last_time",
    )

    def __init__(self) -> None:
        self._acc = 0
        self._nbits = 0
        self._delta = 0
        self._prev_bits = 0
        self._lead = -1
        self._trail = 0
        self._runs: list[int] = []
        self._run = 0
        self._run_flag = False
        self.count = 0
        """Points appended so far."""
        self.first_time = 0
        """Time of the first point, in milliseconds."""
        self.last_time = 0
        """Time of the last point, in milliseconds."""

    def _write(self, value: int, width: int) -> None:
        self._acc = (self._acc << width) | (value & ((1 << width) - 1))
        self._nbits += width

    def append(self, time_ms: int, value: float, anomalous: bool = False) -> None:
        """Add one point; ``time_ms`` must not be earlier than the last one's."""
        bits = _float_bits(value)
        if self.count == 0:
            self._write(time_ms, 64)
            self._write(bits, 64)
            self.first_time = time_ms
        else:
            delta = time_ms - self.last_time
            self._write_dod(delta - self._delta)
            self._delta = delta
            self._write_xor(bits ^ self._prev_bits)
        self._prev_bits = bits
        self.last_time = time_ms
        self.count += 1
        if anomalous != self._run_flag:
            self._runs.append(self._run)
            self._run, self._run_flag = 0, anomalous
        self._run += 1

    def _write_dod(self, dod: int) -> None:
        if dod == 0:
            self._write(0, 1)
            return
        for prefix, plen, width in _DOD_CODES:
            half = 1 << (width - 1)
            if -half <= dod < half:
                self._write((prefix << width) | (dod & ((1 << width) - 1)), plen + width)
                return
        prefix, plen, width = _DOD_WIDE
        self._write(prefix, plen)
        self._write(dod, width)

    def _write_xor(self, xor: int) -> None:
        if xor == 0:
            self._write(0, 1)
            return
        lead = min(64 - xor.bit_length(), 31)
        trail = (xor & -xor).bit_length() - 1
        if self._lead >= 0 and lead >= self._lead and trail >= self._trail:
            width = 64 - self._lead - self._trail
            self._write((0b10 << width) | (xor >> self._trail), 2 + width)
            return
        width = 64 - lead - trail
        # Six bits hold a width of 1..64; 64 is written as 0.
        header = (0b11 << 11) | (lead << 6) | (width & 63)
        self._write((header << width) | (xor >> trail), 13 + width)
        self._lead, self._trail = lead, trail

    def data(self) -> bytes:
        """The chunk's bit stream so far, padded to a whole byte, behind the RAW marker."""
        pad = -self._nbits % 8
        body = (self._acc << pad).to_bytes((self._nbits + pad) // 8, "big")
        return bytes((RAW,)) + body

    def flags(self) -> bytes:
        """The anomaly flags as run lengths (empty when no point is anomalous)."""
        if not self._runs and not self._run_flag:
            return b""
        return encode_runs([*self._runs, self._run])


def seal(data: bytes, compress: bool = True) -> bytes:
    """Return a finished chunk's blob, zlib-compressed when that makes it smaller."""
    if not compress or data[0] != RAW:
        return data
    packed = zlib.compress(data[1:], 9)
    return bytes((ZLIB,)) + packed if len(packed) + 1 < len(data) else data


class _BitReader:
    __slots__ = ("_big", "_left")

    def __init__(self, body: bytes) -> None:
        self._big = int.from_bytes(body, "big")
        self._left = len(body) * 8

    def read(self, width: int) -> int:
        self._left -= width
        if self._left < 0:
            raise ValueError("chunk ends before its last point")
        return (self._big >> self._left) & ((1 << width) - 1)

    def ones(self, most: int) -> int:
        """Count the 1 bits before the next 0 (reading that 0), stopping after ``most``."""
        n = 0
        while n < most and self.read(1):
            n += 1
        return n


def _signed(value: int, width: int) -> int:
    return value - (1 << width) if value >> (width - 1) else value


def decode(data: bytes, count: int) -> tuple[list[int], list[float]]:
    """Decode ``count`` points of a chunk blob.

    Returns:
        The times in milliseconds and the values, in order.

    Raises:
        ValueError: the blob is not a chunk or holds fewer points than ``count``.
    """
    if not data or data[0] not in (RAW, ZLIB):
        raise ValueError("not a history chunk")
    body = zlib.decompress(data[1:]) if data[0] == ZLIB else data[1:]
    times: list[int] = []
    values: list[float] = []
    if count <= 0:
        return times, values
    bits = _BitReader(body)
    time_ms = _signed(bits.read(64), 64)
    prev = bits.read(64)
    times.append(time_ms)
    values.append(_bits_float(prev))
    delta, lead, trail = 0, 0, 0
    for _ in range(count - 1):
        delta += _read_dod(bits)
        time_ms += delta
        if bits.read(1):
            if bits.read(1):
                lead = bits.read(5)
                width = bits.read(6) or 64
                trail = 64 - lead - width
            prev ^= bits.read(64 - lead - trail) << trail
        times.append(time_ms)
        values.append(_bits_float(prev))
    return times, values


def _read_dod(bits: _BitReader) -> int:
    ones = bits.ones(len(_DOD_CODES) + 1)
    if ones == 0:
        return 0
    if ones <= len(_DOD_CODES):
        width = _DOD_CODES[ones - 1][2]
        return _signed(bits.read(width), width)
    return _signed(bits.read(64), 64)


def encode_runs(runs: list[int]) -> bytes:
    """Write run lengths (alternating, the first of ordinary points) as LEB128 varints."""
    out = bytearray()
    for run in runs:
        while run >= 0x80:
            out.append((run & 0x7F) | 0x80)
            run >>= 7
        out.append(run)
    return bytes(out)


def decode_flags(flags: bytes, count: int) -> list[bool]:
    """Expand a run-length flag list to one bool per point (all False when empty)."""
    result: list[bool] = []
    anomalous = False
    for run in _varints(flags):
        result.extend([anomalous] * run)
        anomalous = not anomalous
    result.extend([False] * (count - len(result)))
    return result[:count]


def _varints(data: bytes) -> Iterator[int]:
    value, shift = 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            yield value
            value, shift = 0, 0
