"""Tests the nested cross-validation: what a fold chooses never depends on its test files."""

from __future__ import annotations

import numpy as np

from detectors.nab import label_file
from detectors.nab_cv import category_folds, choose, file_folds, nested


def _corpus() -> tuple[dict[str, dict[str, np.ndarray]], dict[str, object]]:
    """Three categories of two files, one window each at rows 60..69; two candidate settings
    whose window scores differ per category."""
    rng = np.random.default_rng(0)
    labels, table = {}, {"a": {}, "b": {}}
    for cat, (hit_a, hit_b) in {"x": (0.6, 0.4), "y": (0.7, 0.3), "z": (0.2, 0.9)}.items():
        for i in range(2):
            name = f"{cat}/f{i}.csv"
            labels[name] = label_file(100, [(60, 69)])
            for setting, hit in (("a", hit_a), ("b", hit_b)):
                s = rng.uniform(0, 0.1, 100)
                s[60] = hit
                table[setting][name] = s
    return table, labels  # type: ignore[return-value]


def test_category_folds_hold_out_each_category_whole() -> None:
    names = ["x/1", "x/2", "y/1", "z/1"]
    folds = category_folds(names)
    assert [f.name for f in folds] == ["x", "y", "z"]
    assert folds[0].test == ("x/1", "x/2") and folds[0].train == ("y/1", "z/1")


def test_file_folds_are_stratified_and_disjoint() -> None:
    names = [f"{c}/{i}" for c in "abc" for i in range(5)]
    folds = file_folds(names, k=5)
    tested = [n for f in folds for n in f.test]
    assert sorted(tested) == sorted(names)  # every file is tested exactly once
    for f in folds:
        assert len(f.test) == 3 and {n[0] for n in f.test} == {"a", "b", "c"}
        assert not set(f.test) & set(f.train)


def test_held_out_choice_ignores_the_held_out_files() -> None:
    table, labels = _corpus()
    folds = category_folds(sorted(labels))
    results, _ = nested(table, labels, folds, "standard")  # type: ignore[arg-type]
    z = results[2]
    # Trained on x and y, where setting a finds its windows at 0.6 and 0.7: a wins there,
    # although z's own files would prefer b (0.9 against 0.2).
    assert z.fold.name == "z" and z.setting == "a"
    assert 0.1 < z.threshold <= 0.6
    assert z.raw == -2.0  # a misses both of z's windows at that threshold
    # Whatever the held-out files score, the choice made for them stays the same.
    for name in z.fold.test:
        table["a"][name] = np.ones(100)
        table["b"][name] = np.zeros(100)
    again, _ = nested(table, labels, folds, "standard")  # type: ignore[arg-type]
    assert (again[2].setting, again[2].threshold) == (z.setting, z.threshold)
    assert choose(table, labels, z.fold.train, "standard") == (z.setting, z.threshold)  # type: ignore[arg-type]
