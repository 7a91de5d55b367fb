"""Summaries of a run's replications: pure functions of (replications x months) arrays.

A month is "short" when its shortfall exceeds SHORT_T (1 kg of NdFeB), so that floating-point
dust never counts as a shortage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
from scipy.special import bdtr, ndtri

QUANTILES = (5, 25, 50, 75, 95)
SHORT_T = 1e-3


def monthly(shortfall_t: np.ndarray, demand_t: np.ndarray) -> dict[str, np.ndarray]:
    """Per month: quantiles and mean of shortfall (t), its share of demand, and P(shortfall > SHORT_T)."""
    out: dict[str, np.ndarray] = {}
    for q, v in zip(QUANTILES, np.percentile(shortfall_t, QUANTILES, axis=0), strict=True):
        out[f"shortfall_t_p{q}"] = v
    out["shortfall_t_mean"] = shortfall_t.mean(axis=0)
    share = np.divide(shortfall_t, demand_t, out=np.zeros_like(shortfall_t), where=demand_t > 0)
    for q, v in zip((5, 50, 95), np.percentile(share, (5, 50, 95), axis=0), strict=True):
        out[f"shortfall_share_p{q}"] = v
    out["demand_t_p50"] = np.median(demand_t, axis=0)
    out["p_shortfall"] = (shortfall_t > SHORT_T).mean(axis=0)
    return out


Outcome = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

# Run outcomes per replication, over the horizon: name -> (unit, f(shortfall_t, demand_t, not_built)),
# each argument a (replications x months) array. Used by compare, run --precision and sweeps.
OUTCOMES: dict[str, tuple[str, Outcome]] = {
    "cumulative_shortfall_t": ("t NdFeB", lambda s, d, nb: s.sum(axis=1)),
    "shortfall_pct_of_demand": ("% of demand", lambda s, d, nb: 100 * s.sum(axis=1) / np.maximum(d.sum(axis=1), 1e-12)),
    "peak_month_shortfall_t": ("t NdFeB per month", lambda s, d, nb: s.max(axis=1)),
    "short_months": ("months", lambda s, d, nb: (s > SHORT_T).sum(axis=1).astype(float)),
    "vehicles_not_built": ("vehicles", lambda s, d, nb: nb.sum(axis=1)),
}


def per_replication(shortfall_t: np.ndarray, not_built: np.ndarray) -> dict[str, np.ndarray]:
    """Per replication: cumulative shortfall and vehicles lost, first short month, longest run."""
    short = shortfall_t > SHORT_T
    first = np.where(short.any(axis=1), short.argmax(axis=1), -1)
    return {
        "cumulative_shortfall_t": shortfall_t.sum(axis=1),
        "cumulative_vehicles_not_built": not_built.sum(axis=1),
        "first_short_month": first,
        "longest_short_run_months": np.array([_longest_run(row) for row in short]),
    }


def _longest_run(flags: np.ndarray) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def quantile_ci(values: np.ndarray, q: float, confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free interval for the q-quantile from order statistics: x_(j) .. x_(k) with j, k
    from the binomial count of replications below the true quantile (the Monte Carlo uncertainty)."""
    x = np.sort(np.asarray(values))
    n = len(x)
    j = _binom_ppf((1 - confidence) / 2, n, q)
    k = _binom_ppf((1 + confidence) / 2, n, q) + 1
    return float(x[max(j - 1, 0)]), float(x[min(k - 1, n - 1)])


def _binom_ppf(u: float, n: int, p: float) -> int:
    """The u-quantile of Binomial(n, p): the smallest k with P(X <= k) >= u (what scipy.stats.binom.ppf
    gives, checked in the tests; scipy.special spares the run a second of importing scipy.stats)."""
    return int(np.searchsorted(bdtr(np.arange(n + 1), n, p), u))


def proportion_ci(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson interval for a proportion (e.g. P(any shortfall))."""
    z = ndtri(0.5 + confidence / 2)
    p = successes / n
    shrink = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / shrink
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / shrink
    return float(centre - half), float(centre + half)


def yearly(shortfall_t: np.ndarray, demand_t: np.ndarray, months: list[dt.date]) -> list[dict[str, float]]:
    """Per calendar year: shortfall as % of demand (median, p5, p95) and P(any short month), each
    with its 95% Monte Carlo interval (`_low`, `_high`)."""
    years = np.array([m.year for m in months])
    rows = []
    for year in sorted(set(years.tolist())):
        cols = years == year
        short = shortfall_t[:, cols].sum(axis=1)
        demand = demand_t[:, cols].sum(axis=1)
        pct = np.divide(100 * short, demand, out=np.zeros_like(short), where=demand > 0)
        any_short = int((shortfall_t[:, cols] > SHORT_T).any(axis=1).sum())
        row: dict[str, float] = {"year": year, "months": int(cols.sum()), "shortfall_t_p50": float(np.median(short))}
        row["shortfall_t_p50_low"], row["shortfall_t_p50_high"] = quantile_ci(short, 0.5)
        for q in (50, 5, 95):
            row[f"shortfall_pct_p{q}"] = float(np.percentile(pct, q))
            row[f"shortfall_pct_p{q}_low"], row[f"shortfall_pct_p{q}_high"] = quantile_ci(pct, q / 100)
        row["p_any_shortfall"] = any_short / len(short)
        row["p_any_shortfall_low"], row["p_any_shortfall_high"] = proportion_ci(any_short, len(short))
        rows.append(row)
    return rows
