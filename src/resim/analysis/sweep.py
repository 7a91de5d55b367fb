"""Parameter sweeps: many points of one scenario, each a set of dotted-path overrides, each run
with the same replications (seed and indices), so that differences between points are not noise
(common random numbers).

Designs: a full grid (itertools.product), Latin hypercube and Sobol (scipy.stats.qmc), and the
Saltelli and Morris designs of SALib. Points run on local processes, or on a dask.distributed
cluster (`--dask SCHEDULER_ADDRESS`). Each point's
outcomes go to disk as the point finishes (`points/<index>.parquet`), so a killed sweep loses at most
the points in flight and `--resume` finishes it; `points.parquet` appears only when all are done.
A worker's error stops the sweep at once, naming the point.

Python API: `evaluate(scenario_file, overrides, replications, seed)` returns per-replication outcome
arrays for one point, for other exploratory-modelling tools to drive.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import itertools
import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy.stats import qmc

from resim import __version__
from resim.analysis import indices
from resim.errors import InputError, Problem, TaskFailed
from resim.folders import (
    FolderName,
    atomic_write_table,
    check_writable,
    folder_for,
    read_manifest,
    read_resumable,
    read_table,
    write_manifest,
)
from resim.model import columns
from resim.montecarlo import cluster
from resim.montecarlo.runner import die_with_parent, run_one
from resim.plots import index_chart, sweep_charts, tornado_chart
from resim.results.statistics import OUTCOMES, mean_half_width, per_replication, proportion_ci, quantile_ci
from resim.results.writer import scenario_hash
from resim.scenario.loader import Document, load, read_document, read_yaml
from resim.scenario.params import _Spec
from resim.scenario.schema import Scenario
from resim.scenario.walk import iter_specs


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid")
    low: float
    high: float
    levels: int | None = Field(None, ge=2, description="Grid levels (grid design only).")

    @model_validator(mode="after")
    def _not_empty(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"empty range: need low < high (got {self.low}, {self.high})")
        return self


class Values(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: list[float] = Field(min_length=1)


class SweepSpec(BaseModel):
    """A sweep: which scenario, which fields vary over what, the design and the replications."""

    model_config = ConfigDict(extra="forbid")
    name: FolderName
    scenario: Path
    parameters: dict[str, Range | Values] = Field(min_length=1)
    design: Literal["grid", "oat", "lhs", "sobol", "saltelli", "morris"] = "grid"
    points: int | None = Field(None, ge=1, description="Points (lhs, sobol), or base samples N (saltelli: "
                               "N (d + 2) points; morris: N (d + 1)).")
    replications: int = Field(100, ge=2)
    seed: int | None = Field(None, ge=0, description="Default: the scenario's seed.")



# --- designs ---------------------------------------------------------------------------------

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
        prob = indices.problem(names, [(r.low, r.high) for r in ranges])  # type: ignore[union-attr]
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


# --- one point -------------------------------------------------------------------------------

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


# --- checks before anything runs --------------------------------------------------------------

def check_spec(spec: SweepSpec, where: Path) -> None:
    """Every varied path must be a numeric parameter of the scenario; designs need what they need."""
    base = load(spec.scenario).scenario
    numeric = {path for path, obj, _ in iter_specs(base) if isinstance(obj, _Spec)}
    problems = []
    for path in spec.parameters:
        if path not in numeric:
            near = difflib.get_close_matches(path, sorted(numeric), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else "; see `resim sources` for numeric fields"
            problems.append(Problem(where, None, f"parameters.{path}", f"not a numeric field of the scenario{hint}"))
    if spec.design != "grid" and any(isinstance(p, Range) and p.levels for p in spec.parameters.values()):
        problems.append(Problem(where, None, "design", f"levels apply to the grid design, not {spec.design}"))
    if spec.design in ("saltelli", "morris") and any(isinstance(p, Values) for p in spec.parameters.values()):
        problems.append(Problem(where, None, "design", f"{spec.design} needs ranges (low, high), not value lists"))
    if problems:
        raise InputError(problems)
    for path, p in spec.parameters.items():  # the ends of each range must be allowed values
        for value in ([p.low, p.high] if isinstance(p, Range) else sorted(set(p.values))[::max(1, len(p.values) - 1)]):
            try:
                load(spec.scenario, {path: value})
            except InputError as exc:
                raise InputError([Problem(where, None, f"parameters.{path}", f"value {value:g}: {q.message}")
                                  for q in exc.problems]) from None


def parse_vary(items: list[str]) -> dict[str, Range | Values]:
    """`path=low:high[:levels]` or `path=v1,v2,...` (the CLI's --vary)."""
    out: dict[str, Range | Values] = {}
    for item in items:
        path, sep, rhs = item.partition("=")
        try:
            if not sep or not path:
                raise ValueError("expected PATH=LOW:HIGH[:LEVELS] or PATH=V1,V2,...")
            if ":" in rhs:
                parts = [float(x) for x in rhs.split(":")]
                if len(parts) not in (2, 3):
                    raise ValueError("expected LOW:HIGH or LOW:HIGH:LEVELS")
                out[path] = Range(low=parts[0], high=parts[1], levels=int(parts[2]) if len(parts) == 3 else None)
            else:
                out[path] = Values(values=[float(x) for x in rhs.split(",") if x.strip()])
        except (ValueError, ValidationError) as exc:
            message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise InputError.one(None, f"{message.removeprefix('Value error, ')}", field=f"--vary {item}") from None
    return out


def load_spec(path: Path) -> SweepSpec:
    doc, _ = read_yaml(path, dotted_keys=False)  # parameters are dotted paths; size, keys, aliases checked
    try:
        doc["scenario"] = str((path.parent / doc["scenario"]).resolve()) if "scenario" in doc else None
        return SweepSpec.model_validate(doc)
    except ValidationError as exc:
        raise InputError([Problem(path, None, ".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]) from None
    except (yaml.YAMLError, TypeError, OSError) as exc:
        raise InputError.one(path, f"not a readable sweep file: {exc}") from None


# --- running -----------------------------------------------------------------------------------

SweepError = TaskFailed  # a point failed; the sweep stopped (the name callers know)


def _point(scenario_file: str, overrides: dict[str, float], replications: int, seed: int) -> dict[str, float]:
    """The sweep's model function: one point's outcome summary (the file is parsed once per worker)."""
    return summarise(evaluate(Path(scenario_file), overrides, replications, seed))


def _shipped_point(document: Document, overrides: dict[str, float], replications: int, seed: int) -> dict[str, float]:
    """The same on a cluster worker, from the scenario's parsed files shipped to it."""
    return summarise(outcomes_of(document.load(overrides).scenario, replications, seed))


def _write_point(folder: Path, index: int, overrides: dict[str, float], outcome: dict[str, float]) -> None:
    table = pa.Table.from_pylist([{"point": index, **{f"param.{k}": v for k, v in overrides.items()}, **outcome}])
    atomic_write_table(table, folder / "points" / f"{index}.parquet")  # a point file is whole or absent


def start(spec: SweepSpec, results: Path, command: list[str]) -> Path:
    """Create the sweep folder with its manifest (the design is fixed here, for --resume)."""
    spec = spec.model_copy(update={"scenario": Path(spec.scenario).resolve()})  # resumable from any directory
    scenario = load(spec.scenario).scenario
    seed = spec.seed if spec.seed is not None else scenario.seed
    points = design_points(spec, seed)  # before any folder exists: a design that fails leaves nothing
    check_writable(results)
    folder = folder_for(results / "sweeps", spec.name)
    (folder / "points").mkdir(parents=True)
    manifest = {"spec": json.loads(spec.model_dump_json()), "seed": seed, "points": points,
                "scenario_hash": scenario_hash(scenario), "resim_version": __version__,
                "command": command, "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "complete": False}
    write_manifest(folder, manifest)
    return folder


def points_to_do(folder: Path, total: int, on_point: Callable[[int], None] | None = None) -> list[int]:
    """The points of a sweep (or calibration) in `folder` not yet on disk; each one already done is
    reported to `on_point` as -1 (so a progress bar starts where the last run stopped)."""
    done = {int(p.stem) for p in (folder / "points").glob("[0-9]*.parquet")}
    for _ in done:
        if on_point:
            on_point(-1)
    return [i for i in range(total) if i not in done]


SWEEP_KEYS = ("spec", "seed", "points", "scenario_hash", "complete")  # what resuming relies on

def check_resumable(folder: Path) -> tuple[int, int]:
    """A sweep may resume only with the same scenario (and seeds) and resim version it started
    with; returns (points left, points in all)."""
    manifest = read_resumable(folder, "sweep folder", SWEEP_KEYS)
    scenario_file = Path(manifest["spec"]["scenario"])
    if scenario_hash(load(scenario_file).scenario) != manifest.get("scenario_hash"):
        raise InputError.one(scenario_file, "the scenario (or a seed it cites) changed since the sweep started; "
                             "allowed: restore it, or start a new sweep", field="--resume")
    done = len(list((Path(folder) / "points").glob("[0-9]*.parquet")))
    return len(manifest["points"]) - done, len(manifest["points"])


def run(folder: Path, workers: int, on_point: Callable[[int], None] | None = None,
        dask_scheduler: str | None = None) -> Path:
    """Run (or finish) the sweep in `folder` on local processes, or on the dask.distributed
    cluster at `dask_scheduler`; return the consolidated points table's path."""
    manifest = read_manifest(folder)
    spec = SweepSpec.model_validate(manifest["spec"])
    points, seed = manifest["points"], manifest["seed"]
    todo = points_to_do(folder, len(points), on_point)
    if dask_scheduler:
        shipped = functools.partial(_shipped_point, replications=spec.replications, seed=seed)
        evaluated = cluster.as_completed_map(shipped, read_document(spec.scenario), points, todo, dask_scheduler,
                                             lambda i: f"point {i} {points[i]}")
    else:
        function = functools.partial(_point, str(spec.scenario), replications=spec.replications, seed=seed)
        evaluated = evaluate_points(function, points, todo, workers)
    for index, outcome in evaluated:
        _write_point(folder, index, points[index], outcome)
        if on_point:
            on_point(index)
    table = pa.concat_tables([read_table(folder / "points" / f"{i}.parquet") for i in range(len(points))])
    atomic_write_table(table, folder / "points.parquet")
    if spec.design == "oat":
        tornado_chart(table.to_pydict(), list(spec.parameters), "mean_cumulative_shortfall_t", "t NdFeB",
                      f"{spec.name}: one at a time around the mid-range point ({spec.replications} replications "
                      "per point)", folder / "tornado.png")
    sweep_charts(table.to_pydict(), list(spec.parameters), "mean_cumulative_shortfall_t", "t NdFeB",
                 f"{spec.name}: mean cumulative shortfall over the horizon\n({spec.replications} replications "
                 f"per point, 95% intervals)", folder)
    manifest["complete"] = True
    write_manifest(folder, manifest)
    return folder / "points.parquet"


def evaluate_points(function: Callable[[dict[str, float]], dict[str, float]], points: list[dict[str, float]],
                    todo: list[int], workers: int) -> Iterator[tuple[int, dict[str, float]]]:
    """Yield (index, function(points[index])) for `todo` as points finish, on `workers` processes
    (`function` must pickle: a module-level function or a partial of one). The first error stops
    everything at once and is raised as SweepError naming the point."""
    if workers <= 1:
        for i in todo:
            yield i, _guarded(function, points, i)
        return
    pending: dict[Future[dict[str, float]], int] = {}
    queue = iter(todo)
    with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        try:
            for i in itertools.islice(queue, workers * 2):
                pending[pool.submit(function, points[i])] = i
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    i = pending.pop(future)
                    outcome = _guarded(lambda _p, f=future: f.result(), points, i)  # type: ignore[misc]
                    for j in itertools.islice(queue, 1):
                        pending[pool.submit(function, points[j])] = j
                    yield i, outcome
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)


def _guarded(function: Callable[[dict[str, float]], dict[str, float]], points: list[dict[str, float]],
             i: int) -> dict[str, float]:
    try:
        return function(points[i])
    except InputError:
        raise
    except Exception as exc:
        what = f"point {i} {points[i]}" if isinstance(points[i], dict) else repr(points[i])  # or a batch of them
        raise SweepError(f"{what} failed: {type(exc).__name__}: {exc}") from exc


def analyze(folder: Path, method: str, outcome: str = "mean_cumulative_shortfall_t") -> list[dict[str, Any]]:
    """Sobol or Morris indices of `outcome` over a finished saltelli/morris sweep; saves
    sensitivity.parquet and sensitivity.png in the sweep folder."""
    manifest = read_manifest(folder)
    spec = SweepSpec.model_validate(manifest["spec"])
    needed = {"sobol": "saltelli", "morris": "morris"}[method]
    if spec.design != needed:
        raise InputError.one(folder, f"--analyze {method} needs a {needed} design; this sweep is {spec.design}")
    names = list(spec.parameters)
    prob = indices.problem(names, [(p.low, p.high) for p in spec.parameters.values()])  # type: ignore[union-attr]
    table = read_table(folder / "points.parquet").to_pydict()
    x = np.array([[pt[n] for n in names] for pt in manifest["points"]])
    rows = indices.analyze(method, prob, x, np.array(table[outcome]), manifest["seed"])
    pq.write_table(pa.Table.from_pylist([{**r, "outcome": outcome} for r in rows]), folder / "sensitivity.parquet")
    index_chart(method, rows, f"{spec.name}: {method} sensitivity of {outcome} "
                f"({len(x)} points x {spec.replications} replications)", folder / "sensitivity.png")
    return rows


def sweep(scenario_file: Path | str, parameters: dict[str, Range | Values], design: str = "grid",
          points: int | None = None, replications: int = 100, seed: int | None = None, workers: int = 1,
          results: Path = Path("results"), name: str | None = None) -> pa.Table:
    """Python API: run a sweep and return its table (parameters and outcomes per point)."""
    spec = SweepSpec(name=name or Path(scenario_file).stem, scenario=Path(scenario_file), parameters=parameters,
                     design=design, points=points, replications=replications, seed=seed)
    check_spec(spec, Path(scenario_file))
    return pq.read_table(run(start(spec, results, ["python-api"]), workers))


__all__ = ["sweep", "evaluate", "SweepSpec", "Range", "Values", "design_points", "Any"]
