"""Provides ``gongwatch alerts``: list the alerts, acknowledge one, silence or unsilence rules
and metrics. It changes the alert state file, which the running monitor reads on its next
evaluation."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from collectors.base import json_line, printable
from engine.alert_state import AlertState, StateError, default_state_path
from engine.alerts import default_log_path
from engine.config import Config
from engine.durations import parse_duration


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``alerts`` subcommands to its parser."""
    sub = parser.add_subparsers(dest="alerts_command", metavar="ACTION")
    listing = sub.add_parser("list", help="the open alerts and the silences (the default)")
    listing.add_argument("--all", action="store_true", help="resolved alerts too")
    listing.add_argument("--json", action="store_true", help="JSON lines")
    ack = sub.add_parser("ack", help="acknowledge an alert: it stops repeating")
    ack.add_argument("id", type=int, metavar="ID")
    silence = sub.add_parser("silence", help="send nothing for a rule or metric glob for a while")
    silence.add_argument("glob", metavar="GLOB", help="a rule name or a metric glob")
    silence.add_argument(
        "--for", dest="duration", required=True, metavar="DURATION", help="90s, 10m, 2h, 7d"
    )
    unsilence = sub.add_parser("unsilence", help="lift a silence")
    unsilence.add_argument("glob", metavar="GLOB")


def state_for(config: Config) -> AlertState:
    """Return the alert state file of this configuration (beside its alert log)."""
    log = Path(config.alert_log or default_log_path()).expanduser()
    return AlertState(default_state_path(log))


def cmd_alerts(config: Config, args: argparse.Namespace, now: float | None = None) -> int:
    """Run ``gongwatch alerts ACTION``; return the exit status."""
    state, now = state_for(config), time.time() if now is None else now
    action = args.alerts_command or "list"
    try:
        if action == "ack":
            if not state.ack(args.id, now):
                return _fail(f"no firing alert with id {args.id}")
            print(f"acknowledged alert {args.id}")
        elif action == "silence":
            try:
                seconds = parse_duration(args.duration)
            except ValueError as exc:
                return _fail(str(exc))
            state.silence(args.glob, now + seconds)
            print(printable(f"silenced {args.glob} until {_when(now + seconds)}"))
        elif action == "unsilence":
            if not state.unsilence(args.glob):
                return _fail(printable(f"no silence on {args.glob}"))
            print(printable(f"unsilenced {args.glob}"))
        else:
            _list(state, now, getattr(args, "all", False), getattr(args, "json", False))
    except StateError as exc:
        return _fail(str(exc))
    return 0


def _list(state: AlertState, now: float, everything: bool, json_lines: bool) -> None:
    out = sys.stdout
    alerts, silences = state.alerts(now, resolved=everything), state.silences(now)
    if not alerts and not silences and not json_lines:
        out.write("no open alerts and no silences\n")
    for a in alerts:
        if json_lines:
            row = {"id": a.id, "state": a.state, "rule": a.rule, "key": a.key}
            row |= {"since": _when(a.since), "summary": a.summary}
            out.write(json_line(row) + "\n")
        else:
            line = (
                f"{a.id:>5}  {a.state:<12} {a.rule:<20} {a.key:<36} {_when(a.since)}  {a.summary}"
            )
            out.write(printable(line) + "\n")
    for glob, until in silences.items():
        if json_lines:
            out.write(json_line({"silence": glob, "until": _when(until)}) + "\n")
        else:
            out.write(printable(f"silence {glob} until {_when(until)}") + "\n")


def _when(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")


def _fail(message: str) -> int:
    print(f"gongwatch alerts: {message}", file=sys.stderr)
    return 1
