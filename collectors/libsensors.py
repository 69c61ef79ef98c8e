"""Provides the libsensors reader (through PySensors), one per process: libsensors keeps global
state, so every collector shares it and every call into it holds one lock."""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from collectors import hwmon
from collectors.base import Reading
from collectors.limits import LIMITS, LIMITS_EVERY, WANTED, Feature

KINDS = {
    0: "in",
    1: "fan",
    2: "temp",
    3: "power",
    4: "energy",
    5: "curr",
    6: "humidity",
    0x10: "vid",
    0x11: "intrusion",
}
"""libsensors' feature types we read, by number (beep_enable and the rest are left out)."""

_MODE_R = 1  # SENSORS_MODE_R: the subfeature is readable


@dataclass(slots=True)
class _Probed:
    feature: Feature
    name: str
    """libsensors' name of the feature (``temp1``)."""
    live: list[tuple[str, Any]]
    """(suffix, PySensors Subfeature) of the input, alarms and fault, read every poll."""
    limits: list[tuple[str, Any]]
    """The same for its limits, read when probed and then every ``LIMITS_EVERY`` seconds."""


class LibSensors:
    """The process's libsensors: initialised once, re-initialised when chips come or go."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _shared: ClassVar[LibSensors | None] = None

    def __init__(self, module: ModuleType, root: str) -> None:
        self._mod = module
        self._root = root
        self._users = 0
        self._dirs: list[str] = []
        self._features: list[_Probed] = []
        self._limits_at = -math.inf
        self.config_error: str | None = None
        """Set when the sensors configuration did not parse (read without it then)."""
        self._init()

    @classmethod
    def acquire(cls, module: ModuleType, root: str) -> LibSensors:
        """Return the shared instance, initialising libsensors on first use."""
        with cls._lock:
            if cls._shared is None:
                cls._shared = LibSensors(module, root)
            cls._shared._users += 1
            return cls._shared

    def release(self) -> None:
        """Drop one user; the last one frees libsensors."""
        with self._lock:
            self._users -= 1
            if self._users <= 0 and LibSensors._shared is self:
                self._features = []
                self._mod.cleanup()
                LibSensors._shared = None

    def _init(self) -> None:
        """Initialise libsensors the way ``sensors`` does (sensors3.conf and sensors.d/)."""
        self._dirs = hwmon.chip_dirs(self._root)
        try:
            # sensors_init(NULL) reads /etc/sensors3.conf *and* /etc/sensors.d/, as `sensors`
            # does; PySensors' init() opens one file only, so call the binding directly.
            self._mod._init(None)
            self.config_error = None
        except self._mod.SensorsError as exc:
            if "parse" not in message(exc).lower():
                raise
            self.config_error = f"sensors configuration not applied: {message(exc)}"
            self._mod.init(b"/dev/null")
        self._features = list(self._scan())

    def _scan(self) -> Any:
        chips = list(self._mod.iter_detected_chips())
        names = hwmon.distinct_names([_identity(chip) for chip in chips])
        for chip, name in zip(chips, names, strict=True):
            used: set[str] = set()
            for feature in chip:
                kind = KINDS.get(feature.type)
                if kind is None:
                    continue
                label = feature.label.replace("/", "_").strip() or feature.name
                if label in used:
                    label = f"{label} ({feature.name})"
                used.add(label)
                live: list[tuple[str, Any]] = []
                limits: list[tuple[str, Any]] = []
                for sf in feature:
                    # cpu0_vid is the value of a VID feature, as tempN_input is of a temperature
                    suffix = "input" if kind == "vid" else sf.name.split("_", 1)[-1]
                    if sf.flags & _MODE_R and suffix in WANTED:
                        (limits if suffix in LIMITS else live).append((suffix, sf))
                yield _Probed(Feature(name, label, kind), feature.name, live, limits)

    def read(self, now: float, trust_unset_alarms: bool = False) -> tuple[list[Reading], list[str]]:
        """Read every feature once; notices chips that appeared or went since the last read."""
        readings: list[Reading] = []
        errors: list[str] = [self.config_error] if self.config_error else []
        with self._lock:
            if hwmon.chip_dirs(self._root) != self._dirs:
                try:
                    self._mod.cleanup()
                    self._init()
                except self._mod.SensorsError as exc:
                    self._features = []
                    errors.append(f"libsensors: {message(exc)}")
                self._limits_at = -math.inf
            if time.monotonic() - self._limits_at >= LIMITS_EVERY:
                self._limits_at = time.monotonic()
                for p in self._features:
                    p.feature.set_limit_values(self._values(p.feature, p.limits, errors))
            for p in self._features:
                failed: dict[str, str] = {}
                live = self._values(p.feature, p.live, errors, failed)
                f = p.feature
                if live.keys() & {"input", "average"} or (f.kind == "intrusion" and live):
                    readings.append(f.reading(live, now, trust_unset_alarms))
                for suffix, why in failed.items():
                    if suffix in ("input", "average") or f.kind == "intrusion":
                        readings.append(f.unreadable(why, now))
        return readings, errors

    def _values(
        self,
        f: Feature,
        subfeatures: list[tuple[str, Any]],
        errors: list[str],
        failed: dict[str, str] | None = None,
    ) -> dict[str, float]:
        """Read some subfeatures; each that fails is one error line (its reason in ``failed``)."""
        out: dict[str, float] = {}
        for suffix, sf in subfeatures:
            try:
                out[suffix] = sf.get_value()
            except self._mod.SensorsError as exc:
                why = message(exc)
                errors.append(f"{f.chip}/{f.label}: {sf.name}: {why}")
                if failed is not None:
                    failed[suffix] = why
        return out


def _identity(chip: Any) -> tuple[str, str | None, str]:
    """Return a chip's libsensors name, its device path and its hwmon directory."""
    raw = chip.path
    path = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw or "")
    device = os.path.join(path, "device")
    return str(chip), os.path.realpath(device) if os.path.exists(device) else None, path


def message(exc: BaseException) -> str:
    """Return an exception's message as text (PySensors passes libsensors' bytes through)."""
    arg = exc.args[0] if exc.args else exc
    return arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)


def load_libsensors(root: str = hwmon.HWMON) -> tuple[LibSensors | None, str | None]:
    """Return the shared libsensors reader, or None and why it cannot be used here."""
    try:
        import sensors as pysensors
    except (ImportError, OSError) as exc:  # PySensors raises OSError when the .so won't load
        return None, f"libsensors is not available ({exc})"
    try:
        return LibSensors.acquire(pysensors, root), None
    except (pysensors.SensorsError, OSError) as exc:
        return None, f"libsensors failed to start ({message(exc)})"
