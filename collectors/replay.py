"""Provides the replay collector: plays back readings recorded as JSON lines, poll by poll."""

from __future__ import annotations

import json
from pathlib import Path

from collectors.base import Batch, Reading, Status

FIELDS = {"key", "value", "unit", "time", "low", "high", "crit", "status", "text", "label"}


def parse_line(line: str) -> Reading:
    """Turn one line of ``gongwatch once --json`` back into a Reading.

    Raises:
        ValueError: the line is not a reading.
    """
    data = json.loads(line)
    if not isinstance(data, dict) or "key" not in data:
        raise ValueError("not a reading (no key)")
    extra = set(data) - FIELDS
    if extra:
        raise ValueError(f"unknown fields {sorted(extra)}")
    value = data.get("value")
    data["value"] = None if value is None else float(value)
    data["status"] = Status(data.get("status", "ok"))
    return Reading(**data)


class ReplayCollector:
    """Replays a recording: each poll returns the readings that shared one timestamp."""

    def __init__(self, path: str | Path, name: str = "replay", interval: float = 1.0) -> None:
        """Args:
        path: a file of JSON lines, as ``gongwatch once --json`` writes them.
        name: the source name to report.
        interval: seconds between polls.
        """
        self.name = name
        self.interval = interval
        self.polls: list[Batch] = []
        self._next = 0
        self._load(Path(path))

    def _load(self, path: Path) -> None:
        groups: dict[float, list[Reading]] = {}
        errors: list[str] = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            self.polls = [Batch(self.name, unavailable=f"cannot read {path}: {exc.strerror}")]
            return
        for number, line in enumerate(lines, 1):
            if not line.strip() or '"source"' in line[:12]:
                continue  # blank, or a line about a source rather than a reading
            try:
                r = parse_line(line)
            except (ValueError, TypeError) as exc:
                errors.append(f"{path.name}:{number}: {exc}")
                continue
            groups.setdefault(r.time, []).append(r)
        self.polls = [Batch(self.name, tuple(rs)) for _, rs in sorted(groups.items())]
        if errors:
            first = self.polls[0] if self.polls else Batch(self.name)
            self.polls[:1] = [Batch(self.name, first.readings, tuple(errors[:5]))]

    def poll(self) -> Batch:
        """Return the next recorded poll (an empty batch once the recording is over)."""
        if self._next >= len(self.polls):
            return Batch(self.name)
        batch = self.polls[self._next]
        self._next += 1
        return batch

    def __len__(self) -> int:
        return len(self.polls)
