"""Provides the SMART collector: per disk through pySMART over smartctl, without waking disks
in standby; without root it says how to grant smartctl alone, and still shows the drive
temperatures the kernel gives everyone (drivetemp and nvme hwmon chips)."""

from __future__ import annotations

import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import types
from typing import Any

from collectors import hwmon, process
from collectors.base import Batch, Reading, Status
from collectors.smart_disk import DiskMemory, DiskReader, disk_id

NEEDS_ROOT = (
    "SMART needs root: run smartctl through sudo for it alone (a sudoers line "
    "'USER ALL=(root) NOPASSWD: /usr/sbin/smartctl', then in the config "
    '[collectors.smart] smartctl = "sudo -n /usr/sbin/smartctl"; see the README)'
)
"""What the Disks pane says when smartctl may not open the disks."""

SBIN = "/usr/local/sbin:/usr/sbin:/sbin"
"""Where smartctl is looked for when it is not in PATH."""

NOCHECK = ("--nocheck", "standby")
"""Passed on every call that touches a disk, so a sleeping disk is never spun up."""

_STANDBY = re.compile(r"Device is in (STANDBY|SLEEP|IDLE)\S* mode")
_OPEN_FAILED = re.compile(r"open device: (\S+).* failed: (.+)$")
SMARTCTL_ENV = {"LC_ALL": "C"}
"""What smartctl gets on top of the minimal environment: plain ASCII messages."""
_EXIT_NOTES = {
    16: "prefail attribute at or below threshold",
    32: "an attribute was at or below threshold in the past",
    64: "the device error log has errors",
    128: "the self-test log has errors",
}


def _import_pysmart() -> None:
    """Import pySMART without chardet.

    pySMART imports chardet (8 MiB of language tables, a sixth of the monitor's memory) only
    to guess the encoding of smartctl's output in its ``_exec``, which ``GuardedSmartctl``
    replaces with its own decoding. A stand-in serves that import and is taken out of
    ``sys.modules`` at once, so anything that later imports chardet gets the real one.
    """
    if "pySMART" in sys.modules or "chardet" in sys.modules:
        import pySMART  # noqa: F401  # already paid for, or chardet is here anyway

        return
    stand_in = types.ModuleType("chardet")
    stand_in.detect = lambda _raw: {"encoding": "utf-8"}  # type: ignore[attr-defined]
    sys.modules["chardet"] = stand_in
    try:
        importlib.import_module("pySMART")
    finally:
        if sys.modules.get("chardet") is stand_in:
            del sys.modules["chardet"]


def _smartctl_class() -> type:
    _import_pysmart()
    from pySMART.smartctl import Smartctl

    class GuardedSmartctl(Smartctl):  # type: ignore[misc]
        """pySMART's smartctl wrapper, running every command through ``collectors.process``
        (a minimal environment, a process group ended on timeout), with the standby guard on
        every disk command, and the raw output and exit status of the last command per disk
        kept, as well as what was wrong with output that is not UTF-8."""

        def __init__(self, argv: list[str], timeout: float) -> None:
            super().__init__(smartctl_path=argv[-1])
            self.argv = argv
            self.timeout = timeout
            self.last: dict[str, tuple[list[str], int]] = {}
            self.garbled: dict[str, str] = {}
            """Per device (or ``--scan-open``): why its output was not clean text."""

        def generic_call(self, params: list[str], pass_options: bool = False) -> Any:
            on_disk = bool(params) and not params[0].startswith("--scan")
            cmd = [*self.argv, *(NOCHECK if on_disk else ()), *params]
            lines, rc = self._exec(cmd)
            if "--all" in params or "--info" in params:
                self.last[params[-1]] = (lines, rc)
            return lines, rc

        def _exec(self, cmd: list[str]) -> tuple[list[str], int]:
            # pySMART's own _exec inherits our whole environment and leaves a wrapper's
            # children behind on a timeout; every call it makes comes through here instead.
            done = process.run(cmd, self.timeout, env=process.child_environment(SMARTCTL_ENV))
            lines, problem = decode_output(done.stdout)
            if problem is not None:
                self.garbled.setdefault(cmd[-1], problem)
            return lines, done.returncode

    return GuardedSmartctl


def decode_output(raw: bytes) -> tuple[list[str], str | None]:
    """Return smartctl's output as lines, and what was wrong with it when it is not UTF-8.

    smartctl prints ASCII with LC_ALL=C; anything else comes from a build that prints in the
    local code page (a Latin-1 no-break space as a thousands separator), a firmware string
    gone wrong, or a broken wrapper. Those bytes are left out, so the rest still reads (as
    pySMART does), and the problem is said in words.
    """
    try:
        return raw.decode("utf-8").splitlines(), None
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", errors="ignore")
        dropped = len(raw) - len(text.encode("utf-8"))
        line = raw.count(b"\n", 0, exc.start) + 1
        first = f"line {line}: 0x{raw[exc.start]:02x}"
        why = (
            f"a byte that is not UTF-8 text ({first}); read without it"
            if dropped == 1
            else f"{dropped} bytes that are not UTF-8 text (the first on {first}); "
            "read without them"
        )
        return text.splitlines(), why


class SmartCollector:
    """Reads the SMART data of every disk smartctl finds."""

    name = "smart"

    def __init__(
        self,
        interval: float = 300.0,
        smartctl: str = "smartctl",
        hwmon_root: str = hwmon.HWMON,
        timeout: float = 60.0,
    ) -> None:
        """Args:
        interval: seconds between polls (SMART changes slowly; 5 minutes by default).
        smartctl: the smartctl command: a path, or a command line such as
            ``sudo -n /usr/sbin/smartctl``.
        hwmon_root: where to find the drive temperatures that need no root.
        timeout: seconds one smartctl call may take.
        """
        self.interval = interval
        self._hwmon = hwmon_root
        self._memory: dict[str, DiskMemory] = {}
        self._seen: set[str] = set()
        self._command, self._timeout = smartctl, timeout
        self._argv: list[str] | None = None
        """The smartctl command line, resolved; None until found."""
        self._ctl: Any = None
        """pySMART's wrapper around it, made when there is a disk to read: pySMART costs
        megabytes a machine whose smartctl sees no disk (or may not open one) never needs."""
        self.problem = self._probe(smartctl, timeout)
        """Why SMART cannot run here (None when it can); looked at again at every poll, so
        smartmontools installed while the monitor runs is picked up."""

    def _probe(self, smartctl: str, timeout: float) -> str | None:
        try:
            argv = shlex.split(smartctl)
        except ValueError as exc:
            return f"[collectors.smart] smartctl is not a valid command: {exc}"
        if not argv:
            return "[collectors.smart] smartctl is empty"
        # "sudo -n /usr/sbin/smartctl" runs smartctl alone as root: check both programs.
        wrapped = os.path.basename(argv[0]) in ("sudo", "doas") and len(argv) > 1
        for i in (0, len(argv) - 1) if wrapped else (0,):
            # A user's PATH often lacks the sbin directories where smartctl lives.
            found = shutil.which(argv[i]) or shutil.which(argv[i], path=SBIN)
            if found is None:
                return (
                    f"smartctl not found ({argv[i]!r}): install smartmontools, "
                    "or set [collectors.smart] smartctl to its path"
                )
            argv[i] = found
        self._argv, self._ctl = argv, None
        return None

    def _pysmart(self) -> Any:
        """pySMART's wrapper around the command, made at its first use."""
        if self._ctl is None:
            self._ctl = _smartctl_class()(self._argv, self._timeout)
        return self._ctl

    def poll(self) -> Batch:
        """Scan for disks and read each; a disk that fails is one error line."""
        now = time.time()
        temps, hw_errors = self._drive_temperatures(now)
        if self._argv is None:  # a few stat calls: cheap at SMART's pace
            self.problem = self._probe(self._command, self._timeout)
        if self.problem is not None:
            return Batch(self.name, tuple(temps), tuple(hw_errors), unavailable=self.problem)
        try:
            disks, denied, garbled = self._scan()
        except subprocess.TimeoutExpired:
            why = f"smartctl --scan-open took longer than {self._timeout:g} s"
            return Batch(self.name, tuple(temps), tuple(hw_errors), unavailable=why)
        except OSError as exc:
            self._argv = None  # smartctl went away: find it again at the next poll
            why = f"smartctl --scan-open failed: {exc}"
            return Batch(self.name, tuple(temps), tuple(hw_errors), unavailable=why)
        if denied and not disks:
            return Batch(self.name, tuple(temps), tuple(hw_errors), unavailable=NEEDS_ROOT)
        readings: list[Reading] = []
        errors = list(hw_errors)
        if garbled:
            errors.append(f"smartctl --scan-open printed {garbled}")
        if disks:
            try:
                self._pysmart().garbled.clear()
            except ImportError as exc:
                why = f"pySMART is not installed ({exc})"
                return Batch(self.name, tuple(temps), tuple(errors), unavailable=why)
        read_ok: set[str] = set()
        for name, iface in disks:
            did = disk_id(name, iface)
            if self._read_disk(name, iface, did, now, readings, errors):
                read_ok.add(did)
        readings.extend(self._gone(read_ok, {disk_id(n, i) for n, i in disks}, now, errors))
        readings.extend(self._links(temps, readings))
        return Batch(self.name, tuple(readings), tuple(errors))

    def _scan(self) -> tuple[list[tuple[str, str]], int, str | None]:
        """Return the (device, type) pairs smartctl can open, how many it may not, and what
        was wrong with its output if it was not clean text (run as ``GuardedSmartctl`` runs
        every command, without pySMART)."""
        assert self._argv is not None
        cmd = [*self._argv, "--scan-open"]
        done = process.run(cmd, self._timeout, env=process.child_environment(SMARTCTL_ENV))
        lines, garbled = decode_output(done.stdout)
        disks, denied = [], 0
        for line in lines:
            if "Permission denied" in line or "Operation not permitted" in line:
                denied += 1
            m = re.match(r"^(\S+)\s+-d\s+(\S+)", line)
            if m and "failed:" not in line:
                disks.append((m[1], m[2]))
        return disks, denied, garbled

    def _read_disk(
        self, name: str, iface: str, did: str, now: float, out: list[Reading], errors: list[str]
    ) -> bool:
        """Read one disk into ``out``; return whether it answered."""
        from pySMART import Device

        ref = name if "IOService" in name else os.path.join("/dev", name.removeprefix("/dev/"))
        try:
            dev = Device(name, interface=iface, smartctl=self._ctl)
        except subprocess.TimeoutExpired:
            errors.append(f"{did}: smartctl took longer than {self._ctl.timeout:g} s")
            return False
        except Exception as exc:  # pySMART's parser fails on odd output in many ways
            errors.append(f"{did}: could not parse smartctl output ({type(exc).__name__}: {exc})")
            out.append(self._state(did, now, "unreadable", Status.UNKNOWN))
            return True
        finally:
            if garbled := self._ctl.garbled.get(ref):
                errors.append(f"{did}: smartctl printed {garbled}")
        lines, rc = self._ctl.last.get(ref, ([], 0))
        return self._judge_disk(dev, did, now, lines, rc, out, errors)

    def _judge_disk(
        self,
        dev: Any,
        did: str,
        now: float,
        lines: list[str],
        rc: int,
        out: list[Reading],
        errors: list[str],
    ) -> bool:
        """Turn one parsed disk into readings, after what smartctl's exit status says."""
        text = "\n".join(lines)
        if _STANDBY.search(text):
            out.append(self._state(did, now, "standby (not woken)", Status.OK))
            return True
        if rc & 2 and (m := _OPEN_FAILED.search(text)):
            hint = f" ({NEEDS_ROOT})" if "Permission denied" in m[2] else ""
            errors.append(f"{did}: smartctl could not open {m[1]}: {m[2]}{hint}")
            return False
        if not (dev.model or dev.serial or dev.assessment or dev.temperature is not None):
            errors.append(f"{did}: smartctl printed nothing pySMART recognises (exit status {rc})")
            out.append(self._state(did, now, "unreadable", Status.UNKNOWN))
            return True
        if rc & 8 and dev.assessment is None:
            dev.assessment = "FAIL"  # smartctl's exit status says the disk is failing
        if rc & 4:
            errors.append(f"{did}: a SMART command failed (exit status {rc}); data may be partial")
        self._seen.add(did)
        memory = self._memory.setdefault(did, DiskMemory())
        out.extend(DiskReader(did, memory, now, lines).read(dev))
        notes = [v for bit, v in _EXIT_NOTES.items() if rc & bit]
        if notes:
            out.append(Reading(f"disk/{did}/notes", None, "", now, text="; ".join(notes)))
        return True

    def _state(self, did: str, now: float, text: str, status: Status) -> Reading:
        return Reading(f"disk/{did}/state", None, "", now, status=status, text=text)

    def _gone(self, ok: set[str], listed: set[str], now: float, errors: list[str]) -> list[Reading]:
        """Report the disks read before that no longer answer."""
        out = []
        for did in sorted(self._seen - ok):
            where = "no longer answers" if did in listed else "disappeared"
            errors.append(f"{did}: {where}")
            out.append(self._state(did, now, "gone", Status.WARNING))
        return out

    def _drive_temperatures(self, now: float) -> tuple[list[Reading], list[str]]:
        """Read the drive temperatures that need no root (used when SMART can't run)."""
        readings, errors = [], []
        for t in hwmon.drive_temperatures(self._hwmon):
            if t.error:
                errors.append(t.error)
            if t.celsius is None:
                continue
            readings.append(
                Reading(
                    f"disk/{t.disk}/temperature",
                    t.celsius,
                    "°C",
                    now,
                    high=t.high,
                    crit=t.crit,
                    text=f"from {t.chip}",
                )
            )
            readings.append(Reading(f"disk/{t.disk}/hwmon", None, "", now, text=t.chip))
        return readings, errors

    def _links(self, temps: list[Reading], readings: list[Reading]) -> list[Reading]:
        """Keep the hwmon chip of each SMART-read disk, so the pane can plot its live
        temperature; drop hwmon temperatures where SMART gave one."""
        have = {r.key for r in readings}
        return [r for r in temps if r.key.endswith("/hwmon") or r.key not in have]
