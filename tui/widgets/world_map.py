"""Provides WorldMap: a small world drawn in braille, each location a marker coloured by state.

It is the on-screen twin of the LED map: one marker per location, placed by latitude and
longitude on an equirectangular projection, with a symbol that reads without colour too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rich.text import Text
from textual.widget import Widget

from collectors.base import printable

# Land (1) and sea (0) in 2.5-degree cells: 72 rows from 90 N to 90 S, each 144 cells from
# 180 W to 180 E as 36 hex digits. Block-averaged from the public-domain NOAA GLOBE 30"
# land/ocean mask: a cell is land when more than 35 % of it is.
LAND_MASK = (
    "000000000000000000000000000000000000",
    "000000000000000000000000000000000000",
    "000000000000007800000000000000000000",
    "000000003fffffffc0000000000200000000",
    "000000017fdfffff0007c000000340000000",
    "000000e8bf0fffff000000008007f8018000",
    "000003c4bf807fff00000002007ffe600000",
    "0060037eeff03ffe000000041ffffffffe00",
    "83fffffefa781ffc0003fe0fffffffffffff",
    "f7fffffffe3e1fc0c007ffffffffffffffff",
    "03fffffff61c1f01c01fffffffffffffffff",
    "03ffffffe0700e00003efffffffffffffefc",
    "01e07fffe07e0000003e7fffffffffff8080",
    "00803ffff87f0000061cfffffffffffe0380",
    "00000ffffeff80000f1fffffffffffff0300",
    "000007ffffffc00003ffffffffffffffc000",
    "000003fffffce00001ffffffffffffff0000",
    "000003ffffff000001fffffffffffffe0000",
    "000003fffff0000007fbf0fffffffffcc000",
    "000003ffffe000000f96fffffffffff08000",
    "000001ffffc000000f00ffffffffff208000",
    "000001ffffc0000006f01fffffffffb30000",
    "000000ffff80000007f803ffffffff0c0000",
    "0000007fff0000000ffeffffffffff800000",
    "0000003fc10000001fffffffffffff800000",
    "0000001f810000003ffffff3ffffff000000",
    "00000007800000003ffffdfe1ffffe800000",
    "0000000388c000007ffffeff0fe7f8000000",
    "00000003f81000007ffffefe07c7e0000000",
    "00000000fc0000007fffff780783e0800000",
    "000000001e0000007fffffe00301f0800000",
    "00000000063800003fffffd0030170400000",
    "0000000003ff00001ffffff0008100600000",
    "00000000007fc0000ffffff0008082000000",
    "00000000007ff000000fffe00003c6000000",
    "0000000000fff000000fffc00001ce000000",
    "0000000000fffc00000fff800000ce8c0000",
    "0000000000ffff80000fff0000006487c000",
    "0000000000ffffc00007ff0000003001e000",
    "0000000000ffffc00007ff0000000000b000",
    "00000000007fff800007ff00000000000000",
    "00000000007fff800007ff100000000ec000",
    "00000000003fff800007ff300000007ec000",
    "00000000000fff000007fe30000000ffe000",
    "00000000000fff000007fc60000003fff000",
    "00000000000ffc000003fc60000007fff800",
    "00000000000ff8000003f800000007fff800",
    "00000000001ff0000003f800000003fffc00",
    "00000000001ff0000001f000000003fff800",
    "00000000001fe0000001e000000003c3f800",
    "00000000001f80000000000000000000f000",
    "00000000003f800000000000000000006002",
    "00000000003e000000000000000000002004",
    "00000000003c000000000000000000000018",
    "000000000038000000000000000000000010",
    "000000000038000000000000000000000000",
    "000000000038000000000000000000000000",
    "000000000018000000000000000000000000",
    "000000000000000000000000000000000000",
    "000000000000000000000000000000000000",
    "000000000000000000000000000000000000",
    "000000000000000000000000000000000000",
    "00000000000200000000000e000fec2f0000",
    "0000000000160000000004fff1fffffffe00",
    "00000000001f00000ffffffffffffffffff0",
    "00000101ffff00007fffffffffffffffffe0",
    "0007fffffffc000fffffffffffffffffff80",
    "003fffffffc00e3fffffffffffffffffffc0",
    "001ffffffff819ffffffffffffffffffff80",
    "00fffffffffffffffffffffffffffffffffe",
    "ffffffffffffffffffffffffffffffffffff",
    "ffffffffffffffffffffffffffffffffffff",
)
MASK_DEGREES = 2.5
"""Size of one LAND_MASK cell in degrees."""
LAT_TOP = 84.0
LAT_BOTTOM = -58.0
"""Latitudes shown: the Arctic islands down to Cape Horn; Antarctica would only take room."""

SYMBOLS = {"up": "●", "slow": "◐", "down": "✖", "unknown": "?"}
"""Marker of each state: shapes that tell the states apart without colour."""
STYLES = {"up": "bold green", "slow": "bold dark_orange", "down": "bold red", "unknown": "dim"}
"""Colour of each state, as the LEDs of the printed map show it."""
RANK = {"up": 0, "unknown": 1, "slow": 2, "down": 3}
"""Which state wins where several services share a location: the worst."""
LAND_STYLE = "grey42"

_DOTS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int64)
"""Braille dot bits by (row, column) within a cell."""


@dataclass(frozen=True, slots=True)
class Marker:
    """One location on the map."""

    name: str
    """Location key, shown in the legend."""
    lat: float | None
    """Latitude in degrees north; None when the location's position is not known."""
    lon: float | None
    """Longitude in degrees east."""
    state: str
    """``up``, ``slow``, ``down`` or ``unknown``."""


def land_mask() -> npt.NDArray[np.bool_]:
    """Return LAND_MASK as a (72, 144) boolean array, north-west first."""
    rows = [[c == "1" for c in f"{int(h, 16):0144b}"] for h in LAND_MASK]
    return np.array(rows, dtype=bool)


_MASK = land_mask()


@lru_cache(maxsize=8)
def background(width: int, height: int) -> tuple[str, ...]:
    """Return the land drawn in braille, ``height`` lines of ``width`` characters."""
    if width <= 0 or height <= 0:
        return ()
    cols = np.arange(2 * width)
    rows = np.arange(4 * height)
    lon = -180.0 + (cols + 0.5) * 360.0 / (2 * width)
    lat = LAT_TOP - (rows + 0.5) * (LAT_TOP - LAT_BOTTOM) / (4 * height)
    mi = np.clip(((90.0 - lat) / MASK_DEGREES).astype(int), 0, _MASK.shape[0] - 1)
    mj = np.clip(((lon + 180.0) / MASK_DEGREES).astype(int), 0, _MASK.shape[1] - 1)
    dots = _MASK[np.ix_(mi, mj)].reshape(height, 4, width, 2)
    codes = (dots * _DOTS[None, :, None, :]).sum(axis=(1, 3))
    return tuple("".join(chr(0x2800 + int(c)) if c else " " for c in line) for line in codes)


def place(lat: float, lon: float, width: int, height: int) -> tuple[int, int] | None:
    """Return the (column, row) of a position on a map of that size, or None off the map."""
    if not LAT_BOTTOM <= lat <= LAT_TOP or not -180.0 <= lon <= 180.0:
        return None
    col = min(width - 1, int((lon + 180.0) / 360.0 * width))
    row = min(height - 1, int((LAT_TOP - lat) / (LAT_TOP - LAT_BOTTOM) * height))
    return col, row


def worst(states: Iterable[str]) -> str:
    """Return the worst of some states (``unknown`` when there are none)."""
    return max(states, key=lambda s: RANK.get(s, 1), default="unknown")


def map_height(width: int) -> int:
    """Return the lines a map ``width`` characters wide needs to keep its proportions.

    A terminal cell is about twice as tall as it is wide, so a band of latitudes
    ``LAT_TOP - LAT_BOTTOM`` tall over 360 degrees of longitude takes this many lines.
    """
    return max(3, round(width * (LAT_TOP - LAT_BOTTOM) / 360.0 / 2.0))


def draw(markers: Iterable[Marker], width: int, height: int) -> Text:
    """Return the map with its markers, then a legend line per few locations."""
    lines = [list(line) for line in background(width, height)]
    styles: dict[tuple[int, int], str] = {}
    legend: list[Marker] = []
    for m in sorted(markers, key=lambda m: RANK.get(m.state, 1)):
        legend.append(m)
        spot = (
            place(m.lat, m.lon, width, height) if m.lat is not None and m.lon is not None else None
        )
        if spot is not None:  # sorted by rank, so the worst state lands last and wins
            col, row = spot
            lines[row][col] = SYMBOLS.get(m.state, "?")
            styles[(col, row)] = STYLES.get(m.state, "dim")
    text = Text(no_wrap=True, overflow="crop")
    for row, chars in enumerate(lines):
        text.append("".join(chars), LAND_STYLE)
        for (col, r), style in styles.items():
            if r == row:
                start = len(text) - width + col
                text.stylize(style, start, start + 1)
        text.append("\n")
    text.append_text(legend_text(legend, width))
    return text


def legend_text(markers: list[Marker], width: int) -> Text:
    """Return the locations by name with their markers, wrapped to ``width``."""
    out = Text(no_wrap=True, overflow="crop")
    used = 0
    for m in sorted(markers, key=lambda m: m.name):
        unplaced = "" if m.lat is not None else " (?)"
        item = f"{SYMBOLS.get(m.state, '?')} {printable(m.name)}{unplaced}"
        if used and used + 2 + len(item) > width:
            out.append("\n")
            used = 0
        elif used:
            out.append("  ")
            used += 2
        out.append(item[:width], STYLES.get(m.state, "dim"))
        used += len(item[:width])
    return out


class WorldMap(Widget):
    """A small world map; ``set_markers`` places the locations and repaints only on change."""

    DEFAULT_CSS = """
    WorldMap { width: 50; height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._markers: tuple[Marker, ...] = ()

    @property
    def markers(self) -> tuple[Marker, ...]:
        """The markers shown, sorted by name."""
        return self._markers

    def set_markers(self, markers: Iterable[Marker]) -> None:
        """Show these markers; nothing is redrawn when they did not change."""
        new = tuple(sorted(markers, key=lambda m: m.name))
        if new != self._markers:
            lines_before = self._legend_lines(self._markers)
            self._markers = new
            self.refresh(layout=self._legend_lines(new) != lines_before)

    def _legend_lines(self, markers: tuple[Marker, ...]) -> int:
        return legend_text(list(markers), max(1, self.size.width)).plain.count("\n") + 1

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """Map lines plus legend lines."""
        legend = legend_text(list(self._markers), max(1, width)).plain.count("\n") + 1
        return map_height(width) + legend

    def render(self) -> Text:
        width = self.size.width
        return draw(self._markers, width, map_height(width))
