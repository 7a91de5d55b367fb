"""A sweep as a job: started in its resumable work folder, run on local processes or Dask, then its
charts and its sensitivity indices; `sweep(...)` does it all from Python."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from resim import __version__
from resim.analysis import indices, workfolder
from resim.analysis.sweep.designs import design_points
from resim.analysis.sweep.points import _point, _shipped_point
from resim.analysis.sweep.spec import Range, SweepSpec, Values, check_spec
from resim.errors import InputError, TaskFailed
from resim.folders import (
    read_manifest,
    read_resumable,
    read_table,
)
from resim.montecarlo.executor import Tasks, as_completed
from resim.plots import index_chart, save, save_all, sweep_charts, tornado_chart
from resim.results.tables import write_table
from resim.results.writer import scenario_hash
from resim.scenario.loader import load, read_document

SweepError = TaskFailed  # a point failed; the sweep stopped (the name callers know)


def start(spec: SweepSpec, results: Path, command: list[str]) -> Path:
    """Create the sweep folder with its manifest (the design is fixed here, for --resume)."""
    spec = spec.model_copy(update={"scenario": Path(spec.scenario).resolve()})  # resumable from any directory
    scenario = load(spec.scenario).scenario
    seed = spec.seed if spec.seed is not None else scenario.seed
    points = design_points(spec, seed)  # before any folder exists: a design that fails leaves nothing
    return workfolder.start(results, "sweeps", spec.name, {
        "spec": json.loads(spec.model_dump_json()), "seed": seed, "points": points,
        "scenario_hash": scenario_hash(scenario), "resim_version": __version__, "command": command,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})


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
    tasks = Tasks(points, functools.partial(_point, str(spec.scenario), replications=spec.replications, seed=seed),
                  functools.partial(_shipped_point, replications=spec.replications, seed=seed),
                  read_document(spec.scenario) if dask_scheduler else None, lambda i: f"point {i} {points[i]}")
    for index, outcome in as_completed(tasks, workfolder.to_do(folder, len(points), on_point), workers,
                                       dask_scheduler):
        workfolder.save(folder, index, workfolder.point_row(index, points[index], outcome))
        if on_point:
            on_point(index)
    table = workfolder.consolidate(folder, len(points))
    if spec.design == "oat":
        save(tornado_chart(table.to_pydict(), list(spec.parameters), "mean_cumulative_shortfall_t", "t NdFeB",
                           f"{spec.name}: one at a time around the mid-range point ({spec.replications} "
                           "replications per point)"), folder / "tornado.png")
    save_all(sweep_charts(table.to_pydict(), list(spec.parameters), "mean_cumulative_shortfall_t", "t NdFeB",
                          f"{spec.name}: mean cumulative shortfall over the horizon\n({spec.replications} "
                          f"replications per point)"), folder)
    workfolder.complete(folder, manifest)
    return folder / "points.parquet"


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
    write_table(pa.Table.from_pylist([{**r, "outcome": outcome} for r in rows]), folder / "sensitivity.parquet")
    save(index_chart(method, rows, f"{spec.name}: {method} sensitivity of {outcome} "
                     f"({len(x)} points x {spec.replications} replications)"), folder / "sensitivity.png")
    return rows


def sweep(scenario_file: Path | str, parameters: dict[str, Range | Values], design: str = "grid",
          points: int | None = None, replications: int = 100, seed: int | None = None, workers: int = 1,
          results: Path = Path("results"), name: str | None = None) -> pa.Table:
    """Python API: run a sweep and return its table (parameters and outcomes per point)."""
    spec = SweepSpec(name=name or Path(scenario_file).stem, scenario=Path(scenario_file), parameters=parameters,
                     design=design, points=points, replications=replications, seed=seed)
    check_spec(spec, Path(scenario_file))
    return pq.read_table(run(start(spec, results, ["python-api"]), workers))
