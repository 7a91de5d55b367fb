"""Summaries of a run's replications: pure functions of (replications x months) arrays.

A month is "short" when its shortfall exceeds SHORT_T (1 kg of NdFeB), so that floating-point
dust never counts as a shortage.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

QUANTILES = (5, 25, 50, 75, 95)
SHORT_T = 1e-3


def monthly(shortfall_t: np.ndarray, demand_t: np.ndarray) -> dict[str, np.ndarray]:
    """Per month: quantiles and mean of shortfall (t), its share of demand, and P(shortfall > 0)."""
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


def yearly(shortfall_t: np.ndarray, demand_t: np.ndarray, months: list[dt.date]) -> list[dict[str, float]]:
    """Per calendar year: shortfall as % of demand (median, p5, p95) and P(any short month)."""
    years = np.array([m.year for m in months])
    rows = []
    for year in sorted(set(years.tolist())):
        cols = years == year
        short = shortfall_t[:, cols].sum(axis=1)
        demand = demand_t[:, cols].sum(axis=1)
        pct = np.divide(100 * short, demand, out=np.zeros_like(short), where=demand > 0)
        rows.append({
            "year": year, "months": int(cols.sum()),
            "shortfall_t_p50": float(np.median(short)),
            "shortfall_pct_p50": float(np.median(pct)),
            "shortfall_pct_p5": float(np.percentile(pct, 5)),
            "shortfall_pct_p95": float(np.percentile(pct, 95)),
            "p_any_shortfall": float((shortfall_t[:, cols] > SHORT_T).any(axis=1).mean()),
        })
    return rows
