"""Tests the system collector against psutil fakes built from psutil's own return types."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psutil
import pytest

from collectors.system import PROC_SCAN_EVERY, SystemCollector
from tests.clock import ManualClock

NOT_KNOWN_YET = "not known yet"
"""What a rate says before its second sample (``collectors.base.NOT_KNOWN_YET``)."""

# psutil's real named tuples, taken from real calls and refilled with known numbers.
VMEM = psutil.virtual_memory()._replace(total=8 << 30, available=2 << 30, percent=75.0)
SWAP = psutil.swap_memory()._replace(total=1 << 30, used=1 << 28, percent=25.0)
DISK = psutil.disk_io_counters()
NET = psutil.net_io_counters()
CPU = psutil.cpu_times()


class FakeProc:
    """Stands in for psutil.Process as process_iter(['status']) yields it."""

    def __init__(self, status: str | None) -> None:
        self.info = {"status": status}


def cpu(user: float, idle: float) -> object:
    """One CPU's times, as psutil.cpu_times returns them (the other fields zero)."""
    zero = dict.fromkeys(CPU._fields, 0.0)
    return CPU._replace(**{**zero, "user": user, "idle": idle})


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    state: dict[str, object] = {
        "cpu": (100.0, 300.0),
        "percpu": [(40.0, 160.0), (60.0, 140.0)],
        "read": 1000,
        "sent": 5000,
        "procs": ["running", "sleeping", "zombie", None],
    }

    def cpu_times(percpu: bool = False) -> object:
        if percpu:
            return [cpu(u, i) for u, i in state["percpu"]]  # type: ignore[attr-defined]
        return cpu(*state["cpu"])  # type: ignore[misc]

    monkeypatch.setattr(psutil, "cpu_times", cpu_times)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 0.25, 0.125))
    monkeypatch.setattr(psutil, "cpu_count", lambda logical=True: 2)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: VMEM)
    monkeypatch.setattr(psutil, "swap_memory", lambda: SWAP)
    monkeypatch.setattr(
        psutil,
        "disk_io_counters",
        lambda perdisk=False: DISK._replace(read_bytes=state["read"], write_bytes=0),
    )
    monkeypatch.setattr(
        psutil,
        "net_io_counters",
        lambda pernic=False: NET._replace(bytes_recv=0, bytes_sent=state["sent"]),
    )

    def process_iter(attrs: list[str]) -> Iterator[FakeProc]:
        assert attrs == ["status"]
        for status in state["procs"]:  # type: ignore[attr-defined]
            if isinstance(status, Exception):
                raise status
            yield FakeProc(status)

    monkeypatch.setattr(psutil, "process_iter", process_iter)
    monkeypatch.setattr(psutil, "boot_time", lambda: 0.0)
    return state


def values(batch) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    return {r.key: r.value for r in batch.readings}


def test_reads_every_metric_with_units(fake: dict[str, object]) -> None:
    clock = ManualClock(1000.0)
    c = SystemCollector(clock=clock)
    c.poll()
    clock.now += 2.0
    fake["read"], fake["sent"] = 5000, 9000
    fake["cpu"] = (125.0, 375.0)  # 25 of 100 s busy
    fake["percpu"] = [(45.0, 205.0), (75.0, 175.0)]  # 5 of 50 s, 15 of 50 s
    batch = c.poll()
    v = values(batch)
    assert batch.errors == () and not batch.pending
    assert v["system/cpu/total"] == 25.0
    assert v["system/cpu/0"] == 10.0 and v["system/cpu/1"] == 30.0
    assert v["system/load/1m"] == 0.5 and v["system/load/15m"] == 0.125
    assert v["system/memory/used"] == 75.0 and v["system/swap/used"] == 25.0
    assert v["system/procs/total"] == 4 and v["system/procs/zombies"] == 1
    assert v["system/disk/read"] == pytest.approx(2000.0)  # 4000 B over 2 s
    assert v["system/net/tx"] == pytest.approx(2000.0)
    units = {r.key: r.unit for r in batch.readings}
    assert units["system/cpu/total"] == "%" and units["system/disk/read"] == "B/s"
    assert units["system/uptime"] == "s"


RATES = ("system/cpu/total", "system/cpu/0", "system/disk/read", "system/net/tx")


def test_the_first_poll_says_not_known_yet_rather_than_zero(fake: dict[str, object]) -> None:
    clock = ManualClock(1000.0)
    c = SystemCollector(clock=clock)
    first = c.poll()
    got = {r.key: r for r in first.readings}
    assert first.pending
    for key in RATES:
        assert (got[key].value, got[key].status, got[key].text) == (None, "unknown", NOT_KNOWN_YET)
    assert got["system/load/1m"].value == 0.5  # what needs one sample is there at once
    # No time passed and nothing moved: still unknown, never a made-up 0.
    assert all(values(c.poll())[key] is None for key in RATES[:2])
    clock.now += 1.0
    fake["cpu"] = (110.0, 390.0)
    fake["percpu"] = [(41.0, 169.0), (69.0, 141.0)]
    later = values(c.poll())
    assert (later["system/cpu/total"], later["system/cpu/0"]) == (10.0, 10.0)


def test_the_first_poll_of_the_real_machine_makes_up_no_rate() -> None:
    # The real psutil, polled from another thread than the one that built the collector (as
    # the engine and ``gongwatch once`` do).
    from concurrent.futures import ThreadPoolExecutor

    collector = SystemCollector()
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(collector.poll).result()
    rates = [r for r in first.readings if r.unit == "B/s" or r.key.startswith("system/cpu/")]
    assert {"system/cpu/total", "system/disk/read", "system/net/rx"} <= {r.key for r in rates}
    assert [r for r in rates if r.value is not None] == []


def test_counter_reset_gives_no_negative_rate(fake: dict[str, object]) -> None:
    clock = ManualClock(1000.0)
    c = SystemCollector(clock=clock)
    c.poll()
    clock.now += 1.0
    fake["read"] = 10
    assert values(c.poll())["system/disk/read"] is None
    clock.now += 1.0
    fake["read"] = 110
    assert values(c.poll())["system/disk/read"] == pytest.approx(100.0)


def test_process_scan_is_throttled(fake: dict[str, object]) -> None:
    clock = ManualClock(1000.0)
    c = SystemCollector(clock=clock)
    assert values(c.poll())["system/procs/total"] == 4
    fake["procs"] = ["running"]
    clock.now += PROC_SCAN_EVERY / 2
    assert values(c.poll())["system/procs/total"] == 4
    clock.now += PROC_SCAN_EVERY
    assert values(c.poll())["system/procs/total"] == 1


@pytest.mark.parametrize(
    "error",
    [psutil.AccessDenied(1), psutil.NoSuchProcess(1), OSError(5, "Input/output error")],
    ids=["AccessDenied", "NoSuchProcess", "OSError"],
)
def test_a_failing_process_scan_is_one_error_line(
    fake: dict[str, object], error: Exception
) -> None:
    fake["procs"] = ["running", error]
    batch = SystemCollector(clock=ManualClock(1000.0)).poll()
    assert len(batch.errors) == 1 and batch.errors[0].startswith("processes:")
    assert "system/cpu/total" in values(batch)  # the rest of the poll still came


def test_empty_results(fake: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    fake["percpu"] = []
    fake["procs"] = []
    monkeypatch.setattr(psutil, "disk_io_counters", lambda perdisk=False: None)
    monkeypatch.setattr(psutil, "net_io_counters", lambda pernic=False: None)
    batch = SystemCollector(clock=ManualClock(1000.0)).poll()
    v = values(batch)
    assert batch.errors == ()
    assert "system/cpu/0" not in v and "system/disk/read" not in v and "system/net/rx" not in v
    assert v["system/procs/total"] == 0


def test_oserror_in_load_and_memory(
    fake: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise OSError("getloadavg unavailable")

    monkeypatch.setattr(os, "getloadavg", broken)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: None)  # garbage from the library
    batch = SystemCollector(clock=ManualClock(1000.0)).poll()
    assert any(e.startswith("load:") for e in batch.errors)
    assert any(e.startswith("memory:") for e in batch.errors)
    assert "system/cpu/total" in values(batch)


def test_values_past_their_own_limits_are_flagged(
    fake: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "getloadavg", lambda: (8.2, 1.5, 0.5))
    monkeypatch.setattr(psutil, "virtual_memory", lambda: VMEM._replace(percent=98.0))
    batch = SystemCollector(clock=ManualClock(1000.0)).poll()
    r = {x.key: x for x in batch.readings}
    load = r["system/load/1m"].to_json()
    assert (load["value"], load["high"], load["status"]) == (8.2, 2.0, "warning")
    assert r["system/load/5m"].status == "ok"
    assert (r["system/memory/used"].status, r["system/memory/used"].crit) == ("critical", 97.0)
    assert r["system/procs/zombies"].status == "warning"  # one zombie in the fake table
    fake["procs"] = ["running"]
    calm = SystemCollector(clock=ManualClock(1000.0)).poll()
    assert {x.key: x for x in calm.readings}["system/procs/zombies"].status == "ok"
