"""Provides mutations of real recorded inputs for the fuzz tests and benchmarks/fuzz.py:
byte-level edits of smartctl's output and value-level edits of Server Density JSON.

Each mutation is a list of operations, so hypothesis can draw and shrink them and a seeded
``random.Random`` can make thousands of them for the counts.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import strategies as st

BYTE_KINDS = ("insert", "overwrite", "delete", "repeat_line", "number", "truncate")
"""What a byte operation does at its position."""

NASTY_BYTES = (b"\xff", b"\xa0", b"\xc3", b"\xe2\x82", b"\x00", b"\xef\xbf\xbd", "é°".encode())
"""Bytes that break decoders: invalid starts, cut sequences, NUL, a Latin-1 no-break space."""

NASTY_NUMBERS = (b"nan", b"inf", b"-1", b"99999999999999999999999999", b"1e400", b"0x1f", b"")
"""What a number in the output may become."""

ByteOp = tuple[str, float, bytes]


def byte_ops() -> st.SearchStrategy[list[ByteOp]]:
    """Return a strategy for one to four byte operations."""
    payload = st.one_of(st.sampled_from(NASTY_BYTES + NASTY_NUMBERS), st.binary(max_size=6))
    op = st.tuples(st.sampled_from(BYTE_KINDS), st.floats(0, 1, exclude_max=True), payload)
    return st.lists(op, min_size=1, max_size=4)


def random_byte_ops(rng: random.Random) -> list[ByteOp]:
    """Return one to four byte operations drawn from ``rng``."""
    out = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.5:
            payload = rng.choice(NASTY_BYTES + NASTY_NUMBERS)
        else:
            payload = bytes(rng.randrange(256) for _ in range(rng.randint(0, 6)))
        out.append((rng.choice(BYTE_KINDS), rng.random(), payload))
    return out


def mutate_bytes(data: bytes, ops: list[ByteOp]) -> bytes:
    """Apply byte operations to ``data`` (a recorded output)."""
    buf = bytearray(data)
    for kind, where, payload in ops:
        pos = int(where * (len(buf) + 1)) if buf else 0
        pos = min(pos, len(buf))
        if kind == "insert":
            buf[pos:pos] = payload
        elif kind == "overwrite":
            buf[pos : pos + len(payload)] = payload
        elif kind == "delete":
            del buf[pos : pos + 1 + len(payload)]
        elif kind == "repeat_line":
            start = buf.rfind(b"\n", 0, pos) + 1
            end = buf.find(b"\n", pos)
            line = buf[start : (end + 1 if end >= 0 else len(buf))]
            buf[start:start] = line
        elif kind == "number":
            _replace_number(buf, pos, payload)
        elif kind == "truncate":
            del buf[pos:]
    return bytes(buf)


def _replace_number(buf: bytearray, pos: int, payload: bytes) -> None:
    """Replace the first run of digits at or after ``pos`` with ``payload``."""
    i = pos
    while i < len(buf) and not chr(buf[i]).isdigit():
        i += 1
    j = i
    while j < len(buf) and chr(buf[j]).isdigit():
        j += 1
    if i < len(buf):
        buf[i:j] = payload


NASTY_VALUES: tuple[Any, ...] = (
    float("nan"),
    float("inf"),
    float("-inf"),
    10**400,
    -(10**400),
    1e308,
    -1,
    0,
    True,
    None,
    "",
    "up",
    "down",
    "slow",
    "x" * 300,
    "\u202e\x00",
    [],
    {},
    [1, 2],
    {"a": 1},
    2**63,
)
"""What a JSON value may become: NaN, infinities, huge integers, wrong types."""

JsonOp = tuple[float, str, int]
JSON_KINDS = ("replace", "delete", "duplicate")


def json_ops() -> st.SearchStrategy[list[JsonOp]]:
    """Return a strategy for one to four JSON operations."""
    op = st.tuples(
        st.floats(0, 1, exclude_max=True),
        st.sampled_from(JSON_KINDS),
        st.integers(0, len(NASTY_VALUES) - 1),
    )
    return st.lists(op, min_size=1, max_size=4)


def random_json_ops(rng: random.Random) -> list[JsonOp]:
    """Return one to four JSON operations drawn from ``rng``."""
    return [
        (rng.random(), rng.choice(JSON_KINDS), rng.randrange(len(NASTY_VALUES)))
        for _ in range(rng.randint(1, 4))
    ]


def mutate_json(data: Any, ops: list[JsonOp]) -> Any:
    """Return a mutated deep copy of ``data``: values replaced, keys or items removed or
    duplicated, at places chosen among all of its nodes."""
    out = copy.deepcopy(data)
    for where, kind, index in ops:
        slots = list(_slots(out))
        if not slots:
            return NASTY_VALUES[index]
        parent, key = slots[int(where * len(slots))]
        if kind == "replace":
            parent[key] = copy.deepcopy(NASTY_VALUES[index])
        elif kind == "delete":
            del parent[key]
        elif isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        else:
            parent[key] = [parent[key], parent[key]]
    return out


def _slots(node: Any) -> Any:
    """Yield (container, key) for every value inside ``node``, depth first."""
    if isinstance(node, dict):
        for k in list(node):
            yield node, k
            yield from _slots(node[k])
    elif isinstance(node, list):
        for i in range(len(node)):
            yield node, i
            yield from _slots(node[i])
