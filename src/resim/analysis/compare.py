"""Compare runs: the distribution of the difference, not two distributions side by side.

Runs that share seed and replication count saw the same luck replication by replication (common
random numbers), so the comparison is paired: per-replication differences B - A of each outcome
(mean, median, p5, p95), with bootstrap confidence intervals (scipy.stats.bootstrap) and P(B worse than A). Otherwise it
falls back to an unpaired comparison, and says so. Pure functions of arrays read from results.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import scipy.stats as st

from resim.errors import InputError
from resim.folders import read_manifest, read_table
from resim.results.statistics import OUTCOMES, mean_half_width, proportion_ci
from resim.results.writer import RUN_KEYS

CONFIDENCE = 0.95
N_RESAMPLES = 2000
BOOTSTRAP_SEED = 0  # intervals are reproducible


@dataclass
class RunData:
    """What a comparison needs of a run, read from its results folder."""

    folder: Path
    manifest: dict
    months: list[dt.date]
    replications: np.ndarray
    shortfall_t: np.ndarray  # replications x months
    demand_t: np.ndarray
    not_built: np.ndarray

    @property
    def name(self) -> str:
        return str(self.manifest["scenario"])

    @property
    def title(self) -> str:
        """The scenario's human name (its `title:`), else its name."""
        return str(self.manifest.get("resolved_scenario", {}).get("title") or self.name)

    @property
    def seed(self) -> int:
        return int(self.manifest["seed"])


def load_run(folder: Path) -> RunData:
    folder = Path(folder)
    series_file = folder / "series.parquet"
    manifest = read_manifest(folder, "finished resim run", needs=RUN_KEYS, files=(series_file.name,))
    table = read_table(series_file, columns=["replication", "month", "shortfall_t", "demand_t",
                                                "vehicles_not_built"]).to_pydict()
    months_n = int(manifest.get("reported_months", manifest["horizon_months"]))
    reps = np.array(table["replication"]).reshape(-1, months_n)[:, 0]

    def grid(column: str) -> np.ndarray:
        return np.array(table[column], dtype=float).reshape(-1, months_n)

    return RunData(folder, manifest, table["month"][:months_n], reps, grid("shortfall_t"), grid("demand_t"),
                   grid("vehicles_not_built"))


def check_comparable(a: RunData, b: RunData) -> None:
    """Runs can be compared only on the same calendar and in the same units."""
    problems = []
    for key in ("start", "horizon_months", "report_from"):
        if a.manifest.get(key) != b.manifest.get(key):
            problems.append(f"{key}: {a.name} has {a.manifest.get(key)}, {b.name} has {b.manifest.get(key)}")
    for column in ("shortfall_t", "demand_t", "vehicles_not_built"):
        ua, ub = a.manifest["units"].get(column), b.manifest["units"].get(column)
        if ua != ub:
            problems.append(f"units of {column}: {a.name} has {ua!r}, {b.name} has {ub!r}")
    if problems:
        raise InputError.one(b.folder, f"cannot be compared with {a.folder}: " + "; ".join(problems)
                             + " (runs must share start date, horizon, first reported month and units)")


def is_paired(a: RunData, b: RunData) -> bool:
    return a.seed == b.seed and np.array_equal(a.replications, b.replications)


@dataclass
class OutcomeDiff:
    outcome: str
    unit: str
    paired: bool
    a_mean: float
    b_mean: float
    mean_diff: float
    mean_diff_ci: tuple[float, float]
    median_diff: float
    median_diff_ci: tuple[float, float]
    diff_p5: float
    diff_p5_ci: tuple[float, float]
    diff_p95: float
    diff_p95_ci: tuple[float, float]
    p_b_worse: float
    p_b_worse_ci: tuple[float, float]


@dataclass
class MonthlyDiff:
    months: list[dt.date]
    mean: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    quantiles: dict[int, np.ndarray] = field(default_factory=dict)  # paired only: p5..p95 of B - A

    @property
    def differs(self) -> np.ndarray:
        """Months whose 95% interval for the mean difference excludes zero."""
        return (self.ci_low > 0) | (self.ci_high < 0)


@dataclass
class Comparison:
    reference: RunData
    other: RunData
    paired: bool
    outcomes: list[OutcomeDiff]
    monthly: MonthlyDiff
    tolerance_t: float = 1.0  # a paired replication of B is worse by more than this (tonne outcomes)


def _ci(data: tuple[np.ndarray, ...], statistic, paired: bool) -> tuple[float, float]:
    if all(np.ptp(x) == 0 for x in data):  # no spread: the interval is the point
        value = float(statistic(*data, axis=-1))
        return value, value
    res = st.bootstrap(data, statistic, paired=paired, confidence_level=CONFIDENCE, n_resamples=N_RESAMPLES,
                       method="percentile", random_state=np.random.default_rng(BOOTSTRAP_SEED))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def compare_outcome(name: str, a: np.ndarray, b: np.ndarray, paired: bool, tolerance_t: float = 1.0) -> OutcomeDiff:
    """B against A on one outcome. Paired, a replication counts as worse when B exceeds A by more than
    `tolerance_t` (outcomes in tonnes; any excess for the others), with its Wilson interval."""
    unit = OUTCOMES[name].unit
    if paired:
        d = b - a
        worse = (d > (tolerance_t if unit.startswith("t ") else 0.0) + 1e-9).astype(float)
        return OutcomeDiff(
            name, unit, True, float(a.mean()), float(b.mean()),
            float(d.mean()), _ci((d,), np.mean, False),
            float(np.median(d)), _ci((d,), np.median, False),
            float(np.percentile(d, 5)), _ci((d,), partial(np.percentile, q=5), False),
            float(np.percentile(d, 95)), _ci((d,), partial(np.percentile, q=95), False),
            float(worse.mean()), proportion_ci(int(worse.sum()), len(worse)),
        )

    def mean_diff(x, y, axis=-1):
        return np.mean(x, axis=axis) - np.mean(y, axis=axis)

    def median_diff(x, y, axis=-1):
        return np.median(x, axis=axis) - np.median(y, axis=axis)

    def superiority(x, y, axis=-1):
        # P(a draw of B exceeds a draw of A), ties counted half (the Mann-Whitney U / n m)
        return st.mannwhitneyu(x, y, axis=axis).statistic / (x.shape[axis] * y.shape[axis])

    p_worse = float(superiority(b, a))
    return OutcomeDiff(
        name, unit, False, float(a.mean()), float(b.mean()),
        float(b.mean() - a.mean()), _ci((b, a), mean_diff, False),
        float(np.median(b) - np.median(a)), _ci((b, a), median_diff, False),
        float("nan"), (float("nan"), float("nan")), float("nan"), (float("nan"), float("nan")),
        p_worse, _ci((b, a), superiority, False),
    )


def monthly_difference(a: RunData, b: RunData, paired: bool) -> MonthlyDiff:
    """Per month: mean B - A with a t-interval, and (paired) quantiles of the per-replication difference."""
    if paired:
        d = b.shortfall_t - a.shortfall_t
        mean, half = d.mean(axis=0), mean_half_width(d, CONFIDENCE)
        quantiles = dict(zip((5, 25, 50, 75, 95), np.percentile(d, (5, 25, 50, 75, 95), axis=0), strict=True))
    else:  # independent runs: the half-widths add in quadrature
        mean = b.shortfall_t.mean(axis=0) - a.shortfall_t.mean(axis=0)
        half = np.hypot(mean_half_width(b.shortfall_t, CONFIDENCE), mean_half_width(a.shortfall_t, CONFIDENCE))
        quantiles = {}
    return MonthlyDiff(a.months, mean, mean - half, mean + half, quantiles)


def compare(a: RunData, b: RunData, paired: bool | None = None, tolerance_t: float = 1.0) -> Comparison:
    """B against reference A; paired when they share seed and replications (or as forced)."""
    check_comparable(a, b)
    paired = is_paired(a, b) if paired is None else paired
    outcomes = [compare_outcome(name, fn(a.shortfall_t, a.demand_t, a.not_built),
                                fn(b.shortfall_t, b.demand_t, b.not_built), paired, tolerance_t)
                for name, (_, fn, _, _) in OUTCOMES.items()]
    return Comparison(a, b, paired, outcomes, monthly_difference(a, b, paired), tolerance_t)


def month_ranges(months: list[dt.date], flags: np.ndarray) -> str:
    """'2026-12..2028-03, 2029-01' for the flagged months."""
    spans, start = [], None
    for i, flag in enumerate([*flags.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            first, last = months[start], months[i - 1]
            spans.append(f"{first:%Y-%m}" + ("" if first == last else f"..{last:%Y-%m}"))
            start = None
    return ", ".join(spans) or "none"
