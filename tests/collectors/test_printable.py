"""Tests ``printable``, which every screen and the command line draw outside text through."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.base import printable

UNSAFE = {*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F)}
UNSAFE |= set(range(0x2066, 0x206A))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_nothing_a_terminal_acts_on_survives(text: str) -> None:
    out = printable(text)
    assert not any(ord(c) in UNSAFE for c in out)
    assert len(out.splitlines() or [""]) == 1
    kept = [c for c in text if ord(c) not in UNSAFE]
    assert all(c in out for c in kept)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp"))))
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert printable(text) == text
    assert all(unicodedata.category(c) != "Cc" for c in printable(text))
