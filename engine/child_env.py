"""Provides ``child_environment``: what a program gongwatch starts may see of its environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

KEPT = ("PATH", "HOME", "TZ", "LANG", "LANGUAGE")
"""Variables a child inherits from gongwatch's own environment (with every ``LC_*``)."""


def child_environment(
    extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the environment of a child: the locale, PATH, HOME and TZ, and nothing else.

    Everything else (the API token a ``token_env`` names, passwords, session variables) stays
    in gongwatch; a child that needs more gets it through ``extra``.

    Args:
        extra: variables this child specifically needs; they override the inherited ones.
        base: the environment to pick from (``os.environ`` by default).
    """
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if k in KEPT or k.startswith("LC_")}
    env.update(extra or {})
    return env
