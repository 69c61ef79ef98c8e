"""Provides what every importer shares: its one-line error and the metric keys it makes."""

from __future__ import annotations

import re
from pathlib import Path

from collectors.base import printable

DEFAULT_PREFIX = "import"
"""The first part of every imported key unless ``--prefix`` says otherwise."""

_SLASHES = re.compile(r"/+")
_DOTS_AND_SLASHES = re.compile(r"[/.]+")

Points = list[tuple[float, float]]
"""(seconds since the epoch, value) pairs."""


class ImportFileError(Exception):
    """A file that cannot be imported, said in one line that names it."""


def metric_key(prefix: str, *parts: str, dotted: bool = False) -> str:
    """A history key from a prefix and names: slashes separate parts, and so do the dots of
    ``dotted`` names (Graphite's and StatsD's); empty parts are dropped, and control
    characters are shown, never stored."""
    split = _DOTS_AND_SLASHES.split if dotted else _SLASHES.split
    words = [w.strip() for w in _SLASHES.split(prefix)]
    words += [w.strip() for part in parts for w in split(part)]
    return "/".join(printable(w) for w in words if w)


def rrd_key(prefix: str, path: Path, source: str) -> str:
    """The key of one data source of a collectd RRD file, from where the file lies.

    collectd writes ``<host>/<plugin>/<type>.rrd``: ``web1/load/load.rrd`` holds ``shortterm``
    and the key is ``import/web1/load/shortterm``; ``web1/memory/memory-used.rrd`` holds
    ``value`` and its key is ``import/web1/memory/used``. A type repeating the plugin's name is
    dropped, and so is the data source when it is collectd's ``value``.
    """
    plugin, name = path.parent.name, path.stem
    if name == plugin:
        name = ""
    elif name.startswith(plugin + "-"):
        name = name[len(plugin) + 1 :]
    host = path.parent.parent.name
    return metric_key(prefix, host, plugin, name, "" if source == "value" else source)
