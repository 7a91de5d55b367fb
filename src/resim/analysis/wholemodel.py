"""Whole-model sensitivity (`resim sensitivity`): Sobol first-order and total indices of the run
outcomes, over the reported horizon and per calendar year, against every uncertainty a scenario
declares, with no ranges to type.

Factors are the uniforms a replication draws for its world (each uncertain parameter, by inverse
CDF of its own distribution; each uncertain regime change and rule-set choice; the posterior pick:
`montecarlo/worlds.world_uniforms`) and one more, `luck`, which picks the replication whose per-event
streams (licence decisions, shipments, lead times) the point uses. A point is one replication with
all of them set, so the indices share out the whole variance of one replication's outcome, the
irreducible luck included. Factors are grouped (by mechanism, by a user's patterns, or one per
parameter); SALib estimates grouped indices from its Saltelli design, whose first n base samples
are themselves a design, so convergence is read off one run. Points run in batches on the sweep
machinery (local processes or Dask), each batch written as it finishes, so `--resume` completes an
interrupted analysis with the same result. Any Python function of uniforms can be analysed the
same way (`model="module:function"`), which is how the known answers are tested.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import importlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from resim import __version__
from resim.analysis import workfolder
from resim.errors import InputError, optional
from resim.folders import (
    read_manifest,
    read_resumable,
    read_table,
    write_manifest,
)
from resim.model import columns
from resim.model.clock import Months
from resim.montecarlo.executor import Tasks, as_completed
from resim.montecarlo.runner import run_one
from resim.montecarlo.worlds import world_uniforms
from resim.results.statistics import OUTCOMES
from resim.results.tables import describe, write_table
from resim.results.writer import scenario_hash
from resim.scenario.loader import load
from resim.scenario.schema import Scenario

LUCK = "luck"  # the factor that picks a point's per-event streams
LUCK_INDICES = 2**40  # luck u in [0, 1) -> replication index floor(u * LUCK_INDICES)
WIDE = 0.05  # a top-ranked interval wider than this (upper - lower) is too wide to rank on
BATCH = 16  # points per task: one replication is 30-150 ms, so a task is 0.5-2.5 s of work

# Mechanisms, first match wins: what a reader would call the part of the model a factor belongs to.
MECHANISMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("china_rules", "which regime comes, what a rule set licenses, the extraterritorial hold-back",
     ("china.regimes.*", "china.rule_sets.*.may_license.*", "china.rule_sets.*.non_china_exposed_share")),
    ("licensing", "approval odds, validity, general licences to named customers",
     ("china.licensing.*", "china.rule_sets.*.approval_probability", "*.general_licence_customer")),
    ("inventory", "stock cover: the makers' own and safety stock, and the chain's",
     ("demand.inventory_cover_weeks", "*.inventory_cover_weeks", "demand.service_level", "*.chain_cover_weeks")),
    ("shipping", "how slow and how erratic China's route is in this world (its lead-time scale and spread)",
     ("china.lead_time_scale", "china.lead_time_spread")),
    ("motor_imports", "motors imported whole from China",
     ("*motor_import*", "*motor_shift*", "china.motor_extra_lead_days")),
    ("designs", "magnet per vehicle, Dy/Tb-grade shares, redesign, ferrite",
     ("*ndfeb_kg_per_vehicle", "*dytb_grade_share", "*ferrite*", "*redesign*")),
    ("demand", "EV sales, growth, deferred purchases", ("demand.*",)),
    ("non_china_supply", "magnet makers outside China and the Dy/Tb they can get", ("suppliers.*", "heavy_ree.*")),
    ("domestic", "India's plants and their inputs", ("domestic.*",)),
    ("stockpile", "the strategic stockpile", ("stockpile.*",)),
    ("prices", "prices and duties (money outcomes only)", ("prices.*",)),
    ("posterior", "the calibrated parameters, drawn jointly", ("posterior",)),
    ("luck", "per-event luck: each licence decision, shipment and lead time", (LUCK,)),
]


def mechanism_of(factor: str) -> str:
    for name, _, patterns in MECHANISMS:
        if any(fnmatch.fnmatchcase(factor, p) for p in patterns):
            return name
    return "other"


def groups_for(factors: list[str], by: str, user: dict[str, list[str]] | None = None) -> list[str]:
    """The group of each factor: the first user group whose patterns match it, else its mechanism
    (`by="mechanism"`) or itself (`by="parameter"`). A user pattern that matches nothing is an error."""
    user = user or {}
    for name, patterns in user.items():
        for p in patterns:
            if not any(fnmatch.fnmatchcase(f, p) for f in factors):
                raise InputError.one(None, f"pattern {p!r} of group {name!r} matches no factor; allowed: a glob over "
                                     "the factors `resim sensitivity --list` shows", field="--group")
    out = []
    for f in factors:
        mine = [name for name, patterns in user.items() if any(fnmatch.fnmatchcase(f, p) for p in patterns)]
        out.append(mine[0] if mine else mechanism_of(f) if by == "mechanism" else f)
    return out


def factor_table(scenario_file: Path, by: str, user: dict[str, list[str]] | None = None,
                 overrides: dict[str, Any] | None = None) -> list[dict[str, str]]:
    """Each factor of a scenario with its group and what the group is (for `--list`)."""
    factors = [*world_uniforms(load(scenario_file, overrides).scenario), LUCK]
    about = {name: text for name, text, _ in MECHANISMS}
    return [{"factor": f, "group": g, "about": about.get(g, "user group" if g in (user or {}) else about.get(
        mechanism_of(f), ""))} for f, g in zip(factors, groups_for(factors, by, user), strict=True)]


MAX_BASE_SAMPLES = 2**16  # N: with a dozen groups, 917,504 points, and a design of about 0.9 GB


def check_base_samples(n: int) -> int:
    """Refused before anything is allocated: a power of two from 8 to MAX_BASE_SAMPLES."""
    if n < 8 or n & (n - 1) or n > MAX_BASE_SAMPLES:
        raise InputError.one(None, f"{n} base samples; allowed: a power of two from 8 (Sobol' sequences balance "
                             f"only at powers of two) to {MAX_BASE_SAMPLES:,} (each one costs groups + 2 points)",
                             field="--n")
    return n


def design(factors: list[str], groups: list[str], n: int, seed: int) -> np.ndarray:
    """SALib's Saltelli design on the unit cube: n (G + 2) rows in blocks of G + 2 per base sample."""
    sobol = optional("SALib.sample.sobol", "sensitivity")
    problem = _problem(factors, groups)
    return np.asarray(sobol.sample(problem, n, calc_second_order=False, seed=seed))


def _problem(factors: list[str], groups: list[str]) -> dict[str, Any]:
    problem: dict[str, Any] = {"num_vars": len(factors), "names": factors, "bounds": [[0.0, 1.0]] * len(factors)}
    if groups != factors:
        problem["groups"] = groups
    return problem


def group_names(groups: list[str]) -> list[str]:
    """Distinct groups in first-seen order (SALib's order of grouped indices)."""
    return list(dict.fromkeys(groups))


class Batch(NamedTuple):
    """Consecutive design rows, one task; named by its first point in error messages."""

    first: int
    rows: np.ndarray

    def __repr__(self) -> str:
        return f"(batch of points {self.first}-{self.first + len(self.rows) - 1})"


# --- the model of a point --------------------------------------------------------------------------

def scenario_batch(scenario: Scenario, factors: list[str], seed: int, batch: Batch) -> list[dict[str, float]]:
    """Outcomes of each design row: the world's uniforms set from the row, the per-event streams of
    the replication its luck picks; each outcome over the reported months and per calendar year."""
    cols = columns(scenario)
    s_i, d_i, nb_i = (cols.index(c) for c in ("shortfall_t", "demand_t", "vehicles_not_built"))
    years = _reported_years(scenario)
    luck = factors.index(LUCK)
    out = []
    for row in batch.rows:
        given = {f: float(u) for f, u in zip(factors, row, strict=True) if f != LUCK}
        index = int(row[luck] * LUCK_INDICES)
        series = run_one(scenario, seed, index, given=given).series  # reported months, GC paused as in runs
        s, d, nb = series[None, :, s_i], series[None, :, d_i], series[None, :, nb_i]
        point: dict[str, float] = {}
        for name, (_, fn, _, _) in OUTCOMES.items():
            point[name] = float(fn(s, d, nb)[0])
            for year, (a, b) in years.items():
                point[f"{name}.{year}"] = float(fn(s[:, a:b], d[:, a:b], nb[:, a:b])[0])
        out.append(point)
    return out


def _scenario_batch_on(scenario: Scenario, batch: Batch, factors: list[str], seed: int) -> list[dict[str, float]]:
    return scenario_batch(scenario, factors, seed, batch)


def _reported_years(scenario: Scenario) -> dict[int, tuple[int, int]]:
    """Calendar year -> (first, end) index into the reported months."""
    dates = Months.of(scenario.start, scenario.horizon_months).dates[scenario.report_offset:]
    spans: dict[int, tuple[int, int]] = {}
    for i, d in enumerate(dates):
        first, _ = spans.get(d.year, (i, i))
        spans[d.year] = (first, i + 1)
    return spans


def function_batch(target: str, batch: Batch) -> list[dict[str, float]]:
    """Outcomes of a Python function `module:function` of one row of uniforms (a dict of floats)."""
    module, _, name = target.partition(":")
    fn = getattr(importlib.import_module(module), name)
    return [{k: float(v) for k, v in fn(row).items()} for row in batch.rows]


# --- a folder: start, run, resume ------------------------------------------------------------------

def start(model: str | Path, n: int, results: Path, command: list[str], by: str = "mechanism",
          user_groups: dict[str, list[str]] | None = None, overrides: dict[str, Any] | None = None,
          seed: int | None = None, factors: list[str] | None = None, name: str | None = None,
          outcomes: list[str] | None = None) -> Path:
    """Make the analysis folder with its manifest and design. `model` is a scenario file, or
    `module:function` with `factors` naming the function's uniforms."""
    check_base_samples(n)
    for outcome in outcomes or []:
        if factors is None and outcome not in OUTCOMES:
            raise InputError.one(None, f"unknown outcome {outcome!r}; allowed: {', '.join(OUTCOMES)}",
                                 field="--outcome")
    if isinstance(model, str) and ":" in model and not Path(model).exists():
        if not factors:
            raise InputError.one(None, "a function model needs the names of its factors", field="factors")
        kind, target, scenario_seed, digest = "function", model, 0, ""
    else:
        scenario = load(Path(model), overrides).scenario
        kind, target = "scenario", str(Path(model).resolve())
        scenario_seed, digest = scenario.seed, scenario_hash(scenario)
        factors = [*world_uniforms(scenario), LUCK]
    assert factors is not None
    seed = scenario_seed if seed is None else seed
    groups = groups_for(factors, by, user_groups)
    x = design(factors, groups, n, seed)
    folder = workfolder.start(results, "sensitivity", name or (Path(target).stem if kind == "scenario" else target), {
                "kind": kind, "model": target, "overrides": overrides or {}, "seed": seed, "base_samples": n,
                "factors": factors, "groups": groups, "by": by, "user_groups": user_groups or {},
                "points": len(x), "batch": BATCH, "outcomes": outcomes or ["cumulative_shortfall_t"],
                "scenario_hash": digest, "resim_version": __version__,
                "command": command, "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    write_table(pa.table({f: x[:, j] for j, f in enumerate(factors)}), folder / "design.parquet")
    return folder


ANALYSIS_KEYS = ("kind", "model", "overrides", "seed", "base_samples", "factors", "groups", "points", "batch",
                 "outcomes", "scenario_hash", "complete")  # what resuming and reporting rely on

def check_resumable(folder: Path) -> dict[str, Any]:
    """The manifest of an analysis that may resume: same resim version and, for a scenario, the
    same scenario and seeds as when it started."""
    manifest = read_resumable(folder, "sensitivity folder", ANALYSIS_KEYS)
    if manifest["kind"] != "scenario":  # never import a module a manifest names: `function` work resumes from Python
        raise InputError.one(Path(folder), f"an analysis of kind {manifest['kind']!r}; allowed: a scenario's "
                             "analysis (a Python function's resumes from Python: wholemodel.run)", field="--resume")
    if manifest["kind"] == "scenario":
        scenario = load(Path(manifest["model"]), manifest["overrides"]).scenario
        if scenario_hash(scenario) != manifest["scenario_hash"]:
            raise InputError.one(Path(manifest["model"]), "the scenario (or a seed it cites) changed since the "
                                 "analysis started; allowed: restore it, or start anew", field="--resume")
    return manifest


def batches_left(folder: Path) -> tuple[int, int]:
    """(batches still to compute, batches in all)."""
    manifest = read_manifest(folder)
    total = math.ceil(manifest["points"] / manifest["batch"])
    return len(workfolder.to_do(folder, total)), total


def run(folder: Path, workers: int = 1, on_batch: Callable[[int], None] | None = None,
        dask_scheduler: str | None = None) -> Path:
    """Compute the batches not yet on disk (each saved as it finishes); return points.parquet."""
    manifest = read_manifest(folder)
    x = read_table(folder / "design.parquet").to_pandas().to_numpy()
    size = manifest["batch"]
    batches = [Batch(i, x[i:i + size]) for i in range(0, len(x), size)]
    if manifest["kind"] == "scenario":  # the resolved scenario goes to every worker: no files needed there
        shared: Any = load(Path(manifest["model"]), manifest["overrides"]).scenario
        local: Callable[[Any], list[dict[str, float]]] = functools.partial(
            scenario_batch, shared, manifest["factors"], manifest["seed"])
        shipped: Callable[[Any, Batch], list[dict[str, float]]] = functools.partial(
            _scenario_batch_on, factors=manifest["factors"], seed=manifest["seed"])
    else:
        shared = manifest["model"]
        local, shipped = functools.partial(function_batch, shared), function_batch
    todo = workfolder.to_do(folder, len(batches), on_batch)
    started = time.perf_counter()
    tasks = Tasks(batches, local, shipped, shared, lambda b: repr(batches[b]))
    for b, outcomes in as_completed(tasks, todo, workers, dask_scheduler):
        workfolder.save(folder, b, [{"point": b * size + k, **o} for k, o in enumerate(outcomes)])
        if on_batch:
            on_batch(b)
    if todo:  # the pace of this machine (and workers), for the sample size a too-wide interval needs
        manifest["compute_s"] = manifest.get("compute_s", 0.0) + time.perf_counter() - started
        manifest["computed_points"] = manifest.get("computed_points", 0) + sum(len(batches[b].rows) for b in todo)
        manifest["workers"] = dask_scheduler or workers
        write_manifest(folder, manifest)
    workfolder.consolidate(folder, len(batches))
    return folder / "points.parquet"


# --- analysis -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Analysis:
    """Indices of the chosen outcomes: `indices` rows (outcome, period, factor, S1, S1_conf, ST,
    ST_conf), ranked by ST within each outcome and period; `convergence` the same over the whole
    horizon at growing sample sizes; `warnings` where the intervals are too wide to rank."""

    folder: Path
    indices: list[dict[str, Any]]
    convergence: list[dict[str, Any]]
    warnings: list[str]


def indices(y: np.ndarray, factors: list[str], groups: list[str], seed: int) -> list[dict[str, Any]]:
    """Sobol S1 and ST (95% bootstrap half-widths) of `y` over a Saltelli design, ranked by ST."""
    sobol = optional("SALib.analyze.sobol", "sensitivity")
    if np.ptp(y) == 0:  # no variance to share out
        return [{"factor": g, "S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0} for g in group_names(groups)]
    res = sobol.analyze(_problem(factors, groups), y, calc_second_order=False, seed=seed)
    rows = [{"factor": g, "S1": float(res["S1"][i]), "S1_conf": float(res["S1_conf"][i]),
             "ST": float(res["ST"][i]), "ST_conf": float(res["ST_conf"][i])} for i, g in enumerate(group_names(groups))]
    return sorted(rows, key=lambda r: -r["ST"])


def analyze(folder: Path, outcomes: list[str]) -> Analysis:
    """Indices of each outcome (whole horizon and per year), their convergence, the charts."""
    manifest = read_manifest(folder)
    factors, groups, seed, n = manifest["factors"], manifest["groups"], manifest["seed"], manifest["base_samples"]
    points = read_table(folder / "points.parquet")
    available = [c for c in points.column_names if c != "point" and "." not in c]
    for outcome in outcomes:
        if outcome not in available:
            raise InputError.one(None, f"unknown outcome {outcome!r}; allowed: {', '.join(available)}",
                                 field="--outcome")
    block = len(group_names(groups)) + 2
    rows, conv = [], []
    for outcome in outcomes:
        periods = ["all", *sorted(c.rsplit(".", 1)[1] for c in points.column_names if c.startswith(outcome + "."))]
        for period in periods:
            y = points.column(outcome if period == "all" else f"{outcome}.{period}").to_numpy()
            rows += [{"outcome": outcome, "period": period, **r} for r in indices(y, factors, groups, seed)]
        y = points.column(outcome).to_numpy()
        for size in sorted({max(8, n // 8), max(8, n // 4), max(8, n // 2), n}):
            conv += [{"outcome": outcome, "base_samples": size, **r}
                     for r in indices(y[:size * block], factors, groups, seed)]
    pace = manifest["compute_s"] / manifest["computed_points"] if manifest.get("computed_points") else None
    warnings = too_wide([r for r in rows if r["period"] == "all"], n, block, pace)
    write_table(pa.Table.from_pylist(rows), folder / "indices.parquet")
    write_table(pa.Table.from_pylist(conv), folder / "convergence.parquet")
    from resim.plots import save_all, sobol_charts

    save_all(sobol_charts(rows, conv, outcomes[0], f"{Path(manifest['model']).stem}: Sobol indices of "
                          f"{outcomes[0]} ({manifest['points']:,} points, {n} base samples)"), folder)
    manifest.update(complete=True, analysed=outcomes, warnings=warnings)
    describe(folder, f"resim sensitivity analysis of {Path(manifest['model']).stem}")
    write_manifest(folder, manifest)
    return Analysis(folder, rows, conv, warnings)


def too_wide(rows: list[dict[str, Any]], n: int, block: int, seconds_per_point: float | None = None,
             top: int = 3) -> list[str]:
    """For each outcome: the top-ranked factors whose ST interval is wider than WIDE (with the base
    sample size that would narrow it, as intervals shrink as 1/sqrt(N), and its cost at this run's
    pace), and adjacent top-ranked pairs whose ST intervals overlap (their order is not known)."""
    out = []
    for outcome in dict.fromkeys(r["outcome"] for r in rows):
        ranked = [r for r in rows if r["outcome"] == outcome][:top]
        for r in ranked:
            if 2 * r["ST_conf"] > WIDE:
                needed = needed_base_samples(n, 2 * r["ST_conf"])
                cost = f", ~{_duration(needed * block * seconds_per_point)} at this run's pace" \
                    if seconds_per_point else ""
                out.append(f"{outcome}: {r['factor']} ST {r['ST']:.2f} +-{r['ST_conf']:.2f} (interval "
                           f"{2 * r['ST_conf']:.2f} wide, more than {WIDE}; about --n {needed} would narrow it: "
                           f"{needed * block:,} points{cost})")
        for a, b in zip(ranked, ranked[1:], strict=False):
            if a["ST"] - a["ST_conf"] < b["ST"] + b["ST_conf"] and b["ST"] > 0.01:
                out.append(f"{outcome}: {a['factor']} and {b['factor']} cannot be ranked "
                           "(ST intervals overlap: raise --n)")
    return out


def needed_base_samples(n: int, width: float) -> int:
    """The power of two at least n x (width / WIDE)^2: the base sample size at which an interval of
    `width` at n narrows to WIDE (bootstrap intervals shrink as 1/sqrt(N))."""
    return int(2 ** math.ceil(math.log2(max(n, n * (width / WIDE) ** 2))))


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{seconds / 60:.0f} min" if seconds >= 90 \
        else f"{seconds:.0f} s"


def sensitivity(model: str | Path, n: int = 256, outcomes: tuple[str, ...] = ("cumulative_shortfall_t",),
                by: str = "mechanism", groups: dict[str, list[str]] | None = None, workers: int = 1,
                results: Path | str = "results", overrides: dict[str, Any] | None = None,
                seed: int | None = None, factors: list[str] | None = None) -> Analysis:
    """Python API: start, run and analyse in one call."""
    folder = start(model, n, Path(results), ["python-api"], by, groups, overrides, seed, factors,
                   outcomes=list(outcomes))
    run(folder, workers)
    return analyze(folder, list(outcomes))
