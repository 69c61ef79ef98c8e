"""Provides the memory figures the benchmarks print: RSS against a target, its slope once
started, and what the process holds alone (USS) or as its share of shared pages (PSS)."""

from __future__ import annotations

from collections.abc import Sequence

MIB = 1024 * 1024
FLAT = 1.0
"""MiB an hour a process may still grow by, late in a run, and count as flat."""


def smaps(pid: int) -> tuple[int, int]:
    """Return the PSS and USS of ``pid`` in bytes (/proc/PID/smaps_rollup)."""
    fields: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            name, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                fields[name] = int(parts[0]) * 1024
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return fields.get("Pss", 0), uss


def slope_per_hour(times: Sequence[float], rss: Sequence[int]) -> float:
    """MiB an hour RSS grows by over the second half of the samples (least squares), where a
    process that fills its buffers during its first minutes has filled them."""
    half = len(times) // 2
    xs, ys = times[half:], [r / MIB for r in rss[half:]]
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return 3600.0 * cov / var if var > 0 else 0.0


def rss_lines(
    times: Sequence[float], rss: Sequence[int], target: float, pss_uss: tuple[int, int] | None
) -> list[str]:
    """Lines of figures: peak RSS against ``target`` MiB, its slope, each minute, PSS/USS."""
    peak = max(rss) / MIB
    slope = slope_per_hour(times, rss)
    meets = "meets" if peak < target else "misses"
    flat = "flat" if slope < FLAT else "grows"
    every = max(1, round(60 / max(1e-9, (times[-1] - times[0]) / max(1, len(times) - 1))))
    minutes = " ".join(f"{r / MIB:.1f}" for r in [*rss[::every], rss[-1]])
    lines = [
        f"rss peak             {peak:.1f} MiB   (target < {target:g} MiB: {meets})",
        f"rss slope            {slope:+.2f} MiB/hour over the second half (target: flat, "
        f"< {FLAT:g}: {flat})",
        f"rss each minute      {minutes} MiB",
    ]
    if pss_uss is not None:
        pss, uss = pss_uss
        lines.append(f"pss / uss at end     {pss / MIB:.1f} / {uss / MIB:.1f} MiB")
    return lines
