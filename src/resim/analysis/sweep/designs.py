"""A sweep's points: a full grid (itertools.product), one at a time, Latin hypercube and Sobol
(scipy.stats.qmc), and the Saltelli and Morris designs of SALib."""

from __future__ import annotations

import itertools

import numpy as np
from scipy.stats import qmc

from resim.analysis import indices
from resim.analysis.sweep.spec import Range, SweepSpec, Values


def design_points(spec: SweepSpec, seed: int) -> list[dict[str, float]]:
    """The overrides of every point, in order."""
    names = list(spec.parameters)
    if spec.design == "grid":
        axes = []
        for p in spec.parameters.values():
            if isinstance(p, Values):
                axes.append(p.values)
            else:
                axes.append(np.linspace(p.low, p.high, p.levels or 5).tolist())
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
    if spec.design == "oat":  # one at a time: the base point, then each parameter at its ends
        ends = {n: ((p.low, p.high) if isinstance(p, Range) else (min(p.values), max(p.values)))
                for n, p in spec.parameters.items()}
        base = {n: (p.low + p.high) / 2 if isinstance(p, Range) else float(np.median(p.values))
                for n, p in spec.parameters.items()}
        return [base] + [{**base, n: end} for n in names for end in ends[n]]
    if spec.design in ("saltelli", "morris"):
        ranges = [spec.parameters[n] for n in names]
        prob = indices.problem(names, [(r.low, r.high) for r in ranges])  # type: ignore[union-attr]  # check_spec: ranges only
        x = indices.sample(spec.design, prob, spec.points or (64 if spec.design == "saltelli" else 16), seed)
        return [dict(zip(names, map(float, row), strict=True)) for row in x]
    n = spec.points or 64
    sampler = (qmc.LatinHypercube(d=len(names), seed=seed) if spec.design == "lhs"
               else qmc.Sobol(d=len(names), scramble=True, seed=seed))
    unit = sampler.random(n)
    points = []
    for row in unit:
        point = {}
        for name, u in zip(names, row, strict=True):
            p = spec.parameters[name]
            point[name] = (p.values[min(int(u * len(p.values)), len(p.values) - 1)] if isinstance(p, Values)
                           else p.low + u * (p.high - p.low))
        points.append(point)
    return points
