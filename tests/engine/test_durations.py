"""Tests the duration parser the configuration and the CLI share."""

from __future__ import annotations

import pytest

from engine.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0),
        ("10m", 600.0),
        ("2h", 7200.0),
        ("7d", 604800.0),
        ("2w", 1209600.0),
        ("2y", 2 * 365 * 86400.0),
        ("1.5h", 5400.0),
        (" 30 ", 30.0),
        ("45", 45.0),
        (12, 12.0),
        (0.5, 0.5),
    ],
)
def test_durations_parse(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "2x", "-5m", "2 hours", "1e3s", "nan", True, -1])
def test_bad_durations_say_what_is_wanted(text: str | float) -> None:
    with pytest.raises(ValueError, match="not a duration") as error:
        parse_duration(text)
    assert repr(text) in str(error.value)


def test_durations_format_in_their_largest_exact_unit() -> None:
    assert [format_duration(s) for s in (7200, 90, 86400 * 30, 2 * 365 * 86400, 1.5)] == [
        "2h",
        "90s",
        "30d",
        "2y",
        "1.5s",
    ]
    assert parse_duration(format_duration(5400)) == 5400
