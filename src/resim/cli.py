"""The `resim` command line: a thin layer that calls the stages (load -> run -> write -> show)."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from resim.errors import InputError
from resim.folders import check_writable, read_manifest, read_table
from resim.model import ConservationError
from resim.results.statistics import OUTCOMES
from resim.scenario.loader import load
from resim.scenario.provenance import parameter_rows, structural_rows
from resim.scenario.walk import iter_specs

app = typer.Typer(
    help="resim: how short of rare-earth magnets India's EV makers may be, month by month, "
    "under China's export controls. Scenarios are YAML files (see scenarios/). Exit codes: 0 done, 1 a "
    "file-system failure or a failed sweep point, 2 bad input, 3 a failed model check, 130 interrupted.",
    no_args_is_help=True, pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from resim import __version__

        print(f"resim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print resim's version and exit.")] = False) -> None:
    """Options for every command (the help text is the app's)."""

PIPED_WIDTH = 200  # piped or redirected output is read by tools and wide pagers: do not wrap tables at 80


def _consoles() -> tuple[Console, Console]:
    """Standard output and error; no emoji codes, so that "file.yaml:100:" prints as written; full
    width when not a terminal (rich's default of 80 columns cuts dotted paths)."""
    def console(stream: Any, stderr: bool) -> Console:
        wide = None if stream.isatty() or "COLUMNS" in os.environ else PIPED_WIDTH
        return Console(stderr=stderr, emoji=False, width=wide)

    return console(sys.stdout, False), console(sys.stderr, True)


out, err = _consoles()
F = TypeVar("F", bound=Callable[..., Any])

ScenarioFile = Annotated[Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/pause_ends.yaml.",
                                              show_default=False)]


INTERRUPTED = {  # what an interrupted command kept, and how to go on
    "run": "the run was not written (its hidden staging folder was removed); run it again",
    "sweep_command": "finished points are kept; resim sweep --resume <its folder> (printed above) finishes it",
    "calibrate": "finished draws are kept; resim calibrate --resume <its folder> (printed above) finishes it",
    "sensitivity_command": "finished batches are kept; resim sensitivity --resume <its folder> (printed above) "
                           "finishes it",
}


def _terminate_like_ctrl_c(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def friendly(command: F) -> F:
    """Show input errors in one screen with exit code 2, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global out, err
        out, err = _consoles()  # sized by this invocation's environment (COLUMNS), not the importer's
        signal.signal(signal.SIGTERM, _terminate_like_ctrl_c)  # the same clean exit as Ctrl-C
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            err.print(f"[bold red]error:[/] {len(exc.problems)} problem(s) in the input", highlight=False)
            for problem in exc.problems:
                err.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except ValidationError as exc:  # options checked by a model (e.g. a sweep built from --vary and --design)
            err.print(f"[bold red]error:[/] {exc.error_count()} problem(s) in the options", highlight=False)
            for e in exc.errors():
                err.print(f"  --{'.'.join(map(str, e['loc']))}: {e['msg']}", highlight=False, markup=False,
                          soft_wrap=True)
            raise typer.Exit(2) from None
        except ConservationError as exc:
            err.print(f"[bold red]model check failed:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(3) from None
        except OSError as exc:  # the file system failed mid-way (disk full, folder removed): nothing looks whole
            err.print(f"[bold red]file system error:[/] {escape(str(exc))}; nothing that looks finished was left "
                      "behind", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (turned into this by _terminate_like_ctrl_c)
            err.print(f"interrupted: {INTERRUPTED.get(command.__name__, 'nothing was written')}", highlight=False,
                      soft_wrap=True)
            # the worker pool's teardown may still write to a pipe closed by the interrupt; that is
            # noise after the one line the user was promised ("Exception ignored in: ... _send")
            sys.unraisablehook = lambda _unraisable: None
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


Replications = Annotated[int | None, typer.Option("--replications", "-n", min=1,
                                                  help="Replications (default: the scenario's).")]
Seed = Annotated[int | None, typer.Option(min=0, help="Master seed (default: the scenario's).")]
Workers = Annotated[int | None, typer.Option("--workers", "-w", min=1, help="Local processes (default: all cores).")]
Results = Annotated[Path, typer.Option("--results", help="Folder for results.")]


AsJson = Annotated[bool, typer.Option("--json", help="Print the figures as JSON on standard output; the tables "
                                      "go to standard error.")]


def _tables_to_stderr(on: bool) -> None:
    """With --json, standard output carries only the JSON document."""
    global out
    if on:
        out = err


def _emit(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, default=str) + "\n")


Check = Annotated[bool, typer.Option("--check", help="Check after every event that no stock is negative and "
                                     "every node's books balance (slower).")]


PrecisionOutcome = StrEnum("PrecisionOutcome", {name: name for name in OUTCOMES})  # type: ignore[misc]


@app.command()
@friendly
def run(scenario_file: ScenarioFile, replications: Replications = None, seed: Seed = None,
        workers: Workers = None, results: Results = Path("results"), check: Check = False,
        precision: Annotated[float | None, typer.Option(
            min=0.0001, max=1.0, help="Add replications (doubling, from -n) until the 95% interval of the mean of "
            "--precision-of is within this fraction of it, e.g. 0.05.")] = None,
        precision_of: Annotated[PrecisionOutcome, typer.Option(
            help="Outcome (per replication, over the horizon) whose mean --precision targets.")]
        = PrecisionOutcome.cumulative_shortfall_t,  # type: ignore[attr-defined]
        max_replications: Annotated[int, typer.Option(min=1, help="Cap for --precision.")] = 20_000,
        dask: Annotated[str | None, typer.Option(help="Run the replications on an existing dask.distributed "
                                                 "cluster (scheduler address); same results as local processes.")]
        = None,
        as_json: AsJson = False) -> None:
    """Run a scenario many times (Monte Carlo) and write the distribution of monthly shortfall."""
    from resim.montecarlo import runner

    _tables_to_stderr(as_json)
    target = None if precision is None else (precision, str(precision_of.value),
                                             runner.checked_replications(max_replications))
    if dask:  # reach the cluster, and check its workers, before anything is written
        from resim.montecarlo import cluster

        cluster.connect(dask).close()
    folder = _run(scenario_file, replications, seed, workers, results, check, target, dask)
    _show_run(folder)
    if as_json:
        m = read_manifest(folder)
        _emit({"results": str(folder), **{k: m[k] for k in ("scenario", "question", "seed", "replications", "start",
                                                           "report_from", "reported_months", "run_summary",
                                                           "yearly")}})


def _run(scenario_file: Path, replications: int | None, seed: int | None, workers: int | None,
         results: Path, check: bool = False, target: tuple[float, str, int] | None = None,
         dask: str | None = None) -> Path:
    """Run a scenario with a header line and a progress bar; return its finished results folder."""
    from resim import pipeline

    started = pipeline.plan(scenario_file, replications, seed, workers)
    sc = started.loaded.scenario
    check_writable(results)
    out.print(f"[bold]{sc.name}[/]: {sc.question}", highlight=False)
    reported = "" if sc.report_offset == 0 else f", reported from {sc.report_from}"
    out.print(f"{started.replications} replications, seed {started.seed}, {sc.horizon_months} months from "
              f"{sc.start}{reported}, " + (f"Dask cluster {dask}" if dask else f"{started.workers} worker(s)"),
              highlight=False)
    precision = None if target is None else pipeline.Precision(*target)
    with Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("eta"), TimeRemainingColumn(), console=err, transient=True) as progress:
        task = progress.add_task("replications", total=started.replications)
        return pipeline.run_scenario(started, results=results, check=check, precision=precision,
                                     on_progress=lambda done, total: progress.update(task, completed=done,
                                                                                     total=total),
                                     dask_scheduler=dask)


def _half(row: dict[str, float], key: str) -> float:
    """Half-width of a printed figure's 95% Monte Carlo interval (the larger side)."""
    return max(row[key] - row[f"{key}_low"], row[f"{key}_high"] - row[key])


def _show_run(folder: Path) -> None:
    manifest = read_manifest(folder)
    table = Table(title=f"{manifest['scenario']}: EV NdFeB magnet shortfall by year "
                        f"({manifest['replications']} replications)", title_justify="left",
                  caption="%: shortfall as % of EV NdFeB demand; t: tonnes of NdFeB; P: share of replications "
                          "with a short month; ±: 95% Monte Carlo uncertainty of the figure", caption_justify="left")
    for name in ("year", "median %", "p5 - p95 %", "median t", "P(short)"):
        table.add_column(name, justify="right")
    for row in manifest["yearly"]:
        year = f"{row['year']}" + ("" if row["months"] == 12 else f" ({row['months']} mo)")
        tails = max(_half(row, "shortfall_pct_p5"), _half(row, "shortfall_pct_p95"))
        table.add_row(year, f"{row['shortfall_pct_p50']:.1f} ±{_half(row, 'shortfall_pct_p50'):.1f}",
                      f"{row['shortfall_pct_p5']:.1f} - {row['shortfall_pct_p95']:.1f} ±{tails:.1f}",
                      f"{row['shortfall_t_p50']:,.0f} ±{_half(row, 'shortfall_t_p50'):,.0f}",
                      f"{row['p_any_shortfall']:.2f} ±{_half(row, 'p_any_shortfall'):.2f}")
    out.print(table)
    s = manifest["run_summary"]
    cum = s["cumulative_shortfall_t"]
    out.print(f"cumulative shortfall over the horizon: median {cum['p50']:,.0f} t NdFeB "
              f"(95% MC interval {cum['p50_low']:,.0f} - {cum['p50_high']:,.0f}; p5 {cum['p5']:,.0f} - "
              f"p95 {cum['p95']:,.0f}); P(any shortfall) {s['p_any_shortfall']:.2f}; "
              f"median vehicles not built {s['cumulative_vehicles_not_built_p50']:,.0f}", highlight=False)
    if "precision" in manifest:
        p = manifest["precision"]
        out.print(f"precision: mean {p['outcome']} {p['mean']:,.1f} ± {100 * p['relative_half_width']:.1f}% (95%) "
                  f"after {manifest['replications']} replications; target {100 * p['target']:.1f}%"
                  + ("" if p["reached"] else f" NOT reached (cap {p['max_replications']})"), highlight=False,
                  soft_wrap=True)
    out.print(f"results: {folder}  (wall time {manifest['wall_time_s']:.1f} s)", highlight=False,
              soft_wrap=True)


RunsOrScenarios = Annotated[list[Path], typer.Argument(
    help="Results folders or scenario files (run first, with the same seed and replications); "
         "the first is the reference.", show_default=False)]


@app.command("compare")
@friendly
def compare_command(runs: RunsOrScenarios, replications: Replications = None, seed: Seed = None,
                    workers: Workers = None, results: Results = Path("results"), as_json: AsJson = False) -> None:
    """Compare runs with the first: paired differences when they share seed and replications."""
    from resim import pipeline
    from resim.report import outcome_rows

    _tables_to_stderr(as_json)
    seed, replications = pipeline.shared_design(runs, replications, seed)
    check_writable(results)
    folders = [path if path.is_dir() else _run(path, replications, seed, workers, results) for path in runs]
    folder, comparisons = pipeline.compare_runs(folders, results)
    for c in comparisons:
        _show_comparison(c)
    out.print(f"comparison: {folder}  (comparison.parquet, monthly_difference.parquet, comparison.png)",
              highlight=False, soft_wrap=True)
    if as_json:
        _emit({"results": str(folder), "runs": [str(f) for f in folders], "outcomes": outcome_rows(comparisons)})


def _show_comparison(c: Any) -> None:
    from resim.analysis.compare import month_ranges

    a, b = c.reference.name, c.other.name
    pairing = (f"paired: same seed {c.reference.seed} and {len(c.reference.replications)} replications"
               if c.paired else "UNPAIRED: the runs differ in seed or replications, so intervals are wider")
    table = Table(title=f"B = {b} against A = {a}\n({pairing})", title_justify="left",
                  caption="over the horizon, per replication; [95% bootstrap interval]; worse = more shortfall; "
                          "medians and quantiles in comparison.parquet", caption_justify="left")
    for name in ("outcome", "unit", "A mean", "B mean", "B - A mean [95% CI]", "P(B worse) [CI]"):
        table.add_column(name, justify="left" if name in ("outcome", "unit") else "right")
    for o in c.outcomes:
        table.add_row(OUTCOMES[o.outcome].label, o.unit, f"{o.a_mean:,.0f}", f"{o.b_mean:,.0f}",
                      f"{o.mean_diff:+,.0f} [{o.mean_diff_ci[0]:+,.0f}, {o.mean_diff_ci[1]:+,.0f}]",
                      f"{o.p_b_worse:.2f} [{o.p_b_worse_ci[0]:.2f}, {o.p_b_worse_ci[1]:.2f}]")
    out.print(table)
    differs = c.monthly.differs
    out.print(f"months where B - A shortfall differs (95% interval of the mean excludes 0): "
              f"{int(differs.sum())} of {len(differs)}: {month_ranges(c.monthly.months, differs)}",
              highlight=False)


@app.command()
@friendly
def calibrate(
    file: Annotated[Path | None, typer.Argument(help="An observations file (observations/*.yaml): scenario, "
                                                "parameters to fit, observed figures.", show_default=False)] = None,
    draws: Annotated[int | None, typer.Option(min=10, help="Parameter sets drawn from the priors "
                                              "(default: the file's, 200).")] = None,
    replications: Annotated[int | None, typer.Option("--replications", "-n", min=1, help="Replications per set "
                                                     "(default: the file's, 10).")] = None,
    seed: Seed = None,
    workers: Workers = None,
    results: Results = Path("results"),
    resume: Annotated[Path | None, typer.Option(help="Finish an interrupted calibration in this folder.")] = None,
) -> None:
    """Fit uncertain world parameters to observed history by approximate Bayesian computation
    (rejection with kernel weights; the scenario's distributions are the priors). Writes
    results/calibrations/<name>/<run-id>/: posterior.parquet (accepted sets and weights),
    draws.parquet (every set, its simulated figures and distance), prior_posterior.png and the
    manifest with diagnostics. A scenario uses it with `posterior: <folder>`."""
    from resim.analysis import calibrate as cal
    from resim.analysis.sweep import SweepError
    from resim.montecarlo import runner

    if resume is not None:
        cal.check_resumable(resume)
        folder = resume
    else:
        if file is None:
            raise InputError.one(None, "give an observations file, or --resume FOLDER")
        folder = cal.start(file, results, seed, sys.argv, draws, replications)
    manifest = read_manifest(folder)
    total, settings = len(manifest["points"]), manifest["settings"]
    out.print(f"calibration {manifest['name']} of {manifest['scenario']}: {total} prior draws x "
              f"{settings['replications']} replications, {len(manifest['observations'])} observations, accepting the "
              f"nearest {settings['accept_share']:.0%}; seed {manifest['seed']}; folder {folder}", highlight=False,
              soft_wrap=True)
    with Progress(TextColumn("prior draws"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("eta"), TimeRemainingColumn(), console=err, transient=True) as progress:
        task = progress.add_task("draws", total=total)
        try:
            result = cal.run(folder, runner.checked_workers(workers), lambda _i: progress.advance(task))
        except SweepError as exc:
            err.print(f"[bold red]calibration stopped:[/] {exc}\nfinished draws are kept; after fixing the cause: "
                      f"resim calibrate --resume {folder}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    table = Table(title="prior against posterior (weighted)", title_justify="left")
    for name in ("parameter", "prior mean (sd)", "posterior mean (sd)", "posterior p5 - p95", "sd ratio"):
        table.add_column(name, justify="left" if name == "parameter" else "right")
    for path, p in result["parameters"].items():
        table.add_row(path, f"{p['prior_mean']:.3g} ({p['prior_sd']:.2g})",
                      f"{p['posterior_mean']:.3g} ({p['posterior_sd']:.2g})",
                      f"{p['posterior_p5']:.3g} - {p['posterior_p95']:.3g}",
                      f"{p['posterior_sd'] / p['prior_sd']:.2f}" if p["prior_sd"] > 0 else "-")
    out.print(table)
    out.print(f"accepted {result['accepted']} of {total} ({result['acceptance_share']:.0%}); distance threshold "
              f"{result['distance_threshold']:.3g} (best {result['best_distance']:.3g}, in observation SDs); "
              f"effective sample size {result['effective_sample_size']:.1f}", highlight=False, soft_wrap=True)
    out.print(f"posterior: {folder}  (use it with `posterior: {folder}` in a scenario)", highlight=False,
              soft_wrap=True)


@app.command("sweep")
@friendly
def sweep_command(
    file: Annotated[Path | None, typer.Argument(help="A scenario file (with --vary) or a sweep file (sweeps/*.yaml).",
                                                show_default=False)] = None,
    vary: Annotated[list[str] | None, typer.Option("--vary", help="PATH=LOW:HIGH[:LEVELS] or PATH=V1,V2,... "
                                                   "(a dotted scenario field; repeat for more).")] = None,
    design: Annotated[str, typer.Option(help="grid, oat (one at a time: tornado chart), lhs or sobol.")] = "grid",
    points: Annotated[int | None, typer.Option(min=1, help="Points for lhs/sobol (default 64).")] = None,
    replications: Annotated[int | None, typer.Option("--replications", "-n", min=2, help="Replications per point "
                                                     "(default: the sweep file's, or 100).")] = None,
    seed: Seed = None,
    workers: Workers = None,
    results: Results = Path("results"),
    resume: Annotated[Path | None, typer.Option(help="Finish an interrupted sweep in this folder.")] = None,
    analyze: Annotated[str | None, typer.Option(help="sobol or morris: global sensitivity with SALib (sets the "
                                                "design to saltelli or morris).")] = None,
    outcome: Annotated[str, typer.Option(help="Point outcome to analyse.")] = "mean_cumulative_shortfall_t",
    dask: Annotated[str | None, typer.Option(help="Run the points on an existing dask.distributed cluster "
                                             "(scheduler address, e.g. tcp://10.0.0.5:8786).")] = None,
    as_json: AsJson = False,
) -> None:
    """Sweep scenario fields over a design; each point's outcomes are saved as soon as it finishes."""
    from resim import pipeline
    from resim.analysis import sweep
    from resim.analysis.sweep import SweepError
    from resim.montecarlo import runner

    _tables_to_stderr(as_json)
    if resume is not None:
        left, total = sweep.check_resumable(resume)
        out.print(f"resuming: {left} of {total} points to compute", highlight=False)
        folder = resume
    else:
        if file is None:
            raise InputError.one(None, "give a scenario file with --vary, a sweep file, or --resume FOLDER")
        folder = pipeline.start_sweep(file, vary, design, points, replications, seed, analyze, results, dask)
    manifest = read_manifest(folder)
    total = len(manifest["points"])
    out.print(f"sweep {manifest['spec']['name']}: {total} points x {manifest['spec']['replications']} replications "
              f"({manifest['spec']['design']} design), seed {manifest['seed']}; folder {folder}", highlight=False,
              soft_wrap=True)
    with Progress(TextColumn("points"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"),
                  TimeRemainingColumn(), console=err, transient=True) as progress:
        task = progress.add_task("points", total=total)
        try:
            table = sweep.run(folder, runner.checked_workers(workers), lambda _i: progress.advance(task), dask)
        except SweepError as exc:
            err.print(f"[bold red]sweep stopped:[/] {exc}\nfinished points are kept; after fixing the cause: "
                      f"resim sweep --resume {folder}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    _show_sweep(table)
    indices = sweep.analyze(folder, analyze, outcome) if analyze else None
    if analyze and indices is not None:
        _show_sensitivity(analyze, indices, outcome, folder)
    if as_json:

        _emit({"results": str(folder), "points": read_table(table).to_pylist(),
               **({"sensitivity": indices} if indices is not None else {})})


def _show_sensitivity(method: str, rows: list[dict[str, Any]], outcome: str, folder: Path) -> None:
    from resim.analysis.indices import too_small

    table = Table(title=f"{method} sensitivity of {outcome}, most important first (95% intervals)",
                  title_justify="left")
    keys = ["S1", "ST"] if method == "sobol" else ["mu_star", "sigma"]
    for name in ["parameter", *keys]:
        table.add_column(name, justify="left" if name == "parameter" else "right")
    for r in rows:
        table.add_row(r["parameter"], *(f"{r[k]:.3g}" + (f" +-{r[k + '_conf']:.2g}" if k + "_conf" in r else "")
                                        for k in keys))
    out.print(table)
    for warning in too_small(method, rows):
        err.print(f"[yellow]warning: interval too wide, the sample is too small ({warning}); raise --points[/]",
                  highlight=False, soft_wrap=True)
    out.print(f"sensitivity: {folder / 'sensitivity.parquet'}, {folder / 'sensitivity.png'}", highlight=False,
              soft_wrap=True)


def _show_sweep(path: Path) -> None:

    rows = read_table(path).to_pylist()
    params = [k for k in rows[0] if k.startswith("param.")]
    table = Table(title=f"{len(rows)} points (first 20); outcomes over the horizon with 95% intervals",
                  title_justify="left")
    for name in ["point", *(p.removeprefix("param.") for p in params), "mean cumulative shortfall t",
                 "P(any shortfall)"]:
        table.add_column(name, justify="right")
    for row in rows[:20]:
        table.add_row(str(row["point"]), *(f"{row[p]:.4g}" for p in params),
                      f"{row['mean_cumulative_shortfall_t']:,.0f} [{row['mean_cumulative_shortfall_t_low']:,.0f}, "
                      f"{row['mean_cumulative_shortfall_t_high']:,.0f}]",
                      f"{row['p_any_shortfall']:.2f}")
    out.print(table)
    out.print(f"points: {path}", highlight=False, soft_wrap=True)


class By(StrEnum):
    mechanism = "mechanism"
    parameter = "parameter"


def _parse_groups(items: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for item in items:
        name, sep, patterns = item.partition("=")
        if not sep or not name or not patterns.strip():
            raise InputError.one(None, f"{item!r}; allowed: NAME=GLOB[,GLOB...], e.g. licensing=china.licensing.*",
                                 field="--group")
        groups.setdefault(name, []).extend(p.strip() for p in patterns.split(",") if p.strip())
    return groups


def _parse_sets(items: list[str]) -> dict[str, Any]:
    import yaml

    sets: dict[str, Any] = {}
    for item in items:
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise InputError.one(None, f"{item!r}; allowed: PATH=VALUE, e.g. horizon_months=60", field="--set")
        sets[path] = yaml.safe_load(value)
    return sets


@app.command("sensitivity")
@friendly
def sensitivity_command(
    scenario_file: Annotated[Path | None, typer.Argument(help="A scenario file.", show_default=False)] = None,
    n: Annotated[int, typer.Option("--n", "-N", help="Base samples N (a power of two); points: N x (groups + 2), "
                                   "one replication each.")] = 256,
    by: Annotated[By, typer.Option(help="Group the factors by mechanism, or one per uncertain parameter.")] = \
        By.mechanism,
    group: Annotated[list[str] | None, typer.Option("--group", help="NAME=GLOB[,GLOB...]: the factors matching "
                                                    "form one group, before --by applies (repeat for more).")] = None,
    outcome: Annotated[list[PrecisionOutcome] | None, typer.Option(
        "--outcome", help="Run outcome(s) to analyse (default cumulative_shortfall_t); each over the reported "
                          "months and per year.")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="PATH=VALUE override of the scenario, e.g. "
                                                   "horizon_months=60 (repeat for more).")] = None,
    list_factors: Annotated[bool, typer.Option("--list", help="Show the factors and their groups; run nothing.")] = \
        False,
    seed: Seed = None,
    workers: Workers = None,
    results: Results = Path("results"),
    resume: Annotated[Path | None, typer.Option(help="Finish an interrupted analysis in this folder.")] = None,
    dask: Annotated[str | None, typer.Option(help="Run the points on an existing dask.distributed cluster "
                                             "(scheduler address).")] = None,
    as_json: AsJson = False,
) -> None:
    """Which assumptions drive the outcome? Sobol indices over every uncertainty the scenario declares
    (its own distributions, regime outcomes and rule-set choices, and per-event luck as one factor)."""
    from resim import pipeline
    from resim.analysis import wholemodel as gs
    from resim.analysis.sweep import SweepError
    from resim.montecarlo import runner

    _tables_to_stderr(as_json)
    outcomes = [o.value for o in outcome] if outcome else None
    if resume is not None:
        manifest = gs.check_resumable(resume)
        left, total = gs.batches_left(resume)
        out.print(f"resuming: {left} of {total} batches to compute", highlight=False)
        folder = resume
    else:
        if scenario_file is None:
            raise InputError.one(None, "give a scenario file, or --resume FOLDER")
        overrides = _parse_sets(set_ or [])
        user = _parse_groups(group or [])
        if list_factors:
            _show_factors(gs.factor_table(scenario_file, by.value, user, overrides))
            return
        folder = pipeline.start_sensitivity(scenario_file, n, by.value, user, overrides, seed, outcomes, results, dask)
    manifest = read_manifest(folder)
    outcomes = outcomes or manifest["outcomes"]
    out.print(f"sensitivity of {Path(manifest['model']).stem}: {len(manifest['factors'])} factors in "
              f"{len(set(manifest['groups']))} groups; {manifest['points']:,} points ({manifest['base_samples']} base "
              f"samples, one replication each), seed {manifest['seed']}; folder {folder}", highlight=False,
              soft_wrap=True)
    with Progress(TextColumn("points"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"),
                  TimeRemainingColumn(), console=err, transient=True) as progress:
        task = progress.add_task("points", total=manifest["points"])
        size = manifest["batch"]
        try:
            gs.run(folder, runner.checked_workers(workers), lambda _b: progress.advance(task, size), dask)
        except SweepError as exc:
            err.print(f"[bold red]sensitivity stopped:[/] {exc}\nfinished batches are kept; after fixing the cause: "
                      f"resim sensitivity --resume {folder}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    analysis = gs.analyze(folder, outcomes)
    _show_indices(analysis)
    if as_json:
        _emit({"results": str(folder), "indices": analysis.indices, "convergence": analysis.convergence,
               "warnings": analysis.warnings})


def _show_factors(rows: list[dict[str, str]]) -> None:
    table = Table(title=f"{len(rows)} factors and their groups", title_justify="left")
    for name in ("factor", "group", "what the group is"):
        table.add_column(name)
    for r in rows:
        table.add_row(r["factor"], r["group"], r["about"])
    out.print(table)


def _show_indices(analysis: Any) -> None:
    for outcome in dict.fromkeys(r["outcome"] for r in analysis.indices):
        mine = [r for r in analysis.indices if r["outcome"] == outcome]
        ranked = [r for r in mine if r["period"] == "all"]
        years = sorted({r["period"] for r in mine if r["period"] != "all"})
        st = {(r["factor"], r["period"]): r["ST"] for r in mine}
        table = Table(title=f"what drives {outcome} (reported months), most important first: Sobol indices with 95% "
                            "intervals, then the total index per year", title_justify="left",
                      caption="S1: share of the variance a group explains alone; ST: with its interactions",
                      caption_justify="left")
        for name in ("rank", "group", "S1", "ST", *years):
            table.add_column(name, justify="left" if name == "group" else "right")
        for i, r in enumerate(ranked, 1):
            table.add_row(str(i), r["factor"], f"{r['S1']:.2f} +-{r['S1_conf']:.2f}",
                          f"{r['ST']:.2f} +-{r['ST_conf']:.2f}", *(f"{st.get((r['factor'], y), 0):.2f}" for y in years))
        out.print(table)
    for warning in analysis.warnings:
        err.print(f"[yellow]warning: {escape(warning)}[/]", highlight=False, soft_wrap=True)
    folder = analysis.folder
    out.print(f"indices: {folder / 'indices.parquet'}; charts: {folder / 'indices.png'}, "
              f"{folder / 'indices_over_time.png'}, {folder / 'convergence.png'}", highlight=False, soft_wrap=True)


class Discovery(StrEnum):
    cart = "cart"
    prim = "prim"


@app.command()
@friendly
def discover(
    sweep_run: Annotated[Path, typer.Argument(help="A finished sweep folder (results/sweeps/<name>/<run-id>).",
                                              show_default=False)],
    outcome: Annotated[str, typer.Option(help="Point outcome that defines severe.")] = "mean_cumulative_shortfall_t",
    above: Annotated[float, typer.Option(help="Severe: the outcome is above this.")] = 1000.0,
    max_depth: Annotated[int, typer.Option(min=1, max=8, help="Depth of the CART tree (box complexity).")] = 3,
    method: Annotated[Discovery, typer.Option(help="cart: a classification tree's boxes; prim: PRIM's box "
                                              "(EMA Workbench) and its coverage-density trade-off.")] = Discovery.cart,
    density: Annotated[float, typer.Option(min=0.0, max=1.0, help="PRIM: the least density of the box "
                                           "reported (the most coverage at it).")] = 0.8,
) -> None:
    """Find the parameter ranges (boxes) that lead to severe shortfall, with coverage and density."""
    from resim.analysis.discovery import discover as find_boxes

    boxes = find_boxes(sweep_run, outcome, above, max_depth, method=method.value, density=density)
    how = f"CART tree, depth {max_depth}" if method == "cart" else f"PRIM, density at least {density:g}"
    table = Table(title=f"boxes where {outcome} > {above:g} ({how}); densest first",
                  caption="coverage: share of all severe points inside the box; density: share of the box's points "
                          "that are severe", caption_justify="left", title_justify="left")
    for name in ("box", "parameter ranges", "points", "coverage", "density"):
        table.add_column(name, justify="left" if name == "parameter ranges" else "right")
    for i, b in enumerate(boxes, 1):
        table.add_row(str(i), b.describe(), str(b.points), f"{b.coverage:.2f}", f"{b.density:.2f}")
    out.print(table)
    if method == "prim":
        out.print(f"trade-off: {sweep_run / 'prim_tradeoff.png'}", highlight=False, soft_wrap=True)
    out.print(f"boxes: {sweep_run / 'discovery.json'}", highlight=False, soft_wrap=True)


@app.command()
@friendly
def report(
    run_dirs: Annotated[list[Path], typer.Argument(help="Results folders; with several, the first is the "
                                                   "reference of a comparison.", show_default=False)],
    output: Annotated[Path | None, typer.Option("--out", "-o", help="HTML file (default: RUN_DIR/report.html, "
                                                "or results/reports/ for several runs).")] = None,
    results: Results = Path("results"),
) -> None:
    """Write one self-contained HTML report (images inlined, opens from disk) for runs."""
    from resim.report import default_report_path, html_report

    target = output or default_report_path(run_dirs, results)
    check_writable(target.parent)
    path = html_report(run_dirs, target)
    out.print(f"report: {path}", highlight=False, soft_wrap=True)


@app.command("check")
@friendly
def check_command(
    scenarios: Annotated[Path | None, typer.Option(
        help="Folder of scenarios to run in check mode (default: ./scenarios, else the shipped ones).")] = None,
    replications: Annotated[int, typer.Option("--replications", "-n", min=1,
                                              help="Replications per scenario in check mode.")] = 5,
    as_json: AsJson = False,
) -> None:
    """Show the model's credentials: analytic oracles, and every scenario run with its books checked."""
    from resim import pipeline
    from resim.analysis import oracles

    _tables_to_stderr(as_json)
    files = pipeline.scenario_files(scenarios)  # before the oracles' minutes: a wrong folder fails at once
    table = Table(title="resim check: analytic oracles (99% intervals from the replications)",
                  title_justify="left")
    for name in ("oracle", "what", "unit", "expected", "simulated [99% CI]", "reps", "result"):
        table.add_column(name, overflow="fold")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True) as progress:
        task = progress.add_task("oracles", total=len(oracles.ORACLES))
        results = pipeline.run_oracles(lambda: progress.advance(task))
    for r in results:
        table.add_row(r.name, r.what, r.unit, f"{r.expected:.4g}", f"{r.simulated:.4g} [{r.ci[0]:.4g}, {r.ci[1]:.4g}]",
                      str(r.replications), "[green]pass[/]" if r.passed else "[bold red]FAIL[/]")
    out.print(table)
    checked = Table(title=f"every scenario in {files[0].parent}/, {replications} replications each, books checked "
                          "after every event", title_justify="left")
    for name in ("scenario", "months", "replications", "result"):
        checked.add_column(name)
    runs = pipeline.check_scenarios(files, replications)
    for c in runs:
        checked.add_row(c.scenario, str(c.months), str(c.replications),
                        "[green]pass[/]" if c.passed else f"[bold red]FAIL[/] {c.error}")
    out.print(checked)
    failures = sum(not r.passed for r in results) + sum(not c.passed for c in runs)
    out.print("all checks pass" if failures == 0 else f"[bold red]{failures} check(s) failed[/]")
    if as_json:
        _emit({"passed": failures == 0,
               "scenarios": [{"scenario": c.scenario, "replications": c.replications, "passed": c.passed,
                              **({"error": c.error} if c.error else {})} for c in runs],
               "oracles": [{"name": r.name, "what": r.what, "unit": r.unit, "expected": r.expected,
                            "simulated": r.simulated, "ci99": list(r.ci), "replications": r.replications,
                            "passed": r.passed} for r in results]})
    if failures:
        raise typer.Exit(1)


@app.command()
@friendly
def validate(scenario_file: ScenarioFile) -> None:
    """Check a scenario file (schema, references to seeds/, dates) without running it."""
    loaded = load(scenario_file)
    chain = " -> ".join(p.name for p in loaded.files)
    count = sum(1 for _ in iter_specs(loaded.scenario))
    sc = loaded.scenario
    reported = "" if sc.report_offset == 0 else f", reported from {sc.report_from}"
    out.print(f"ok: {sc.name} ({chain}); {count} parameters, {sc.horizon_months} months from {sc.start}{reported}",
              highlight=False)


@app.command()
@friendly
def init(target: Annotated[Path, typer.Argument(help="Folder to write into (created if needed).",
                                                show_default=False)] = Path(".")) -> None:
    """Write the shipped seeds, scenarios, sweeps, observations, posteriors and schemas into a folder,
    to run and edit them (an installed resim also finds its seeds without this)."""
    from resim.scenario import bundled

    for path in bundled.init(target):
        out.print(f"wrote {path}/ ({sum(1 for p in path.rglob('*') if p.is_file())} files)", highlight=False)
    out.print(f"try: cd {target} && resim run scenarios/pause_ends.yaml", highlight=False, soft_wrap=True)


@app.command()
def schema(overlay: Annotated[bool, typer.Option(help="The schema of a file that `extends:` another (every "
                                                   "field optional, dotted keys allowed).")] = False) -> None:
    """Print the scenario JSON Schema (for editors and validators); the repository ships both in
    schema/."""
    from resim.scenario.schema import json_schema

    sys.stdout.write(json.dumps(json_schema(overlay), indent=1) + "\n")


@app.command()
@friendly
def sources(scenario_file: ScenarioFile) -> None:
    """List every resolved parameter with its value, unit and where it came from, then the structural
    choices (what each rule set licenses or may license, and the dated regime changes)."""
    loaded = load(scenario_file)
    table = Table(title=f"{loaded.scenario.name}: parameters and their sources", title_justify="left",
                  show_lines=False)
    for name in ("parameter", "value or distribution", "p5 - p95", "unit", "drawn", "source", "set in"):
        table.add_column(name, overflow="fold")
    rows = parameter_rows(loaded)
    for row in rows:
        table.add_row(*(row[k] or ("[yellow]none[/]" if k == "source" else "") for k in
                        ("parameter", "value", "p5_p95", "unit", "drawn", "source", "set_in")))
    out.print(table)
    choices = Table(title="structural choices: what each rule set licenses, the dated changes, and non-China contracts",
                    title_justify="left")
    for name in ("choice", "what", "basis", "set in"):
        choices.add_column(name, overflow="fold")
    for row in structural_rows(loaded):
        choices.add_row(row["choice"], row["what"], row["basis"] or "[yellow]none[/]", row["set_in"])
    out.print(choices)
    unsourced = sum(1 for row in rows if not row["source"])
    if unsourced:
        out.print(f"[yellow]{unsourced} parameter(s) have no source: give them {{ref: id}} or `source:`[/]")


if __name__ == "__main__":  # pragma: no cover
    app()
