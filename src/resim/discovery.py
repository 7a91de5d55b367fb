"""Scenario discovery: which parameter ranges lead to severe shortfall? A CART classification tree
(scikit-learn) over a finished sweep's points; each leaf where most points are severe is a box
(the parameter ranges along its path), with its coverage (share of all severe points inside it) and
density (share of the points inside it that are severe), as in PRIM-style scenario discovery."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from resim.errors import InputError, optional


@dataclass(frozen=True)
class Box:
    bounds: dict[str, tuple[float, float]]  # parameter -> [low, high] inside the box (restricted ones only)
    points: int
    severe: int
    coverage: float
    density: float

    def describe(self) -> str:
        return "; ".join(f"{lo:.4g} <= {p} <= {hi:.4g}" for p, (lo, hi) in self.bounds.items()) or "everywhere"


def discover(folder: Path, outcome: str, above: float, max_depth: int = 3, min_leaf_share: float = 0.05) -> list[Box]:
    """Boxes of parameter space where `outcome` > `above`, densest first."""
    DecisionTreeClassifier = optional("sklearn.tree", "discovery").DecisionTreeClassifier  # noqa: N806

    points_file = folder / "points.parquet"
    if not points_file.is_file():
        raise InputError.one(folder, "not a finished sweep (no points.parquet): finish it with resim sweep --resume")
    table = pq.read_table(points_file).to_pydict()
    outcomes = [k for k in table if k != "point" and not k.startswith("param.") and not k.endswith(("_low", "_high"))]
    if outcome not in outcomes:
        raise InputError.one(folder, f"unknown outcome {outcome!r}; allowed: {', '.join(outcomes)}", field="--outcome")
    params = [k for k in table if k.startswith("param.")]
    x = np.array([table[p] for p in params]).T
    y = np.nan_to_num(np.array(table[outcome], dtype=float), nan=-np.inf) > above
    if not y.any():
        raise InputError.one(folder, f"no point has {outcome} above {above:g} (max {np.nanmax(table[outcome]):.4g})",
                             field="--above")
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(2, int(min_leaf_share * len(y))),
                                  random_state=0).fit(x, y)
    t = tree.tree_
    ranges = {p: (float(x[:, i].min()), float(x[:, i].max())) for i, p in enumerate(params)}
    leaves = tree.apply(x)
    boxes = []

    def walk(node: int, bounds: dict[str, tuple[float, float]]) -> None:
        if t.children_left[node] == -1:  # a leaf
            inside = leaves == node
            n_in, severe = int(inside.sum()), int(y[inside].sum())
            if severe * 2 > n_in:
                restricted = {p.removeprefix("param."): b for p, b in bounds.items() if b != ranges[p]}
                boxes.append(Box(restricted, n_in, severe, severe / int(y.sum()), severe / n_in))
            return
        name, threshold = params[t.feature[node]], float(t.threshold[node])
        lo, hi = bounds[name]
        walk(t.children_left[node], {**bounds, name: (lo, min(hi, threshold))})
        walk(t.children_right[node], {**bounds, name: (max(lo, threshold), hi)})

    walk(0, dict(ranges))
    boxes.sort(key=lambda b: (-b.density, -b.coverage))
    (folder / "discovery.json").write_text(json.dumps({
        "outcome": outcome, "above": above, "points": len(y), "severe_points": int(y.sum()),
        "boxes": [{"bounds": b.bounds, "points": b.points, "severe": b.severe, "coverage": b.coverage,
                   "density": b.density} for b in boxes]}, indent=2))
    return boxes
