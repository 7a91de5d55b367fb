"""Scenario discovery: which parameter ranges lead to severe shortfall? Over a finished sweep's
points, either a CART classification tree (scikit-learn; each leaf where most points are severe is
a box: the parameter ranges along its path) or PRIM (EMA Workbench's implementation: peeling and
pasting; the box on its peeling trajectory with the most coverage at the density asked for, and
the whole coverage-density trade-off drawn). Each box has its coverage (share of all severe points
inside it) and density (share of the points inside it that are severe)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from resim.errors import InputError, optional
from resim.folders import read_table, write_json


@dataclass(frozen=True)
class Box:
    bounds: dict[str, tuple[float, float]]  # parameter -> [low, high] inside the box (restricted ones only)
    points: int
    severe: int
    coverage: float
    density: float

    def describe(self) -> str:
        return "; ".join(f"{lo:.4g} <= {p} <= {hi:.4g}" for p, (lo, hi) in self.bounds.items()) or "everywhere"


def discover(folder: Path, outcome: str, above: float, max_depth: int = 3, min_leaf_share: float = 0.05,
             method: str = "cart", density: float = 0.8) -> list[Box]:
    """Boxes of parameter space where `outcome` > `above`, densest first (CART), or PRIM's box at
    `density` or more."""
    x, y, params = _severe(folder, outcome, above)
    boxes = _prim(folder, x, y, params, density) if method == "prim" else _cart(x, y, params, max_depth, min_leaf_share)
    write_json(folder / "discovery.json", {
        "method": method, "outcome": outcome, "above": above, "points": len(y), "severe_points": int(y.sum()),
        "boxes": [{"bounds": b.bounds, "points": b.points, "severe": b.severe, "coverage": b.coverage,
                   "density": b.density} for b in boxes]})
    return boxes


def _severe(folder: Path, outcome: str, above: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The sweep's parameters (points x parameters), which points are severe, the parameter names."""
    points_file = folder / "points.parquet"
    if not points_file.is_file():
        raise InputError.one(folder, "not a finished sweep (no points.parquet): finish it with resim sweep --resume")
    table = read_table(points_file).to_pydict()
    outcomes = [k for k in table if k != "point" and not k.startswith("param.") and not k.endswith(("_low", "_high"))]
    if outcome not in outcomes:
        raise InputError.one(folder, f"unknown outcome {outcome!r}; allowed: {', '.join(outcomes)}", field="--outcome")
    params = [k for k in table if k.startswith("param.")]
    x = np.array([table[p] for p in params]).T
    y = np.nan_to_num(np.array(table[outcome], dtype=float), nan=-np.inf) > above
    low, high = np.nanmin(table[outcome]), np.nanmax(table[outcome])
    if not y.any() or y.all():  # nothing to separate: no box can tell severe points from the others
        which = "no point" if not y.any() else "every point"
        raise InputError.one(folder, f"{which} has {outcome} above {above:g}, so there is nothing to separate; "
                                     f"allowed: a threshold between its least and greatest values ({low:.4g} and "
                                     f"{high:.4g})", field="--above")
    return x, y, params


def _cart(x: np.ndarray, y: np.ndarray, params: list[str], max_depth: int, min_leaf_share: float) -> list[Box]:
    DecisionTreeClassifier = optional("sklearn.tree", "discovery").DecisionTreeClassifier  # noqa: N806

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
    return boxes


def _prim(folder: Path, x: np.ndarray, y: np.ndarray, params: list[str], density: float) -> list[Box]:
    """EMA Workbench's PRIM: the box with the most coverage among those of at least `density` on
    the peeling trajectory (else the densest); the trajectory is drawn to prim_tradeoff.png."""
    import pandas as pd

    prim = optional("ema_workbench.analysis.prim", "ema")
    names = [p.removeprefix("param.") for p in params]
    frame = pd.DataFrame(x, columns=names)
    found = prim.Prim(frame, y, threshold=density).find_box()
    trajectory = found.peeling_trajectory
    dense = trajectory[trajectory["density"] >= density]
    pick = int(dense["coverage"].idxmax()) if len(dense) else int(trajectory["density"].idxmax())
    limits = found.box_lims[pick]
    bounds = {n: (float(limits[n][0]), float(limits[n][1])) for n in names
              if (float(limits[n][0]), float(limits[n][1])) != (float(frame[n].min()), float(frame[n].max()))}
    inside = np.all([(frame[n] >= lo) & (frame[n] <= hi) for n, (lo, hi) in bounds.items()], axis=0) \
        if bounds else np.ones(len(y), dtype=bool)
    n_in, severe = int(inside.sum()), int(y[inside].sum())
    from resim.plots import prim_tradeoff_chart, save

    save(prim_tradeoff_chart(trajectory["coverage"].tolist(), trajectory["density"].tolist(),
                             trajectory["res_dim"].tolist(), pick), folder / "prim_tradeoff.png")
    return [Box(bounds, n_in, severe, severe / int(y.sum()), severe / n_in if n_in else 0.0)]
