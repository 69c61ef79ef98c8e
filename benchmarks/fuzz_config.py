"""Mutates the documented example configuration and runs gongwatch's own parser on each, counting
how each ends: accepted, refused cleanly in one line, or escaped (a traceback, a hang, a
message over several lines, or a config accepted with a value no one would mean).

    .venv/bin/python benchmarks/fuzz_config.py [--runs 2000] [--seed 1] [--cli 10]

Every run goes through ``engine.config_reader.parse`` in this process, for speed; ``--cli`` of them
(the escaped first, then refused ones, then two accepted) also go through the real console
script, ``gongwatch once --config FILE``, with a timeout.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config import Config, ConfigError  # noqa: E402
from engine.config_reader import parse  # noqa: E402

EXAMPLE: dict[str, Any] = {
    "general": {"refresh": 1.0, "history": 600, "alert_log": "~/gongwatch-alerts.log"},
    "collectors": {
        "system": {"interval": 1.0, "enabled": True},
        "sensors": {"interval": 5.0},
        "smart": {"interval": 300.0, "smartctl": "smartctl"},
    },
    "remote": {
        "serverdensity": [
            {
                "name": "sd",
                "url": "https://api.serverdensity.io",
                "token_env": "SD_TOKEN",
                "interval": 60.0,
                "timeout": 10.0,
                "services": ["web", "5f1c"],
            }
        ],
        "http": [
            {
                "name": "blog",
                "url": "https://example.org/",
                "method": "GET",
                "expect": [200],
                "timeout": 5.0,
                "slow": 0.4,
                "interval": 30.0,
            }
        ],
        "locations": {"local": [52.52, 13.40], "hong kong": [22.32, 114.17]},
    },
    "devices": {
        "gong": {"port": "/dev/ttyUSB0", "baud": 9600, "cooldown": 5.0},
        "map": {"port": "/dev/ttyUSB1", "baud": 9600, "locations": {"*/london": "london"}},
    },
    "detectors": {"default": "auto", "metrics": {"remote/*/*/time": "holtwinters"}},
    "alerts": [
        {"metrics": "sensors/**", "severity": "critical", "for": 10.0, "actions": ["gong", "bell"]},
        {
            "metrics": "remote/*/*/status",
            "severity": "critical",
            "actions": ["command"],
            "command": ["notify-send", "gongwatch"],
        },
    ],
}
"""The README's configuration, every section of it."""

NUMBERS: list[Any] = [
    math.nan, math.inf, -math.inf, 1e300, -1e300, 1e-9, 0, 0.0, -1, -1.0, 10**12, 2**63 - 1,
    -(2**63), 5e-324, 1e308, 0.1, 86400.0, 86401.0,
]  # fmt: skip
OTHERS: list[Any] = [
    "x", "", "1.0", "\x00", "a\nb", "\x1b]0;t\x1b\\", True, False, [], [1, "a"], {}, {"k": 1},
    [{"a": 1}], [[[]]],
]  # fmt: skip
KEYS = ["interval\n", "inter val", "INTERVAL", 'qu"ote', "\x1b[2J", "温度", "", "a.b", "for"]


class Deep:
    """A value nested ``depth`` arrays (or inline tables) deep, written without recursion."""

    def __init__(self, depth: int, tables: bool) -> None:
        self.depth, self.tables = depth, tables

    def toml(self) -> str:
        if self.tables:
            return "{a = " * self.depth + "1" + "}" * self.depth
        return "[" * self.depth + "]" * self.depth


def nodes(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``data`` (dict keys and list indices)."""
    out = [path] if path else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += nodes(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += nodes(v, (*path, i))
    return out


def mutate_once(rng: random.Random, data: dict[str, Any]) -> None:
    """Change one thing of ``data`` in place."""
    paths = nodes(data)
    if not paths:
        data["general"] = {}
        return
    path = rng.choice(paths)
    parent: Any = data
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    kind = rng.choice(["number", "number", "number", "type", "rename", "nest", "drop", "dup"])
    if kind == "number":
        parent[last] = rng.choice(NUMBERS)
    elif kind == "type":
        parent[last] = copy.deepcopy(rng.choice(NUMBERS + OTHERS))
    elif kind == "nest":
        parent[last] = Deep(rng.choice([5, 50, 500, 3000, 20000]), rng.random() < 0.3)
    elif kind == "rename" and isinstance(parent, dict):
        new = rng.choice([*KEYS, str(last) + "s", str(last)[:-1]])
        parent[new] = parent.pop(last)
    elif kind == "drop" and isinstance(parent, dict):
        del parent[last]
    elif kind == "dup" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))


def key(k: Any) -> str:
    text = str(k)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text, ensure_ascii=False)


def inline(v: Any) -> str:
    """A value as inline TOML (strings as JSON strings, which TOML reads the same)."""
    if isinstance(v, Deep):
        return v.toml()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isfinite(v):
            return repr(v)
        return "nan" if v != v else ("inf" if v > 0 else "-inf")
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(inline(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{key(k)} = {inline(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def emit(data: dict[str, Any]) -> str:
    """The config as TOML, with [table] and [[array]] headers where the shape allows."""
    lines: list[str] = []
    _table(lines, [], data)
    return "\n".join(lines) + "\n"


def _is_aot(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _table(lines: list[str], path: list[str], table: dict[str, Any]) -> None:
    subs = {k: v for k, v in table.items() if isinstance(v, dict) or _is_aot(v)}
    for k, v in table.items():
        if k not in subs:
            lines.append(f"{key(k)} = {inline(v)}")
    for k, v in subs.items():
        dotted = ".".join(key(p) for p in [*path, k])
        for item in [v] if isinstance(v, dict) else v:
            lines.append(f"[{dotted}]" if isinstance(v, dict) else f"[[{dotted}]]")
            _table(lines, [*path, k], item)


def insane(config: Config) -> str | None:
    """What an accepted config holds that no one would mean, or None."""
    numbers = {"refresh": config.refresh, "history": config.history}
    for name, c in config.collectors.items():
        numbers[f"{name}.interval"] = c.interval
    for sd in config.serverdensity:
        numbers |= {f"{sd.name}.interval": sd.interval, f"{sd.name}.timeout": sd.timeout}
    for h in config.http:
        numbers |= {f"{h.name}.interval": h.interval, f"{h.name}.timeout": h.timeout}
        numbers[f"{h.name}.slow"] = h.slow
    numbers |= {"gong.cooldown": config.gong.cooldown, "map.cooldown": config.map.cooldown}
    for i, rule in enumerate(config.alerts):
        numbers[f"alerts[{i}].for"] = rule.for_seconds
    for name, v in numbers.items():
        if not math.isfinite(v) or v < 0 or v > 1e6:
            return f"accepted {name} = {v!r}"
        if name.endswith(("interval", "refresh")) and v < 0.05:
            return f"accepted {name} = {v!r} (a busy loop)"
    return None


def _alarm(signum: int, frame: object) -> None:
    raise TimeoutError("parse took over 5 s")


def judge(text: str) -> str:
    """Parse one config in this process: ``accepted``, ``refused`` or ``escaped: why``."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(5)
    try:
        config = parse(text, "fuzz.toml")
    except ConfigError as exc:
        return "refused" if "\n" not in str(exc) else "escaped: multi-line message"
    except TimeoutError:
        return "escaped: hang"
    except Exception as exc:  # the point of the harness: anything else escaped
        return f"escaped: {type(exc).__name__}"
    finally:
        signal.alarm(0)
    why = insane(config)
    return "accepted" if why is None else "escaped: insane value"


def judge_cli(text: str, tmp: Path) -> str:
    """Run ``gongwatch once --config FILE`` on one config with a timeout."""
    path = tmp / "config.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    exe = shutil.which("gongwatch", path=str(Path(sys.executable).parent)) or "gongwatch"
    try:
        proc = subprocess.run(
            [exe, "once", "--config", str(path)], capture_output=True, text=True,
            errors="replace", timeout=90, check=False, env={"PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return "escaped: hang"
    if "Traceback" in proc.stderr:
        return "escaped: traceback"
    if proc.returncode == 2:
        lines = proc.stderr.strip().splitlines()
        return "refused" if len(lines) == 1 else "escaped: multi-line message"
    return "accepted" if proc.returncode == 0 else f"escaped: exit {proc.returncode}"


def report(where: str, counts: Counter[str]) -> str:
    """One line: tried, accepted, refused cleanly, escaped (and how)."""
    escaped = {k.split(": ", 1)[1]: n for k, n in counts.items() if k.startswith("escaped")}
    how = ", ".join(f"{n} {k}" for k, n in sorted(escaped.items())) or "none"
    return (
        f"{where}: tried {sum(counts.values())} · accepted {counts['accepted']} · refused cleanly"
        f" in one line {counts['refused']} · escaped {sum(escaped.values())} ({how})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cli", type=int, default=10, help="runs also made by the real CLI")
    parser.add_argument("--show", action="store_true", help="print each escaped config")
    args = parser.parse_args()
    sys.setrecursionlimit(1000)  # the console script's own limit, whatever ran before
    rng = random.Random(args.seed)
    outcomes: Counter[str] = Counter()
    seen: dict[str, list[str]] = {}
    start = time.perf_counter()
    for _ in range(args.runs):
        data = copy.deepcopy(EXAMPLE)
        for _ in range(rng.randint(1, 3)):
            mutate_once(rng, data)
        text = emit(data)
        result = judge(text)
        outcomes[result] += 1
        seen.setdefault(result, []).append(text)
        if args.show and result.startswith("escaped"):
            print(f"--- {result}\n{text[:2000]}")
    seconds = time.perf_counter() - start
    picks = [t for k, ts in seen.items() if k.startswith("escaped") for t in ts[:2]]
    picks += rng.sample(seen.get("refused", []), min(len(seen.get("refused", [])), args.cli))
    picks = picks[: max(0, args.cli - 2)] + seen.get("accepted", [])[:2]
    cli: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="gongwatch-fuzz-") as tmp:
        for text in picks:
            cli[judge_cli(text, Path(tmp))] += 1
    print(report("in process", outcomes) + f" ({seconds:.1f} s)")
    print(report("through `gongwatch once --config`", cli))
    return 0 if not any(k.startswith("escaped") for k in outcomes | cli) else 1


if __name__ == "__main__":
    sys.exit(main())
