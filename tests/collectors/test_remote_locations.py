"""Tests location names: slugs for metric keys, and the defaults that place them on the map."""

from __future__ import annotations

import pytest

from collectors.locations import CITIES, coordinates, location_slug, slug


@pytest.mark.parametrize(
    ("name", "city"),
    [
        ("sydney", "sydney"),
        ("Sydney, Australia", "sydney"),
        ("new-york", "newyork"),
        ("New York, USA", "newyork"),
        ("nyc", "newyork"),
        ("sanfrancisco", "sanfrancisco"),
        ("Japan - Tokyo (Amazon)", "tokyo"),
        ("UK - London (Rackspace)", "london"),
        ("sao-paulo", "saopaulo"),
        ("Singapore (Amazon)", "singapore"),
        ("fra", "frankfurt"),
    ],
)
def test_common_names_have_coordinates(name: str, city: str) -> None:
    assert coordinates(name) == CITIES[city]


def test_config_positions_win_and_unknown_names_are_none() -> None:
    assert coordinates("local") is None
    assert coordinates("local", {"local": (10.0, 20.0)}) == (10.0, 20.0)
    assert coordinates("London, UK", {"london": (1.0, 2.0)}) == (1.0, 2.0)


def test_slugs_are_metric_key_safe() -> None:
    assert slug("Shop Front") == "shop-front"
    assert slug("a/b c") == "a-b-c"
    assert slug("///") == "unnamed"
    assert location_slug("Sydney, Australia") == "sydney"
    assert location_slug("UK - London (Rackspace)") == "uk-london"
