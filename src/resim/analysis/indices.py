"""Global sensitivity on sweeps with SALib: Sobol indices (Saltelli design) and Morris elementary
effects. Sampling and analysis talk through plain arrays, as in SALib; resim only names things."""

from __future__ import annotations

from typing import Any

import numpy as np

from resim.errors import optional

WIDE = 0.1  # an interval wider than this (in index units) says the sample is too small


def problem(names: list[str], bounds: list[tuple[float, float]]) -> dict[str, Any]:
    return {"num_vars": len(names), "names": names, "bounds": [list(b) for b in bounds]}


def sample(method: str, prob: dict[str, Any], n: int, seed: int) -> np.ndarray:
    """The design SALib's analysis needs: Saltelli (n (d + 2) points) or Morris (n (d + 1))."""
    if method == "saltelli":
        return optional("SALib.sample.sobol", "sensitivity").sample(prob, n, calc_second_order=False, seed=seed)
    return optional("SALib.sample.morris", "sensitivity").sample(prob, n, num_levels=4, seed=seed)


def analyze(method: str, prob: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int) -> list[dict[str, Any]]:
    """Rows ranked by importance: Sobol first-order and total indices, or Morris mu* and sigma,
    with 95% bootstrap intervals."""
    if method == "sobol":
        res = optional("SALib.analyze.sobol", "sensitivity").analyze(prob, y, calc_second_order=False, seed=seed)
        rows = [{"parameter": n, "S1": float(res["S1"][i]), "S1_conf": float(res["S1_conf"][i]),
                 "ST": float(res["ST"][i]), "ST_conf": float(res["ST_conf"][i])} for i, n in enumerate(prob["names"])]
        return sorted(rows, key=lambda r: -r["ST"])
    res = optional("SALib.analyze.morris", "sensitivity").analyze(prob, x, y, num_levels=4, seed=seed)
    rows = [{"parameter": n, "mu_star": float(res["mu_star"][i]), "mu_star_conf": float(res["mu_star_conf"][i]),
             "sigma": float(res["sigma"][i])} for i, n in enumerate(prob["names"])]
    return sorted(rows, key=lambda r: -r["mu_star"])


def too_small(method: str, rows: list[dict[str, Any]]) -> list[str]:
    """Warnings where the intervals say more points are needed."""
    if method == "sobol":
        return [f"{r['parameter']}: S1 +-{r['S1_conf']:.2f}, ST +-{r['ST_conf']:.2f}" for r in rows
                if max(r["S1_conf"], r["ST_conf"]) > WIDE]
    top = max((r["mu_star"] for r in rows), default=0.0)
    return [f"{r['parameter']}: mu* {r['mu_star']:.3g} +-{r['mu_star_conf']:.3g}" for r in rows
            if r["mu_star_conf"] > 0.5 * max(r["mu_star"], WIDE * top)]
