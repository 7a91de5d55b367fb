"""One point of a sweep: the scenario with the point's overrides, run for the sweep's replications
(the same seeds and indices at every point: common random numbers), and its outcomes summarised."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from resim.model import columns
from resim.montecarlo.runner import run_one
from resim.results.statistics import OUTCOMES, mean_half_width, per_replication, proportion_ci, quantile_ci
from resim.scenario.loader import Document, load
from resim.scenario.schema import Scenario


def evaluate(scenario_file: Path | str, overrides: dict[str, float], replications: int,
             seed: int) -> dict[str, np.ndarray]:
    """Per-replication outcomes of one point (replications 0..n-1 with `seed`)."""
    return outcomes_of(load(scenario_file, overrides).scenario, replications, seed)


def outcomes_of(sc: Scenario, replications: int, seed: int) -> dict[str, np.ndarray]:
    """Per-replication outcomes of a loaded scenario (replications 0..n-1 with `seed`): every run
    outcome of `statistics.OUTCOMES`, whether any month was short, and the first short month."""
    cols = columns(sc)
    series = [run_one(sc, seed, i).series for i in range(replications)]
    s, d, nb = (np.array([x[:, cols.index(c)] for x in series]) for c in ("shortfall_t", "demand_t",
                                                                       "vehicles_not_built"))
    first = per_replication(s, nb)["first_short_month"]
    short = first >= 0
    return {**{name: o.fn(s, d, nb) for name, o in OUTCOMES.items()}, "any_shortfall": short.astype(float),
            "first_short_month": np.where(short, first, np.nan)}


POINT_OUTCOMES = (*(f"mean_{name}" for name in OUTCOMES), "p95_cumulative_shortfall_t", "p_any_shortfall",
                  "median_first_short_month")  # each point's outcomes (each with _low and _high bounds)


def summarise(outcomes: dict[str, np.ndarray]) -> dict[str, float]:
    """Point outcomes with 95% intervals from the replications: the mean of every run outcome, the
    p95 of cumulative shortfall, P(any shortfall) and the median first short month."""
    cum, anyshort = outcomes["cumulative_shortfall_t"], outcomes["any_shortfall"]
    first = outcomes["first_short_month"]
    n = len(cum)
    row = {}
    for name in OUTCOMES:
        values = outcomes[name]
        half = mean_half_width(values)
        mean = float(values.mean())
        row[f"mean_{name}"], row[f"mean_{name}_low"], row[f"mean_{name}_high"] = mean, mean - half, mean + half
    row["p95_cumulative_shortfall_t"] = float(np.percentile(cum, 95))
    row["p95_cumulative_shortfall_t_low"], row["p95_cumulative_shortfall_t_high"] = quantile_ci(cum, 0.95)
    row["p_any_shortfall"] = float(anyshort.mean())
    row["p_any_shortfall_low"], row["p_any_shortfall_high"] = proportion_ci(int(anyshort.sum()), n)
    found = first[~np.isnan(first)]
    row["median_first_short_month"] = float(np.median(found)) if len(found) else float("nan")
    row["median_first_short_month_low"], row["median_first_short_month_high"] = (
        quantile_ci(found, 0.5) if len(found) else (float("nan"), float("nan")))
    return {k: float(v) for k, v in row.items()}


def _point(scenario_file: str, overrides: dict[str, float], replications: int, seed: int) -> dict[str, float]:
    """The sweep's model function: one point's outcome summary (the file is parsed once per worker)."""
    return summarise(evaluate(Path(scenario_file), overrides, replications, seed))


def _shipped_point(document: Document, overrides: dict[str, float], replications: int, seed: int) -> dict[str, float]:
    """The same on a cluster worker, from the scenario's parsed files shipped to it."""
    return summarise(outcomes_of(document.load(overrides).scenario, replications, seed))
