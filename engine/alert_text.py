"""Provides the words of the messages alerts send to people: what, where, how anomalous,
since when, the value and what was expected; and the message when it comes back."""

from __future__ import annotations

from datetime import UTC, datetime

from collectors.base import printable
from engine.engine import MetricState
from engine.format import duration, number
from engine.format import value as format_value


def _what(st: MetricState) -> str:
    label = st.reading.label
    return f"{st.key} ({label})" if label and label != st.key else st.key


def _when(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _for(seconds: float) -> str:
    return "just now" if seconds < 1.0 else f"for {duration(seconds)}"


def expected(st: MetricState) -> str:
    """Return what the value should have been, as the detector or the hardware says it."""
    r, v = st.reading, st.verdict
    unit = f" {r.unit}" if r.unit else ""
    if v.low is not None and v.high is not None:
        return f"expected between {number(v.low)} and {number(v.high)}{unit}"
    if r.crit is not None or r.high is not None:
        limit = r.crit if r.crit is not None else r.high
        kind = "critical limit" if r.crit is not None else "limit"
        return f"{kind} {number(limit or 0.0)}{unit}"
    if v.expected is not None:
        return f"expected about {number(v.expected)}{unit}"
    if r.value is None and r.text:
        return "expected a healthy reading"
    return "no expected range known"


def alert_message(
    rule: str, st: MetricState, host: str, since: float, now: float, *, repeat: bool = False
) -> tuple[str, str]:
    """Return the title and body of the message for a firing alert.

    Args:
        rule: the rule's name (or glob).
        st: the metric's latest state.
        host: this machine's name.
        since: wall-clock time the metric became anomalous.
        now: wall-clock time now.
        repeat: whether it repeats an earlier message.
    """
    v = st.verdict
    again = " (still firing)" if repeat else ""
    title = f"gongwatch on {host}: {v.severity} {_what(st)}{again}"
    reason = v.reason or f"anomaly score {v.score:.2f}"
    shown = format_value(st.reading.value, st.reading.unit, st.reading.text)
    body = "\n".join(
        printable(line)
        for line in [
            f"{_what(st)} on {host} is {v.severity}: {reason}.",
            f"Value: {shown}; {expected(st)}.",
            f"Since {_when(since)} ({_for(now - since)}).",
            f"Rule: {rule}.",
        ]
    )
    return printable(title), body


def resolved_message(
    rule: str, st: MetricState, host: str, since: float, now: float
) -> tuple[str, str]:
    """Return the title and body of the message for an alert that has come back to normal."""
    shown = format_value(st.reading.value, st.reading.unit, st.reading.text)
    title = f"gongwatch on {host}: resolved {_what(st)}"
    body = "\n".join(
        printable(line)
        for line in [
            f"{_what(st)} on {host} is back to normal: {shown}.",
            f"It was anomalous from {_when(since)} for {duration(max(now - since, 0.0))}.",
            f"Rule: {rule}.",
        ]
    )
    return printable(title), body
