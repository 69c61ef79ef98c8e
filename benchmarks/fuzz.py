"""Counts how the collectors' parsers take mutated real inputs: tried, handled cleanly, escaped.

Server Density: real-shaped answers (the test server's inventory, ``last`` results and nodes)
with values replaced by NaN, infinities, huge integers and wrong types, served by the real
test HTTP server on 127.0.0.1. smartctl: recorded outputs of real disks
(../shared/data/smartctl) with bytes inserted, overwritten, deleted or cut, replayed by the
fake smartctl, next to an untouched disk.

An input *escapes* when ``poll()`` raises (the engine would report "internal error" and lose
the whole poll) or the poll reports an internal error. It is *handled cleanly* when it does
not, every number is finite, the untouched service or disk reads exactly as without the
mutation, the mutated service is still listed, and output that is not UTF-8 is said so.

    .venv/bin/python benchmarks/fuzz.py [--sd 3000] [--smart 800] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.base import Batch
from collectors.serverdensity import ServerDensityCollector
from collectors.smart import SmartCollector
from tests.hardware_fakes.smartctl import RECORDINGS, FakeSmartctl
from tests.mutations import (
    mutate_bytes,
    mutate_json,
    random_byte_ops,
    random_json_ops,
)
from tests.remote_server import LAST, NODES, SERVICES, TOKEN, RemoteServer

SD_ROUTES: dict[str, tuple[str, Any]] = {
    "inventory": ("/inventory/services", SERVICES),
    "web": ("/service-monitor/last/s-web", LAST["s-web"]),
    "shop": ("/service-monitor/last/s-shop", LAST["s-shop"]),
    "nodes": ("/service-monitor/nodes", NODES),
}
OTHER_DISK = RECORDINGS / "singletests" / "sata_hdd_0_issue42"


def readings_of(batch: Batch, prefix: str) -> dict[str, tuple[object, ...]]:
    return {
        r.key: (r.value, r.text, str(r.status))
        for r in batch.readings
        if r.key.startswith(prefix)
    }


def finite(batch: Batch) -> bool:
    return all(r.value is None or math.isfinite(r.value) for r in batch.readings)


def sd_poll(server: RemoteServer) -> Batch:
    collector = ServerDensityCollector(
        "sd", server.url, TOKEN, timeout=2.0, services=("web", "s-shop")
    )
    try:
        return collector.poll()
    finally:
        close = getattr(collector, "close", None)
        if callable(close):
            close()


def sd_trial(server: RemoteServer, good: Batch, target: str, ops: list[Any]) -> str:
    """Return ``clean``, ``escaped`` or what else went wrong with one mutated answer."""
    path, payload = SD_ROUTES[target]
    server.bodies[path] = json.dumps(mutate_json(payload, ops)).encode()
    try:
        batch = sd_poll(server)
    except Exception:
        return "escaped"
    finally:
        del server.bodies[path]
    if any("internal error" in e for e in batch.errors):
        return "escaped"
    if not finite(batch):
        return "not finite"
    if target in ("web", "shop"):
        mine, other = ("web", "shop-front") if target == "web" else ("shop-front", "web")
        if readings_of(batch, f"remote/{other}/") != readings_of(good, f"remote/{other}/"):
            return "other service disturbed"
        if not any(k.endswith("/status") for k in readings_of(batch, f"remote/{mine}/")):
            return "service left out"
    return "clean"


def run_sd(count: int, rng: random.Random) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    with RemoteServer() as server:
        good = sd_poll(server)
        for _ in range(count):
            target = rng.choice(sorted(SD_ROUTES))
            outcomes[sd_trial(server, good, target, random_json_ops(rng))] += 1
    return outcomes


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def smart_poll(fake: FakeSmartctl) -> Batch:
    return SmartCollector(smartctl=str(fake.path), hwmon_root="/nonexistent", timeout=10).poll()


def recording_name(argv: list[str]) -> str:
    """The recording the fake smartctl replays for ``argv`` (see fake_smartctl.py)."""
    return re.sub(r"[/\\:]", "_", "_" + "_".join(argv))


def smart_trial(fake: FakeSmartctl, good: Batch, rng: random.Random) -> str:
    """Mutate one recorded output of the fake's machine and poll it next to an untouched
    disk; the recording is put back after."""
    # The fake makes the scan of a single-disk machine from its device.json, and replays the
    # recorded one of a listed machine.
    single = "name" in json.loads((fake.machine / "device.json").read_text())
    outputs = [p for p in fake.machine.glob("_*") if not (single and p.name == "_--scan-open")]
    target = rng.choice(sorted(outputs))
    original = target.read_bytes()
    mutated = mutate_bytes(original, random_byte_ops(rng))
    target.write_bytes(mutated)
    fake.log.write_text("")
    try:
        batch = smart_poll(fake)
    except Exception:
        return "escaped"
    finally:
        target.write_bytes(original)
    if any("internal error" in e for e in batch.errors):
        return "escaped"
    if not finite(batch):
        return "not finite"
    if readings_of(batch, "disk/sdau/") != readings_of(good, "disk/sdau/"):
        return "other disk disturbed"
    replayed = {recording_name(c["argv"]) for c in fake.calls()}
    said = any("not UTF-8" in e for e in batch.errors)
    if not is_utf8(mutated) and target.name in replayed and not said:
        return "not UTF-8, not said"
    return "clean"


def run_smart(count: int, rng: random.Random) -> Counter[str]:
    machines = sorted(
        p
        for p in RECORDINGS.glob("*/*")
        if (p / "device.json").is_file()
        and p != OTHER_DISK
        and json.loads((p / "device.json").read_text()).get("name") != "/dev/sdau"
    )
    outcomes: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        fakes: dict[Path, tuple[FakeSmartctl, Batch]] = {}
        for _ in range(count):
            machine = rng.choice(machines)
            if machine not in fakes:
                work = Path(tmp) / machine.name
                copy = Path(shutil.copytree(machine, work / "m"))
                fake = FakeSmartctl(work, copy, OTHER_DISK)
                fakes[machine] = (fake, smart_poll(fake))
            outcomes[smart_trial(*fakes[machine], rng)] += 1
    return outcomes


def report(name: str, outcomes: Counter[str]) -> None:
    tried = sum(outcomes.values())
    rest = sorted((k, v) for k, v in outcomes.items() if k not in ("clean", "escaped"))
    others = ", ".join(f"{k} {v}" for k, v in rest)
    print(
        f"{name:<16} tried {tried:>5}  handled cleanly {outcomes['clean']:>5}  "
        f"escaped {outcomes['escaped']:>4}" + (f"  ({others})" if others else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sd", type=int, default=3000, help="mutated Server Density answers")
    parser.add_argument("--smart", type=int, default=800, help="mutated smartctl outputs")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.sd:
        report("serverdensity", run_sd(args.sd, random.Random(args.seed)))
    if args.smart:
        report("smartctl", run_smart(args.smart, random.Random(args.seed)))


if __name__ == "__main__":
    main()
