"""Scenario discovery: which parameter ranges lead to severe shortfall? Over a finished sweep's
points, either a CART classification tree (scikit-learn; each leaf where most points are severe is
a box: the parameter ranges along its path) or PRIM (EMA Workbench's implementation: peeling and
pasting; the box on its peeling trajectory with the most coverage at the density asked for, and
the whole coverage-density trade-off drawn). Each box has its coverage (share of all severe points
inside it) and density (share of the points inside it that are severe)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from resim.errors import InputError, optional
from resim.folders import read_table, run_id, write_json

Side = float | None  # a bound, or None where the box does not restrict that side


@dataclass(frozen=True)
class Box:
    bounds: dict[str, tuple[Side, Side]]  # parameter -> (low, high) inside the box, restricted parameters only
    points: int
    severe: int
    coverage: float
    density: float
    quasi_p: dict[str, tuple[Side, Side]] = field(default_factory=dict)  # PRIM: each restricted side's

    def describe(self) -> str:
        """The box as conditions on the restricted sides only (a sampled range's end is no bound)."""
        parts = []
        for p, (lo, hi) in self.bounds.items():
            qp = [q for q in self.quasi_p.get(p, (None, None)) if q is not None]
            note = f" (quasi-p {max(qp):.2g})" if qp else ""
            if lo is not None and hi is not None:
                parts.append(f"{lo:.4g} <= {p} <= {hi:.4g}{note}")
            else:
                parts.append(f"{p} >= {lo:.4g}{note}" if lo is not None else f"{p} <= {hi:.4g}{note}")
        return "; ".join(parts) or "everywhere"


def _restricted(lo: float, hi: float, sampled: tuple[float, float]) -> tuple[Side, Side] | None:
    """(low, high) with None for a side at the sampled range's end; None if neither side restricts."""
    sides = (None if lo <= sampled[0] else lo, None if hi >= sampled[1] else hi)
    return None if sides == (None, None) else sides


@dataclass(frozen=True)
class Discovery:
    boxes: list[Box]
    record: Path  # this discovery's JSON, kept beside every earlier one
    trajectory: dict[str, list[float]] | None = None  # PRIM: coverage, density and res_dim per box
    picked: int | None = None  # PRIM: the box of the trajectory reported


def discover(folder: Path, outcome: str, above: float, max_depth: int = 3, min_leaf_share: float = 0.05,
             method: str = "cart", density: float = 0.8, box: int | None = None) -> Discovery:
    """Boxes of parameter space where `outcome` > `above`, densest first (CART), or one box of PRIM's
    peeling trajectory: number `box`, else the most coverage at `density` or more. Each discovery is
    kept as discoveries/<id>.json in the sweep folder (PRIM's trade-off chart beside it)."""
    x, y, params = _severe(folder, outcome, above)
    record = folder / "discoveries" / f"{run_id(method)}.json"
    record.parent.mkdir(exist_ok=True)
    if method == "prim":
        found = _prim(x, y, params, density, box, record.with_suffix(".png"))
    else:
        found = Discovery(_cart(x, y, params, max_depth, min_leaf_share), record)
    write_json(record, {
        "method": method, "outcome": outcome, "above": above, "points": len(y), "severe_points": int(y.sum()),
        "boxes": [{"bounds": b.bounds, "quasi_p": b.quasi_p, "points": b.points, "severe": b.severe,
                   "coverage": b.coverage, "density": b.density} for b in found.boxes],
        **({"trajectory": found.trajectory, "picked": found.picked} if found.trajectory else {})})
    return Discovery(found.boxes, record, found.trajectory, found.picked)


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
                sides = {p.removeprefix("param."): _restricted(*b, ranges[p]) for p, b in bounds.items()}
                boxes.append(Box({p: b for p, b in sides.items() if b}, n_in, severe, severe / int(y.sum()),
                                 severe / n_in))
            return
        name, threshold = params[t.feature[node]], float(t.threshold[node])
        lo, hi = bounds[name]
        walk(t.children_left[node], {**bounds, name: (lo, min(hi, threshold))})
        walk(t.children_right[node], {**bounds, name: (max(lo, threshold), hi)})

    walk(0, dict(ranges))
    boxes.sort(key=lambda b: (-b.density, -b.coverage))
    return boxes


def _prim(x: np.ndarray, y: np.ndarray, params: list[str], density: float, box: int | None,
          chart: Path) -> Discovery:
    """EMA Workbench's PRIM: box `box` of the peeling trajectory, else the one with the most coverage
    among those of at least `density` (else the densest), with each restricted side's quasi-p value
    (Bryant and Lempert 2010: a one-sided binomial test); the trajectory is drawn to `chart`."""
    import pandas as pd

    prim = optional("ema_workbench.analysis.prim", "ema")
    names = [p.removeprefix("param.") for p in params]
    frame = pd.DataFrame(x, columns=names)
    found = prim.Prim(frame, y, threshold=density).find_box()
    trajectory = found.peeling_trajectory
    if box is not None and not 0 <= box < len(trajectory):
        raise InputError.one(None, f"box {box}; allowed: 0 to {len(trajectory) - 1} (the boxes of PRIM's peeling "
                                   "trajectory, in the trade-off chart)", field="--box")
    dense = trajectory[trajectory["density"] >= density]
    pick = box if box is not None else (int(dense["coverage"].idxmax()) if len(dense)
                                        else int(trajectory["density"].idxmax()))
    _, limits = found.inspect(pick, style="data")[0]  # restricted parameters: min, max, their quasi-p values
    bounds: dict[str, tuple[Side, Side]] = {}
    quasi_p: dict[str, tuple[Side, Side]] = {}
    for name in limits.index:
        low, high, *qp = (float(v) for v in limits.loc[name])  # a quasi-p value is NaN for an open side
        sides = _restricted(low, high, (float(frame[name].min()), float(frame[name].max())))
        if sides:
            bounds[name] = sides
            p_low, p_high = (q if side is not None and q >= 0 else None for side, q in zip(sides, qp, strict=True))
            quasi_p[name] = (p_low, p_high)
    within = [(frame[n] >= (-np.inf if lo is None else lo)) & (frame[n] <= (np.inf if hi is None else hi))
              for n, (lo, hi) in bounds.items()]
    inside = np.all(within, axis=0) if within else np.ones(len(y), dtype=bool)
    n_in, severe = int(inside.sum()), int(y[inside].sum())
    from resim.plots import prim_tradeoff_chart, save

    save(prim_tradeoff_chart(trajectory["coverage"].tolist(), trajectory["density"].tolist(),
                             trajectory["res_dim"].tolist(), pick), chart)
    path = {k: [float(v) for v in trajectory[k]] for k in ("coverage", "density", "res_dim")}
    return Discovery([Box(bounds, n_in, severe, severe / int(y.sum()), severe / n_in if n_in else 0.0, quasi_p)],
                     chart.with_suffix(".json"), path, pick)
