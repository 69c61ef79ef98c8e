"""Provides location names for remote checks: slugs for metric keys, and where on Earth they are."""

from __future__ import annotations

import re
from collections.abc import Mapping

CITIES: dict[str, tuple[float, float]] = {
    "amsterdam": (52.37, 4.90),
    "ashburn": (39.04, -77.49),
    "atlanta": (33.75, -84.39),
    "auckland": (-36.85, 174.76),
    "bangalore": (12.97, 77.59),
    "beijing": (39.90, 116.41),
    "berlin": (52.52, 13.40),
    "boston": (42.36, -71.06),
    "brussels": (50.85, 4.35),
    "buenosaires": (-34.60, -58.38),
    "cairo": (30.04, 31.24),
    "capetown": (-33.92, 18.42),
    "chicago": (41.88, -87.63),
    "copenhagen": (55.68, 12.57),
    "dallas": (32.78, -96.80),
    "denver": (39.74, -104.99),
    "dubai": (25.20, 55.27),
    "dublin": (53.35, -6.26),
    "frankfurt": (50.11, 8.68),
    "helsinki": (60.17, 24.94),
    "hongkong": (22.32, 114.17),
    "houston": (29.76, -95.37),
    "istanbul": (41.01, 28.98),
    "jakarta": (-6.21, 106.85),
    "johannesburg": (-26.20, 28.05),
    "lagos": (6.52, 3.38),
    "lisbon": (38.72, -9.14),
    "london": (51.51, -0.13),
    "losangeles": (34.05, -118.24),
    "madrid": (40.42, -3.70),
    "manchester": (53.48, -2.24),
    "melbourne": (-37.81, 144.96),
    "mexicocity": (19.43, -99.13),
    "miami": (25.76, -80.19),
    "milan": (45.46, 9.19),
    "montreal": (45.50, -73.57),
    "moscow": (55.76, 37.62),
    "mumbai": (19.08, 72.88),
    "newark": (40.74, -74.17),
    "newyork": (40.71, -74.01),
    "oslo": (59.91, 10.75),
    "paris": (48.86, 2.35),
    "phoenix": (33.45, -112.07),
    "santiago": (-33.45, -70.67),
    "sanfrancisco": (37.77, -122.42),
    "sanjose": (37.34, -121.89),
    "saopaulo": (-23.55, -46.63),
    "seattle": (47.61, -122.33),
    "seoul": (37.57, 126.98),
    "shanghai": (31.23, 121.47),
    "singapore": (1.35, 103.82),
    "stockholm": (59.33, 18.07),
    "sydney": (-33.87, 151.21),
    "taipei": (25.03, 121.57),
    "telaviv": (32.09, 34.78),
    "tokyo": (35.68, 139.69),
    "toronto": (43.65, -79.38),
    "vancouver": (49.28, -123.12),
    "vienna": (48.21, 16.37),
    "warsaw": (52.23, 21.01),
    "washington": (38.91, -77.04),
    "zurich": (47.37, 8.54),
}
"""(latitude, longitude) in degrees of common monitoring locations, by normalized city name."""

ALIASES: dict[str, str] = {
    "akl": "auckland",
    "ams": "amsterdam",
    "atl": "atlanta",
    "bom": "mumbai",
    "chi": "chicago",
    "dal": "dallas",
    "dfw": "dallas",
    "dub": "dublin",
    "fra": "frankfurt",
    "gru": "saopaulo",
    "hkg": "hongkong",
    "iad": "washington",
    "jnb": "johannesburg",
    "la": "losangeles",
    "lax": "losangeles",
    "lhr": "london",
    "lon": "london",
    "mel": "melbourne",
    "mia": "miami",
    "nrt": "tokyo",
    "ny": "newyork",
    "nyc": "newyork",
    "ord": "chicago",
    "par": "paris",
    "sao": "saopaulo",
    "sea": "seattle",
    "sf": "sanfrancisco",
    "sfo": "sanfrancisco",
    "sin": "singapore",
    "sjc": "sanjose",
    "syd": "sydney",
    "tok": "tokyo",
    "tor": "toronto",
    "tyo": "tokyo",
    "was": "washington",
    "yyz": "toronto",
}
"""Short node ids and airport codes that monitoring services use, to their city."""

_PARENS = re.compile(r"\([^)]*\)")


def normalize(name: str) -> str:
    """Return ``name`` in lower case with everything but letters and digits removed."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def slug(name: str) -> str:
    """Return a metric-key-safe name: lower case, runs of other characters become one ``-``.

    Args:
        name: a service or location name as a person wrote it (``"New York, USA"``).

    Returns:
        The slug (``"new-york-usa"``), or ``"unnamed"`` when nothing is left.
    """
    out = re.sub(r"[^a-z0-9._]+", "-", name.lower()).strip("-.")
    return out or "unnamed"


def location_slug(name: str) -> str:
    """Return the short location key of a node name: its first comma part, without brackets.

    ``"Sydney, Australia"`` becomes ``sydney``; ``"UK - London (Rackspace)"`` becomes
    ``uk-london``.
    """
    first = _PARENS.sub("", name).split(",")[0]
    return slug(first) if first.strip() else slug(name)


def _candidates(name: str) -> list[str]:
    """Return the normalized names worth looking up for ``name``, the most specific first."""
    bare = _PARENS.sub("", name)
    out = [normalize(name), normalize(bare)]
    for part in re.split(r"[,/]|\s-\s|-", bare):
        out.append(normalize(part))
        out.extend(normalize(word) for word in part.split())
    return [c for c in dict.fromkeys(out) if c]


def coordinates(
    name: str, overrides: Mapping[str, tuple[float, float]] | None = None
) -> tuple[float, float] | None:
    """Return the (latitude, longitude) of a location name, or None when it is not known.

    Args:
        name: a location key or node name (``sydney``, ``new-york``, ``nyc``,
            ``"Japan - Tokyo (Amazon)"``).
        overrides: the configuration's own positions (``[remote.locations]``), which win.
    """
    extra = {normalize(k): v for k, v in (overrides or {}).items()}
    for cand in _candidates(name):
        if cand in extra:
            return extra[cand]
    for cand in _candidates(name):
        city = ALIASES.get(cand, cand)
        if city in CITIES:
            return CITIES[city]
    return None
