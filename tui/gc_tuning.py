"""Provides ``freeze_startup``: what a started screen holds for good is left out of Python's
garbage collections, and the youngest generation is collected less often; and
``collect_cycles``, which the screen then runs every ``COLLECT_EVERY`` seconds."""

from __future__ import annotations

import gc

YOUNG = 10_000
"""Container objects allocated (less those freed) between two collections of the youngest
generation; Python's default is 700."""
COLLECT_EVERY = 30.0
"""Seconds between two collections of every generation once the start is frozen."""


def freeze_startup() -> None:
    """Collect once, then leave every object alive now out of later collections, and collect
    the youngest generation less often.

    A screen holds about 100,000 objects for good (modules, classes, styles, its widgets).
    Each second, the snapshot it draws and the lines it renders are new objects that live
    about a second; at Python's default thresholds several of them are alive at each young
    collection, so they are promoted, and the oldest generation fills until a full
    collection walks every object the screen holds: about 90 ms every 20 s, a third of the
    CPU of a screen attached to a daemon. Frozen, those objects are never walked again; with
    young collections rarer, what lives a second is freed by its reference count before any
    collection sees it. Objects that die later are still freed (a cycle among them only is
    kept, and the screen makes its widgets once).
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)


def collect_cycles() -> None:
    """Collect every generation (what is not frozen: a few ms).

    With the youngest generation collected every few minutes, the reference cycles that
    HTTP connections and asyncio leave (about 1,700 objects a minute with remote sources)
    piled up between collections, and those alive at one were moved to older generations,
    collected every half hour and every few hours. Python's allocator keeps the pages such a
    pile once took, so memory crept up for most of an hour; collected every 30 s, the pile
    stays small and memory levels off within ten minutes.
    """
    gc.collect()


__all__ = ["COLLECT_EVERY", "YOUNG", "collect_cycles", "freeze_startup"]
