"""Summaries of a run's replications: pure functions of (replications x months) arrays.

A month is "short" when its shortfall exceeds SHORT_T (1 kg of NdFeB), so that floating-point
dust never counts as a shortage.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from scipy.special import bdtr, ndtri, stdtrit

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


OutcomeFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class Outcome(NamedTuple):
    """A run outcome per replication over the reported months: f(shortfall_t, demand_t, not_built),
    each a (replications x months) array."""

    unit: str
    fn: OutcomeFn
    label: str  # for people: tables, charts, the report
    how: str  # how it is computed, in words


# The one table of run outcomes: the summary, compare, run --precision, sweeps, sensitivity, the
# EMA adapter, the report and the manifests all read it.
OUTCOMES: dict[str, Outcome] = {
    "cumulative_shortfall_t": Outcome("t NdFeB", lambda s, d, nb: s.sum(axis=1), "cumulative shortfall",
                                      "NdFeB needed but not on hand, summed over the reported months"),
    "shortfall_pct_of_demand": Outcome(
        "% of demand", lambda s, d, nb: 100 * s.sum(axis=1) / np.maximum(d.sum(axis=1), 1e-12),
        "shortfall as a share of demand", "cumulative shortfall / cumulative EV NdFeB demand x 100"),
    "peak_month_shortfall_t": Outcome("t NdFeB per month", lambda s, d, nb: s.max(axis=1), "worst month's shortfall",
                                      "the largest monthly shortfall"),
    "short_months": Outcome("months", lambda s, d, nb: (s > SHORT_T).sum(axis=1).astype(float), "months short",
                            f"months whose shortfall exceeds {SHORT_T * 1000:g} kg"),
    "vehicles_not_built": Outcome("vehicles", lambda s, d, nb: nb.sum(axis=1), "vehicles not built",
                                  "attempted (new demand and backlog) minus built, summed over the months"),
}


def describe_outcomes(shortfall_t: np.ndarray, demand_t: np.ndarray,
                      not_built: np.ndarray) -> dict[str, dict[str, Any]]:
    """Every run outcome over the replications: its unit, label and how computed, its mean with a
    95% t interval, and p5, p50 (with its order-statistic interval) and p95 (for manifests)."""
    out = {}
    for name, o in OUTCOMES.items():
        v = o.fn(shortfall_t, demand_t, not_built)
        half = mean_half_width(v)
        low, high = quantile_ci(v, 0.5)
        out[name] = {"unit": o.unit, "label": o.label, "how": o.how, "mean": float(v.mean()),
                     "mean_half_width": half, "p5": float(np.percentile(v, 5)), "p50": float(np.median(v)),
                     "p50_low": low, "p50_high": high, "p95": float(np.percentile(v, 95))}
    return out


def rounded(value: float, half_width: float) -> str:
    """`value` rounded to what its Monte Carlo interval (+-half_width) supports: to the decimal of
    the half-width's leading digit (two digits when that digit is 1), with thousands separators."""
    if not math.isfinite(half_width) or half_width <= 0:
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    digits = math.floor(math.log10(half_width))
    if f"{half_width:e}"[0] == "1":
        digits -= 1
    step = 10.0**digits
    value = round(value / step) * step
    return f"{value:,.{max(0, -digits)}f}"


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


def by_outcome(cumulative_t: np.ndarray, any_short: np.ndarray, names: list[str],
               outcomes: np.ndarray) -> list[dict[str, Any]]:
    """The cumulative shortfall conditional on each drawn outcome of each uncertain regime change or
    rule-set choice that took more than one value (e.g. which world follows the pause), so a reader
    can weigh the worlds with their own odds: replications, share, mean with its 95% interval,
    median and P(any shortfall) per outcome, in order of first appearance."""
    rows = []
    for j, name in enumerate(names):
        column = outcomes[:, j]
        values = list(dict.fromkeys(column.tolist()))
        if len(values) < 2:
            continue
        for value in values:
            x, short = cumulative_t[column == value], any_short[column == value]
            rows.append({"change": name, "outcome": str(value), "replications": int(len(x)),
                         "share": float(len(x) / len(column)), "mean_t": float(x.mean()),
                         "mean_half_width_t": float(mean_half_width(x)), "median_t": float(np.median(x)),
                         "p_any_shortfall": float(short.mean())})
    return rows


def _longest_run(flags: np.ndarray) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def mean_half_width(values: np.ndarray, confidence: float = 0.95) -> Any:
    """Half-width of the t-interval of the mean over the first axis (the replications), per column
    when 2-D: the one place a mean's Monte Carlo interval is computed (NaN for fewer than 2 values)."""
    n = len(values)
    if n < 2:
        return float("nan") if np.ndim(values) == 1 else np.full(np.shape(values)[1:], np.nan)
    half = stdtrit(n - 1, 0.5 + confidence / 2) * np.std(values, axis=0, ddof=1) / math.sqrt(n)
    return float(half) if np.ndim(values) == 1 else half


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
