"""Provides nested cross-validation for detectors scored with NAB's rules: folds that hold out
a category or a stratified share of the files, and a held-out score for which every choice,
the detector's settings and the threshold alike, is made on the training files only."""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from detectors.base import FloatArray
from detectors.nab import PROFILES, FileLabels, _counted_windows, file_score, sweep

S = TypeVar("S", bound=Hashable)
Table = Mapping[S, Mapping[str, FloatArray]]
"""Scores of every file (by name) under every candidate setting."""


@dataclass(frozen=True, slots=True)
class Fold:
    """One split of the files."""

    name: str
    train: tuple[str, ...]
    test: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FoldResult:
    """What a fold chose on its training files and what that scored on its test files."""

    fold: Fold
    setting: Hashable
    threshold: float
    raw: float
    """NAB total of the test files at the chosen setting and threshold."""
    windows: int
    """Windows counted in the test files."""


def category(name: str) -> str:
    """A file's category: the folder its name starts with."""
    return name.split("/")[0]


def category_folds(names: Sequence[str]) -> list[Fold]:
    """Leave one category out: one fold per category, tested on it, trained on the rest."""
    cats = sorted({category(n) for n in names})
    return [
        Fold(
            c,
            tuple(n for n in names if category(n) != c),
            tuple(n for n in names if category(n) == c),
        )
        for c in cats
    ]


def file_folds(names: Sequence[str], k: int = 5, seed: int = 0) -> list[Fold]:
    """``k`` folds over files, stratified by category: each category's files, shuffled with
    ``seed``, are dealt to the folds in turn (continuing where the last category stopped, so
    the folds stay the same size)."""
    rng = random.Random(seed)
    deal: list[list[str]] = [[] for _ in range(k)]
    turn = 0
    for c in sorted({category(n) for n in names}):
        members = sorted(n for n in names if category(n) == c)
        rng.shuffle(members)
        for n in members:
            deal[turn % k].append(n)
            turn += 1
    return [
        Fold(f"files {i + 1}/{k}", tuple(n for n in names if n not in test), tuple(test))
        for i, test in enumerate(deal)
    ]


def windows(names: Sequence[str], labels: Mapping[str, FileLabels]) -> int:
    """Windows NAB counts in these files."""
    return sum(_counted_windows(labels[n]) for n in names)


def normalised(raw: float, n_windows: int, profile: str) -> float:
    """NAB's normalised score of a raw total over ``n_windows`` windows (NaN without any)."""
    p = PROFILES[profile]
    perfect, null = p.a_tp * n_windows, -p.a_fn * n_windows
    return 100.0 * (raw - null) / (perfect - null) if n_windows else float("nan")


def choose(
    table: Table[S], labels: Mapping[str, FileLabels], train: Sequence[str], profile: str
) -> tuple[S, float]:
    """The setting and threshold with the best NAB total over the ``train`` files only."""
    best: tuple[S, float, float] | None = None
    for setting, scores in table.items():
        r = sweep([(scores[n], labels[n]) for n in train], profile)
        if best is None or r.raw > best[2]:
            best = (setting, r.threshold, r.raw)
    if best is None:
        raise ValueError("no candidate settings")
    return best[0], best[1]


def nested(
    table: Table[S], labels: Mapping[str, FileLabels], folds: Sequence[Fold], profile: str
) -> tuple[list[FoldResult], float]:
    """Score each fold's test files with what was chosen on its training files; return the
    folds and the pooled normalised score (raw totals summed over folds, over their windows)."""
    out = []
    for fold in folds:
        setting, thr = choose(table, labels, fold.train, profile)
        raw = sum(file_score(table[setting][n], labels[n], thr, profile) for n in fold.test)
        out.append(FoldResult(fold, setting, thr, raw, windows(fold.test, labels)))
    pooled = normalised(sum(r.raw for r in out), sum(r.windows for r in out), profile)
    return out, pooled
