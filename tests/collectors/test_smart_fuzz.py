"""Tests the SMART collector against smartctl output that is not what it should be: the fake
smartctl replays recorded outputs with bytes changed, and each disk's trouble stays its own."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.base import Batch
from collectors.smart import SmartCollector
from tests.hardware_fakes.smartctl import FakeSmartctl, recorded_machines
from tests.mutations import byte_ops, mutate_bytes

MACHINES = {p.name: p for p in recorded_machines()}
FUZZ = settings(
    max_examples=15,
    deadline=10_000,  # ms; a poll of two disks takes ~0.2 s, this only bounds a runaway one
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def copy_machine(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(MACHINES[name], tmp_path / "recorded" / name))


def recording(machine: Path) -> Path:
    """The one ``--all`` recording of a single-disk machine."""
    return next(machine.glob("*--all*"))


def poll(fake: FakeSmartctl) -> Batch:
    return SmartCollector(smartctl=str(fake.path), hwmon_root="/nonexistent", timeout=10).poll()


def shown(batch: Batch, did: str) -> dict[str, tuple[object, ...]]:
    """A disk's readings, without their time."""
    return {
        r.key: (r.value, r.text, r.status)
        for r in batch.readings
        if r.key.startswith(f"disk/{did}/")
    }


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def assert_clean(batch: Batch) -> None:
    """Nothing escaped as an internal error; every number is finite."""
    assert not any("internal error" in e for e in batch.errors), batch.errors
    for r in batch.readings:
        assert r.value is None or math.isfinite(r.value), r


def test_a_disk_that_prints_bytes_that_are_not_utf8_says_so_and_the_others_still_read(
    tmp_path: Path,
) -> None:
    sata = copy_machine(tmp_path, "sata_hdd_0_issue42")
    nvme = copy_machine(tmp_path, "nvme_0")
    fake = FakeSmartctl(tmp_path, sata, nvme)
    good = poll(fake)
    out = recording(nvme)
    data = out.read_bytes()
    at = data.index(b"TOSHIBA")
    out.write_bytes(data[:at] + b"\x11\xdb" + data[at:])
    batch = poll(fake)
    assert batch.errors == (
        "nvme0: smartctl printed a byte that is not UTF-8 text (line 5: 0xdb); read without it",
    )
    assert shown(batch, "sdau") == shown(good, "sdau")
    assert {r.key: r.text for r in batch.readings}["disk/nvme0/health"] == "PASSED"


def test_a_scan_that_is_not_utf8_says_so_and_still_finds_the_disks(tmp_path: Path) -> None:
    machine = copy_machine(tmp_path, "linux_01")
    scan = b"/dev/nvme0 -d nvme # /dev/nvme0, NVMe \x11\xdbdevice\n"
    (machine / "_--scan-open").write_bytes(scan)
    batch = poll(FakeSmartctl(tmp_path, machine))
    assert batch.errors == (
        "smartctl --scan-open printed a byte that is not UTF-8 text (line 1: 0xdb); "
        "read without it",
    )
    assert {r.key: r.text for r in batch.readings}["disk/nvme0/health"] == "PASSED"


@FUZZ
@given(which=st.sampled_from(["sata", "nvme"]), ops=byte_ops())
def test_fuzz_one_disk_garbled_never_costs_the_poll_or_the_other_disk(
    tmp_path: Path, which: str, ops: list[tuple[str, float, bytes]]
) -> None:
    root = tmp_path / which
    if not root.exists():
        root.mkdir()
        sata = copy_machine(root, "sata_hdd_0_issue42")
        nvme = copy_machine(root, "nvme_0")
        FakeSmartctl(root, sata, nvme)
    machines = {"sata": root / "recorded/sata_hdd_0_issue42", "nvme": root / "recorded/nvme_0"}
    fake = FakeSmartctl(root, machines["sata"], machines["nvme"])
    target = recording(machines[which])
    original = target.read_bytes()
    good = poll(fake)
    mutated = mutate_bytes(original, ops)
    target.write_bytes(mutated)
    try:
        batch = poll(fake)
    finally:
        target.write_bytes(original)
    assert_clean(batch)
    bad, other = ("sdau", "nvme0") if which == "sata" else ("nvme0", "sdau")
    assert shown(batch, other) == shown(good, other)
    assert all(e.startswith(f"{bad}: ") for e in batch.errors), batch.errors
    if not is_utf8(mutated):
        assert any("not UTF-8 text" in e for e in batch.errors), batch.errors


@FUZZ
@given(ops=byte_ops())
def test_fuzz_a_garbled_scan_never_costs_the_poll(
    tmp_path: Path, ops: list[tuple[str, float, bytes]]
) -> None:
    machine = tmp_path / "recorded" / "linux_01"
    if not machine.exists():
        copy_machine(tmp_path, "linux_01")
    scan = machine / "_--scan-open"
    original = scan.read_bytes()
    mutated = mutate_bytes(original, ops)
    scan.write_bytes(mutated)
    try:
        batch = poll(FakeSmartctl(tmp_path, machine))
    finally:
        scan.write_bytes(original)
    assert_clean(batch)
    if not is_utf8(mutated):
        assert any(e.startswith("smartctl --scan-open printed") for e in batch.errors)
