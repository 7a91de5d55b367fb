"""The pipeline behind the CLI, for Python callers too; it prints nothing. Load a scenario, run it
(a fixed number of replications, or adding replications until an outcome's mean is known to a
precision) and write it; the CLI adds only parsing, progress bars, tables and exit codes.

    from resim.pipeline import run_scenario
    from resim.results.api import open_run
    run = open_run(run_scenario("scenarios/pause_ends.yaml", replications=200))
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from resim.errors import InputError, ResimWarning, TaskFailed
from resim.folders import check_writable, read_manifest
from resim.montecarlo import runner
from resim.results.statistics import OUTCOMES, mean_half_width
from resim.results.writer import RUN_KEYS
from resim.scenario import bundled
from resim.scenario.loader import Loaded, load
from resim.scenario.provenance import parameter_rows


class Bar(Protocol):
    """A ready progress bar (tqdm, tqdm.notebook, tqdm.auto, tqdm.rich), which every `on_progress`,
    `on_point` and `on_batch` below accepts in place of a callback."""

    n: float
    total: float | None

    def update(self, n: float = 1) -> Any: ...


Counts = Callable[[int, int], None] | Bar  # told (done, planned)
Ticks = Callable[[int], None] | Bar  # told each finished task's index (-1: finished before a resume)


def _counts(on: Counts | None) -> Callable[[int, int], None] | None:
    if on is None or callable(on):
        return on
    bar = on

    def tell(done: int, planned: int) -> None:
        bar.total = planned
        bar.update(done - bar.n)
    return tell


def _ticks(on: Ticks | None) -> Callable[[int], None] | None:
    if on is None or callable(on):
        return on
    bar = on
    return lambda _index: bar.update(1)


@dataclass(frozen=True)
class Precision:
    """Add replications (doubling) until the 95% interval of `outcome`'s mean is within `fraction`
    of it, or `max_replications` are run."""

    fraction: float
    outcome: str = "cumulative_shortfall_t"
    max_replications: int = 20_000


@dataclass(frozen=True)
class Plan:
    """What a run will do, known before it starts (for a caller's header line)."""

    loaded: Loaded
    replications: int
    seed: int
    workers: int


def plan(scenario_file: Path | str, replications: int | None = None, seed: int | None = None,
         workers: int | None = None, overrides: dict[str, Any] | None = None) -> Plan:
    """Load and check everything a run needs; input errors are raised here, before any work."""
    loaded = load(scenario_file, overrides)
    sc = loaded.scenario
    return Plan(loaded, runner.checked_replications(replications or sc.replications),
                sc.seed if seed is None else seed, runner.checked_workers(workers))


def run_scenario(scenario_file: Path | str | Plan, replications: int | None = None, seed: int | None = None,
                 workers: int | None = None, results: Path | str = "results", check: bool = False,
                 precision: Precision | None = None, overrides: dict[str, Any] | None = None,
                 on_progress: Counts | None = None, command: list[str] | None = None,
                 dask_scheduler: str | None = None) -> Path:
    """Run a scenario and write it to results/<name>/<run id>/ (on local processes, or on the
    dask.distributed cluster at `dask_scheduler`); return that folder. `on_progress`
    is told (replications done, replications planned) as chunks finish."""
    started = time.perf_counter()
    on_progress = _counts(on_progress)
    p = scenario_file if isinstance(scenario_file, Plan) else plan(scenario_file, replications, seed, workers,
                                                                      overrides)
    if precision is not None:
        runner.checked_replications(precision.max_replications, "--max-replications")
    sc, results = p.loaded.scenario, Path(results)
    check_writable(results)
    with ExitStack() as stack:
        writer = None
        done, batch = 0, p.replications
        while batch > 0:
            chunks = runner.run(sc, batch, p.seed, p.workers, check, first=done,  # the workers start now
                                dask_scheduler=dask_scheduler)
            if writer is None:  # opened while they compute: importing pyarrow and matplotlib takes ~0.5 s
                from resim.results.writer import RunWriter
                writer = stack.enter_context(RunWriter(results, sc, p.seed, p.replications,
                                                       parameter_rows(p.loaded), started))
            for chunk in chunks:
                writer.add(chunk)
                if on_progress:
                    on_progress(writer.count, done + batch)
            done += batch
            if precision is None:
                break
            writer.precision = {**precision_reached(writer, precision.outcome, precision.fraction),
                                "max_replications": precision.max_replications}
            batch = 0 if writer.precision["reached"] else min(done, precision.max_replications - done)  # double
        assert writer is not None
        if precision is not None and writer.precision and not writer.precision["reached"]:
            warnings.warn(f"{sc.name}: the precision asked for was not reached within {precision.max_replications:,} "
                          "replications (see the manifest's precision)", ResimWarning, stacklevel=2)
        return writer.finish(sys.argv if command is None else command, p.workers)


def precision_reached(writer: Any, outcome: str, target: float) -> dict[str, Any]:
    """Mean of `outcome` over the replications so far and its 95% interval's relative half-width."""
    kept = writer.kept_so_far()
    values = OUTCOMES[outcome].fn(kept["shortfall_t"], kept["demand_t"], kept["vehicles_not_built"])
    mean = float(values.mean())
    half = mean_half_width(values)
    relative = half / abs(mean) if mean else (0.0 if half == 0 else float("inf"))
    return {"outcome": outcome, "mean": mean, "half_width": half, "relative_half_width": relative,
            "target": target, "reached": relative <= target}


def series(scenario_file: Path | str, replications: int = 100, seed: int | None = None,
           overrides: dict[str, Any] | None = None, workers: int | None = 1) -> Any:
    """The reported monthly series of a scenario's replications as a pandas DataFrame (one row per
    replication and month, every column of the column dictionary, units in `attrs`), without
    writing anything: what an API caller explores in a notebook."""
    import pandas as pd

    from resim.model import columns
    from resim.results.columns import unit_of

    p = plan(scenario_file, replications, seed, workers, overrides)
    sc = p.loaded.scenario
    cols = columns(sc)
    months = sc.reported_dates
    reps = [r for chunk in runner.run(sc, p.replications, p.seed, p.workers) for r in chunk]
    frame = pd.DataFrame(np.concatenate([r.series for r in reps]), columns=cols)
    frame.insert(0, "month", pd.to_datetime(np.tile(np.array(months, dtype="datetime64[D]"), len(reps))))
    frame.insert(0, "replication", np.repeat([r.index for r in reps], len(months)))
    frame.attrs["units"] = {c: unit_of(c) for c in cols}
    return frame


# --- long work: start it (or resume it), then run it --------------------------------------------

OnStart = Callable[[Path, dict[str, Any]], None]  # told the work's folder and manifest before it runs


def _work_folder(resume: Path | None, start: Callable[[], Path] | None, check_resumable: Callable[[Path], Any],
                 missing: str, on_start: OnStart | None) -> tuple[Path, dict[str, Any]]:
    """The folder of long work: `resume`d (after `check_resumable`), else made by `start` (None: the
    input that starts it is missing); `on_start` is told of it before it runs."""
    if resume is not None and start is not None:
        raise InputError.one(None, "give the input that starts new work or --resume FOLDER, not both",
                             field="--resume")
    if resume is not None:
        check_resumable(resume)
        folder = Path(resume)
    elif start is None:
        raise InputError.one(None, missing)
    else:
        folder = start()
    manifest = read_manifest(folder)
    if on_start:
        on_start(folder, manifest)
    return folder, manifest


@contextmanager
def _resumable(folder: Path, command: str) -> Iterator[None]:
    """A task that fails stops the work; say which command finishes it."""
    try:
        yield
    except TaskFailed as exc:
        raise TaskFailed(str(exc), f"what was finished is kept; after fixing the cause: resim {command} --resume "
                                   f"{folder}") from exc


def sweep(file: Path | None = None, vary: list[str] | None = None, design: str = "grid", points: int | None = None,
          replications: int | None = None, seed: int | None = None, analyze: str | None = None,
          outcome: str = "mean_cumulative_shortfall_t", workers: int | None = None, results: Path | str = "results",
          resume: Path | None = None, dask_scheduler: str | None = None, on_start: OnStart | None = None,
          on_point: Ticks | None = None) -> tuple[Path, Path, list[dict[str, Any]] | None]:
    """Start a sweep (or resume one) and run it: (its folder, its points table, its sensitivity
    indices when `analyze` names a method)."""
    from resim.analysis import sweep as sweeps

    folder, _ = _work_folder(
        resume, None if file is None else lambda: start_sweep(file, vary, design, points, replications, seed, analyze,
                                                              results, dask_scheduler, outcome),
        sweeps.check_resumable, "give a scenario file with --vary, a sweep file, or --resume FOLDER", on_start)
    with _resumable(folder, "sweep"):
        table = sweeps.run(folder, runner.checked_workers(workers), _ticks(on_point), dask_scheduler)
    return folder, table, (sweeps.analyze(folder, analyze, outcome) if analyze else None)


def sensitivity(scenario_file: Path | None = None, n: int = 256, by: str = "mechanism",
                groups: dict[str, list[str]] | None = None, overrides: dict[str, Any] | None = None,
                seed: int | None = None, outcomes: list[str] | None = None, workers: int | None = None,
                results: Path | str = "results", resume: Path | None = None, dask_scheduler: str | None = None,
                on_start: OnStart | None = None, on_batch: Ticks | None = None) -> Any:
    """Start a whole-model sensitivity analysis (or resume one), run it and analyse it."""
    from resim.analysis import wholemodel

    folder, manifest = _work_folder(
        resume, None if scenario_file is None else lambda: start_sensitivity(
            scenario_file, n, by, groups, overrides, seed, outcomes, results, dask_scheduler),
        wholemodel.check_resumable, "give a scenario file, or --resume FOLDER", on_start)
    with _resumable(folder, "sensitivity"):
        wholemodel.run(folder, runner.checked_workers(workers), _ticks(on_batch), dask_scheduler)
    analysis = wholemodel.analyze(folder, outcomes or manifest["outcomes"])
    for caveat in analysis.warnings:  # also in analysis.warnings and the manifest
        warnings.warn(caveat, ResimWarning, stacklevel=2)
    return analysis


def calibrate(file: Path | None = None, draws: int | None = None, replications: int | None = None,
              seed: int | None = None, workers: int | None = None, results: Path | str = "results",
              resume: Path | None = None, dask_scheduler: str | None = None, on_start: OnStart | None = None,
              on_point: Ticks | None = None, command: list[str] | None = None,
              ) -> tuple[Path, dict[str, Any]]:
    """Start a calibration (or resume one) and run it, on local processes or the dask.distributed
    cluster at `dask_scheduler`: (its folder, the posterior's summary)."""
    from resim.analysis import calibrate as calibration

    _reach(dask_scheduler)
    folder, _ = _work_folder(
        resume, None if file is None else lambda: calibration.start(
            file, Path(results), seed, sys.argv if command is None else command, draws, replications),
        calibration.check_resumable, "give an observations file, or --resume FOLDER", on_start)
    with _resumable(folder, "calibrate"):
        return folder, calibration.run(folder, runner.checked_workers(workers), _ticks(on_point), dask_scheduler)


# --- sweeps ------------------------------------------------------------------------------------

def start_sweep(file: Path, vary: list[str] | None = None, design: str = "grid", points: int | None = None,
                replications: int | None = None, seed: int | None = None, analyze: str | None = None,
                results: Path | str = "results", dask_scheduler: str | None = None,
                outcome: str = "mean_cumulative_shortfall_t",
                command: list[str] | None = None) -> Path:
    """Check a sweep (a scenario with `--vary` items, or a sweep file with option overrides), reach
    its cluster if any, then make its folder; nothing is written when anything is wrong."""
    from resim.analysis import sweep

    if analyze not in (None, "sobol", "morris"):
        raise InputError.one(None, f"unknown analysis {analyze!r}; allowed: sobol, morris", field="--analyze")
    if analyze:
        design = {"sobol": "saltelli", "morris": "morris"}[analyze]
    if outcome not in sweep.POINT_OUTCOMES:
        raise InputError.one(None, f"unknown point outcome {outcome!r}; allowed: {', '.join(sweep.POINT_OUTCOMES)}",
                             field="--outcome")
    if vary:
        spec = sweep.SweepSpec(name=file.stem, scenario=file, parameters=sweep.parse_vary(vary),
                               design=design,
                               points=points, replications=replications or 100, seed=seed)
    else:
        spec = sweep.load_spec(file)
        options = {k: v for k, v in (("replications", replications), ("seed", seed), ("points", points))
                   if v is not None}
        spec = sweep.SweepSpec.model_validate({**spec.model_dump(), **options})  # the file's caps bind options too
    sweep.check_spec(spec, None if vary else file)
    _reach(dask_scheduler)
    return sweep.start(spec, Path(results), sys.argv if command is None else command)


def start_sensitivity(scenario_file: Path, n: int = 256, by: str = "mechanism",
                      groups: dict[str, list[str]] | None = None, overrides: dict[str, Any] | None = None,
                      seed: int | None = None, outcomes: list[str] | None = None, results: Path | str = "results",
                      dask_scheduler: str | None = None, command: list[str] | None = None) -> Path:
    """Check a whole-model sensitivity analysis, reach its cluster if any, then make its folder."""
    from resim.analysis import wholemodel as gs

    gs.check_base_samples(n)
    _reach(dask_scheduler)
    return gs.start(scenario_file, n, Path(results), sys.argv if command is None else command, by, groups,
                    overrides, seed, outcomes=outcomes or ["cumulative_shortfall_t"])


def _reach(dask_scheduler: str | None) -> None:
    """Connect to the cluster (and check its workers) before any folder is made."""
    if dask_scheduler:
        from resim.montecarlo import cluster

        cluster.connect(dask_scheduler).close()


# --- comparisons --------------------------------------------------------------------------------

def shared_design(paths: list[Path], replications: int | None = None, seed: int | None = None) -> tuple[int, int]:
    """The (seed, replications) every scenario of a comparison is run with, so the comparison is
    paired: the options', else the reference's (a results folder's or a scenario file's)."""
    if len(paths) < 2:
        raise InputError.one(None, "give at least two results folders or scenario files to compare")
    for path in paths:
        if path.is_dir():
            read_manifest(path, "finished resim run", needs=RUN_KEYS, files=("series.parquet",))
        elif not path.exists():
            raise InputError.one(path, "not found: give a results folder or a scenario file")
    first = paths[0]
    if first.is_dir():
        manifest = read_manifest(first, "finished resim run", needs=RUN_KEYS)
        return (manifest["seed"] if seed is None else seed), replications or manifest["replications"]
    sc = load(first).scenario
    return (sc.seed if seed is None else seed), runner.checked_replications(replications or sc.replications)


def compare(paths: list[Path], replications: int | None = None, seed: int | None = None,
            workers: int | None = None, results: Path | str = "results", on_plan: Callable[[Plan], None] | None = None,
            on_progress: Counts | None = None,
            command: list[str] | None = None, tolerance_t: float = 1.0) -> tuple[Path, list[Path], list[Any]]:
    """Compare runs with the first, running the scenario files among `paths` first, all with one
    seed and replication count so that the comparison is paired: (its folder, the runs, the
    comparisons)."""
    seed, replications = shared_design(paths, replications, seed)
    # every scenario file is checked before any runs: a bad last file must not cost the first's run
    plans = [None if path.is_dir() else plan(path, replications, seed, workers) for path in paths]
    check_writable(Path(results))
    folders = []
    for path, scenario in zip(paths, plans, strict=True):
        if scenario is None:
            folders.append(path)
            continue
        if on_plan:
            on_plan(scenario)
        folders.append(run_scenario(scenario, results=results, on_progress=on_progress, command=command))
    folder, comparisons = compare_runs(folders, results, command, tolerance_t)
    return folder, folders, comparisons


def compare_runs(folders: list[Path], results: Path | str = "results", command: list[str] | None = None,
                 tolerance_t: float = 1.0) -> tuple[Path, list[Any]]:
    """Compare every run with the first and write results/comparisons/...; returns (its folder,
    the comparisons)."""
    from resim.analysis.compare import compare, load_run
    from resim.report import write_comparison

    data = [load_run(f) for f in folders]
    comparisons = [compare(data[0], other, tolerance_t=tolerance_t) for other in data[1:]]
    return write_comparison(comparisons, Path(results), sys.argv if command is None else command), comparisons


# --- checks -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScenarioCheck:
    scenario: str
    months: int
    replications: int
    error: str | None  # None: the books balanced after every event

    @property
    def passed(self) -> bool:
        return self.error is None


def run_oracles(on_oracle: Callable[[], None] | None = None) -> list[Any]:
    """Every analytic oracle of `oracles.ORACLES`, in order."""
    from resim.analysis import oracles

    results = []
    for oracle in oracles.ORACLES.values():
        results.append(oracle())
        if on_oracle:
            on_oracle()
    return results


def scenario_files(folder: Path | None = None) -> list[Path]:
    """The scenario files (*.yaml) in `folder` (default: ./scenarios, else the shipped ones); none is
    an input error, so that a check never passes by checking nothing."""
    if folder is None:
        folder = Path("scenarios") if Path("scenarios").is_dir() else bundled.root() / "scenarios"
    paths = sorted(Path(folder).glob("*.yaml"))
    if not paths:
        raise InputError.one(Path(folder), "holds no scenario file (*.yaml); allowed: a folder of scenarios, such "
                                           "as the repository's scenarios/ or the one `resim init DIR` writes",
                             field="--scenarios")
    return paths


def check_scenarios(paths: list[Path], replications: int) -> list[ScenarioCheck]:
    """Each scenario file run `replications` times with its books checked after every event."""
    from resim.model import ConservationError

    out = []
    for path in paths:
        sc = load(path).scenario
        try:
            for i in range(replications):
                runner.run_one(sc, sc.seed, i, check=True)
            out.append(ScenarioCheck(sc.name, sc.horizon_months, replications, None))
        except ConservationError as exc:
            out.append(ScenarioCheck(sc.name, sc.horizon_months, replications, str(exc)))
    return out
