"""Provides the chunk codec: delta-of-delta timestamps and XOR-encoded floats, as Gorilla does.

A chunk holds the points of one series, a few minutes of them at 1 Hz. Timestamps are
integer milliseconds; the first is written whole, then each one as the change of the gap
to the one before (delta of delta) in a prefix code whose shortest form, one ``0`` bit, says
"same gap". Values are IEEE doubles; each is XORed with the one before and only the bits that
differ are written, reusing the previous window of meaningful bits when they fit (Facebook's
Gorilla paper, section 4.1, and the Prometheus TSDB chunk format). Anomaly flags are a
run-length list beside the data.

A chunk is encoded once, when it is sealed (see ``sealing``, which also chooses a coarser
time unit and decimal values when they are smaller); until then it is kept plain (see
``open_chunk``), and ``decode`` reads both.

Blob layout: one byte of flags (bit 0: the rest is zlib-compressed); a varint time unit in
milliseconds; one byte of value code (0: XOR; 1 + e: decimal with e digits after the point,
then one byte n and n payload widths of its delta codes); the bit stream.
"""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np

from engine.history.bits import (
    DEFAULT_LADDER,
    DOD_CODES,
    Codes,
    float_bits,
    ladder_codes,
    signed,
    varint,
    varints,
)
from engine.history.decoding import decimal_points, ended, stream_bits, xor_points
from engine.history.open_chunk import RAW_POINTS

ZLIB = 1
"""Flag bit of a blob whose body is zlib-compressed."""
XOR = 0
"""Value code of XOR-encoded doubles."""
ULPS = 8
"""A decimal value may be off its digits by fewer units in the last place than this (the
``36.806999999999995`` a sum leaves); more, and the raw double is written."""


class ChunkEncoder:
    """Encodes the points of one chunk as they come, one ``append`` at a time."""

    __slots__ = (
        "_acc",
        "_codes",
        "_decimal",
        "_delta",
        "_escape",
        "_lead",
        "_limit",
        "_nbits",
        "_prev",
        "_run",
        "_run_flag",
        "_runs",
        "_scale",
        "_trail",
        "_unit",
        "count",
        "first_time",
        "last_time",
    )

    def __init__(
        self, unit: int = 1, decimal: int | None = None, ladder: tuple[int, ...] = DEFAULT_LADDER
    ) -> None:
        """Start an empty chunk.

        Args:
            unit: milliseconds per time step; every gap must be a multiple of it.
            decimal: write values as integers of ``10**-decimal`` (those that are not go raw).
            ladder: payload widths of the codes for decimal deltas.
        """
        self._unit = unit
        self._decimal = decimal
        self._scale = 10.0 ** (decimal or 0)
        self._codes: Codes = ladder_codes(ladder)
        self._limit = 1 << ladder[-1]
        # n + 1 ones escape a decimal value: a 0 bit and 4 bits of ulps, or a 1 bit and raw.
        self._escape = ((1 << (len(ladder) + 1)) - 1, len(ladder) + 1)
        self._acc = 0
        self._nbits = 0
        self._delta = 0
        self._prev = 0
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
        if self.count == 0:
            self._write(time_ms, 64)
            self._prev = float_bits(value)
            self._write(self._prev, 64)
            if self._decimal is not None:
                self._prev = anchor(value, self._scale)
            self.first_time = time_ms
        else:
            delta = (time_ms - self.last_time) // self._unit
            self._write_dod(delta - self._delta)
            self._delta = delta
            if self._decimal is None:
                bits = float_bits(value)
                self._write_xor(bits ^ self._prev)
                self._prev = bits
            else:
                self._write_decimal(value)
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
        for prefix, plen, width in DOD_CODES:
            if -(1 << (width - 1)) <= dod < 1 << (width - 1):
                self._write((prefix << width) | (dod & ((1 << width) - 1)), plen + width)
                return
        self._write(0b11111, 5)
        self._write(dod, 64)

    def _write_decimal(self, value: float) -> None:
        scale = self._scale
        if math.isfinite(value) and abs(value) * scale < 2**53:
            scaled = round(value * scale)
            ulps = float_bits(value) - float_bits(scaled / scale)
            step = scaled - self._prev
            zigzag = (step << 1) ^ (step >> 63)
            if -ULPS <= ulps < ULPS and zigzag < self._limit:
                if ulps:
                    self._write((self._escape[0] << 5) | (ulps & 15), self._escape[1] + 5)
                self._write_zigzag(zigzag)
                self._prev = scaled
                return
        self._write((self._escape[0] << 1) | 1, self._escape[1] + 1)
        self._write(float_bits(value), 64)

    def _write_zigzag(self, zigzag: int) -> None:
        if zigzag == 0:
            self._write(0, 1)
            return
        for prefix, plen, width in self._codes:
            if zigzag < 1 << width:
                self._write((prefix << width) | zigzag, plen + width)
                return

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

    @property
    def nbits(self) -> int:
        """Bits of the stream so far."""
        return self._nbits

    def data(self) -> bytes:
        """The chunk's blob so far (uncompressed)."""
        pad = -self._nbits % 8
        body = (self._acc << pad).to_bytes((self._nbits + pad) // 8, "big")
        if self._decimal is None:
            return bytes((0, *varint(self._unit), XOR)) + body
        widths = [code[2] for code in self._codes]
        head = (0, *varint(self._unit), 1 + self._decimal, len(widths), *widths)
        return bytes(head) + body

    def flags(self) -> bytes:
        """The anomaly flags as run lengths (empty when no point is anomalous)."""
        if not self._runs and not self._run_flag:
            return b""
        return b"".join(varint(run) for run in [*self._runs, self._run])


def anchor(value: float, scale: float) -> int:
    """The integer the decimal deltas of a chunk start from: its first value, scaled."""
    return round(value * scale) if math.isfinite(value) and abs(value) * scale < 2**53 else 0


def decode(data: bytes, count: int) -> tuple[list[int], list[float]]:
    """Decode ``count`` points of a chunk blob.

    Returns:
        The times in milliseconds and the values, in order.

    Raises:
        ValueError: the blob is not a chunk or holds fewer points than ``count``.
    """
    if data and data[0] == RAW_POINTS:
        return _plain(data, count)
    if not data or data[0] & ~ZLIB:
        raise ValueError("not a history chunk")
    body = zlib.decompress(data[1:]) if data[0] & ZLIB else data[1:]
    unit = next(varints(body))
    at = len(varint(unit))
    code = body[at]
    at += 1
    widths: tuple[int, ...] = ()
    if code != XOR:
        widths = tuple(body[at + 1 : at + 1 + body[at]])
        at += 1 + len(widths)
    if count <= 0:
        return [], []
    stream = body[at:]
    bits = stream_bits(stream, count)
    time_ms = signed(int(bits[:64], 2), 64)
    first = int(bits[64:128], 2)
    try:
        if code == XOR:
            times, values, end = xor_points(bits, count, time_ms, unit, first)
        else:
            times, values, end = decimal_points(bits, count, time_ms, unit, first, code - 1, widths)
    except IndexError as exc:  # garbage read on past the zeros after the stream
        raise ValueError("chunk ends before its last point") from exc
    except struct.error as exc:  # garbage: ulps that take a value out of the doubles
        raise ValueError(f"not a history chunk: {exc}") from exc
    ended(stream, end)
    return times, values


def _plain(data: bytes, count: int) -> tuple[list[int], list[float]]:
    if len(data) < 1 + 16 * count:
        raise ValueError("chunk ends before its last point")
    times = np.frombuffer(data, dtype="<i8", count=count, offset=1)
    values = np.frombuffer(data, dtype="<f8", count=count, offset=1 + 8 * count)
    return [int(t) for t in times.tolist()], [float(v) for v in values.tolist()]


def decode_flags(flags: bytes, count: int) -> list[bool]:
    """Expand a run-length flag list to one bool per point (all False when empty)."""
    result: list[bool] = []
    anomalous = False
    for run in varints(flags):
        result.extend([anomalous] * run)
        anomalous = not anomalous
    result.extend([False] * (count - len(result)))
    return result[:count]
