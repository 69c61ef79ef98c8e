#!/usr/bin/env python3
"""Provides a fake ``smartctl`` that replays recorded outputs (stdlib only, runs as a program).

Environment:
    FAKE_SMARTCTL_DIR: a folder of recordings, each file named after the arguments that
        produced it (``_-d_ata_--all__dev_sda``), with the ``device.json`` pySMART made of it;
        several folders separated by ``:`` make one machine of their disks.
    FAKE_SMARTCTL_LOG: a file each call appends its arguments to (one JSON list a line).
    FAKE_SMARTCTL_STATE: a JSON file read at every call, so a test can change the machine
        between polls: ``{"standby": [dev...], "gone": [dev...], "denied": bool,
        "garbage": [dev...], "exit_bits": {dev: n}, "replace": {dev: {"old": "new"}},
        "hang": [dev...]}``.

Without ``--nocheck standby`` a disk in standby is "woken": the call is logged with
``"woke": dev`` so tests can prove the collector never does that.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

HEADER = (
    "smartctl 7.3 2022-02-28 r5338 [x86_64-linux-6.1.0-13-amd64] (local build)\n"
    "Copyright (C) 2002-22, Bruce Allen, Christian Franke, www.smartmontools.org\n\n"
)


def _out(text: str) -> None:
    """Print as bytes: a recording's undecodable bytes go out as they were recorded."""
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.buffer.flush()


def _state() -> dict:
    path = os.environ.get("FAKE_SMARTCTL_STATE")
    if not path or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _log(entry: dict) -> None:
    path = os.environ.get("FAKE_SMARTCTL_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def _strip_nocheck(args: list[str]) -> tuple[list[str], bool]:
    out, nocheck, i = [], False, 0
    while i < len(args):
        if args[i] in ("-n", "--nocheck") and i + 1 < len(args):
            nocheck = nocheck or args[i + 1] == "standby"
            i += 2
            continue
        if args[i].startswith("--nocheck="):
            nocheck = nocheck or args[i].endswith("=standby")
            i += 1
            continue
        out.append(args[i])
        i += 1
    return out, nocheck


def _recording(folders: str, args: list[str]) -> str | None:
    # Recordings replace the characters a file name cannot hold (/, \\ and :) with "_".
    name = re.sub(r"[/\\:]", "_", "_" + "_".join(args))
    for folder in folders.split(":"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                return f.read()
    return None


def _detected_type(folder: str, dev: str) -> str:
    text = _recording(folder, ["-d", "test", dev]) or ""
    for line in reversed(text.splitlines()):
        if "opened" in line and "'" in line:
            return line.split("'")[1]
    return "auto"


def scan(folders: str, state: dict) -> str:
    """Answer ``--scan-open``: per folder, the recording if there is one, else a line made
    from the disk's device.json, as smartctl prints it."""
    if state.get("denied"):
        return "".join(
            f"# {d} -d sat # {d} [SAT], ATA device open failed: Permission denied\n"
            for d in state.get("denied_devices", ["/dev/sda", "/dev/sdb"])
        )
    # One line per disk, whatever a recording's last line ends with.
    parts = (_scan_one(folder, state) for folder in folders.split(":"))
    return "".join(p if not p or p.endswith("\n") else p + "\n" for p in parts)


def _scan_one(folder: str, state: dict) -> str:
    meta_path = os.path.join(folder, "device.json")
    meta = {}
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    if "name" not in meta:
        return _recording(folder, ["--scan-open"]) or ""
    dev = meta["name"]
    if dev in state.get("gone", []):
        return ""
    kind = meta.get("interface") or _detected_type(folder, dev)
    return f"{dev} -d {kind} # {dev}, {kind.upper()} device\n"


def run(args: list[str]) -> int:
    """Print what smartctl would and return its exit status."""
    folder = os.environ.get("FAKE_SMARTCTL_DIR", ".")
    state = _state()
    args, nocheck = _strip_nocheck(args)
    if args and args[0] in ("--scan-open", "--scan"):
        _log({"argv": args})
        _out(scan(folder, state))
        return 0
    dev = args[-1] if args else ""
    woke = dev in state.get("standby", []) and not nocheck
    _log({"argv": args, "nocheck": nocheck, **({"woke": dev} if woke else {})})
    if dev in state.get("hang", []):
        time.sleep(30)
    if dev in state.get("gone", []):
        _out(HEADER + f"Smartctl open device: {dev} failed: No such device\n")
        return 2
    if state.get("denied"):
        _out(HEADER + f"Smartctl open device: {dev} [SAT] failed: Permission denied\n")
        return 2
    if dev in state.get("standby", []) and nocheck:
        _out(HEADER + "Device is in STANDBY mode, exit(2)\n")
        return 2
    if dev in state.get("garbage", []):
        _out("\x00\x13 %%% not smartctl at all\n<<<>>> ]]]\n\n\n\n\n")
        return 0
    text = _recording(folder, args)
    if text is None:
        _out(HEADER + f"Smartctl open device: {dev} failed: No such device\n")
        return 2
    for old, new in state.get("replace", {}).get(dev, {}).items():
        text = text.replace(old, new)
    _out(text)
    return int(state.get("exit_bits", {}).get(dev, 0))


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
