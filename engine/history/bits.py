"""Provides the bit-level pieces of the chunk codec: prefix codes, floats as bits, varints."""

from __future__ import annotations

import struct
from collections.abc import Iterator

Codes = tuple[tuple[int, int, int], ...]
"""Prefix codes: (prefix bits, prefix length, payload bits), shortest first."""

DOD_CODES: Codes = ((0b10, 2, 7), (0b110, 3, 9), (0b1110, 4, 12), (0b11110, 5, 20))
"""Delta-of-delta codes; a single 0 bit means 0, five 1 bits a 64-bit payload. A gap that
changes by a few milliseconds (a poll's jitter) fits the 7-bit form, a missed poll the 12-bit
one."""
DEFAULT_LADDER = (6, 13, 20, 32, 56)
"""Payload widths of the decimal delta codes when the chunk's own do no better."""

_pack_double = struct.Struct(">d").pack
_unpack_double = struct.Struct(">d").unpack
_pack_u64 = struct.Struct(">Q").pack
_unpack_u64 = struct.Struct(">Q").unpack


def float_bits(value: float) -> int:
    """The 64 bits of a double, as an unsigned integer."""
    return int(_unpack_u64(_pack_double(value))[0])


def bits_float(bits: int) -> float:
    """The double whose 64 bits are ``bits``."""
    return float(_unpack_double(_pack_u64(bits))[0])


def ladder_codes(widths: tuple[int, ...]) -> Codes:
    """Prefix codes ``10``, ``110``, ``1110``... with the given payload widths."""
    return tuple(((1 << (k + 2)) - 2, k + 2, width) for k, width in enumerate(widths))


def signed(value: int, width: int) -> int:
    """Read ``width`` bits of two's complement."""
    return value - (1 << width) if value >> (width - 1) else value


def varint(value: int) -> bytes:
    """An unsigned integer as LEB128."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def varints(data: bytes) -> Iterator[int]:
    """The LEB128 integers of a byte string, in order."""
    value, shift = 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            yield value
            value, shift = 0, 0
