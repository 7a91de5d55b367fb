"""The `resim` commands: options, a pipeline call, a view, an exit code."""

from __future__ import annotations

import json
import sys
import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from resim.cli import views
from resim.cli.exits import FAILED, exit_codes
from resim.errors import InputError, ResimWarning
from resim.folders import check_writable, read_manifest, read_table
from resim.results.statistics import OUTCOMES
from resim.scenario.loader import load
from resim.scenario.provenance import parameter_rows, structural_rows
from resim.scenario.schema import MAX_SEED
from resim.scenario.walk import iter_specs

app = typer.Typer(
    help="resim: how short of rare-earth magnets India's EV makers may be, month by month, "
    "under China's export controls. Scenarios are YAML files (see scenarios/). Exit codes: 0 done, 1 a "
    "file-system failure or a failed sweep point, 2 bad input, 3 a failed model check, 130 interrupted.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from resim import __version__
        from resim.model import COMPILED

        build = "compiled with mypyc" if COMPILED else \
            "plain Python: about 3-4x slower a replication than `pip install .` with a C compiler"
        print(f"resim {__version__} ({build})")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print resim's version and exit.")
    ] = False,
) -> None:
    """Options for every command (the help text is the app's)."""
    warnings.filterwarnings("ignore", category=ResimWarning)  # the views print each caveat in their own words


ScenarioFile = Annotated[
    Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/pause_ends.yaml.", show_default=False)
]


Replications = Annotated[
    int | None, typer.Option("--replications", "-n", min=1, help="Replications (default: the scenario's).")
]


Seed = Annotated[int | None, typer.Option(min=0, max=MAX_SEED, help="Master seed (default: the scenario's).")]


Workers = Annotated[int | None, typer.Option("--workers", "-w", min=1, help="Local processes (default: all cores).")]


Results = Annotated[Path, typer.Option("--results", help="Folder for results.")]


AsJson = Annotated[
    bool, typer.Option("--json", help="Print the figures as JSON on standard output; the tables go to standard error.")
]


Check = Annotated[
    bool,
    typer.Option(
        "--check", help="Check after every event that no stock is negative and every node's books balance (slower)."
    ),
]


PrecisionOutcome = StrEnum("PrecisionOutcome", {name: name for name in OUTCOMES})  # type: ignore[misc]


@app.command()
@exit_codes
def run(
    scenario_file: ScenarioFile,
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = None,
    results: Results = Path("results"),
    check: Check = False,
    precision: Annotated[
        float | None,
        typer.Option(
            min=0.0001,
            max=1.0,
            help="Add replications (doubling, from -n) until the 95% interval of the mean of "
            "--precision-of is within this fraction of it, e.g. 0.05.",
        ),
    ] = None,
    precision_of: Annotated[
        PrecisionOutcome,
        typer.Option(help="Outcome (per replication, over the horizon) whose mean --precision targets."),
    ] = PrecisionOutcome.cumulative_shortfall_t,  # type: ignore[attr-defined]
    max_replications: Annotated[int, typer.Option(min=1, help="Cap for --precision.")] = 20_000,
    dask: Annotated[
        str | None,
        typer.Option(
            help="Run the replications on an existing dask.distributed "
            "cluster (scheduler address); same results as local processes."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Run a scenario many times (Monte Carlo) and write the distribution of monthly shortfall."""
    from resim.montecarlo import runner

    views.tables_to_stderr(as_json)
    target = (
        None
        if precision is None
        else (precision, str(precision_of.value), runner.checked_replications(max_replications, "--max-replications"))
    )
    if dask:  # reach the cluster, and check its workers, before anything is written
        from resim.montecarlo import cluster

        cluster.connect(dask).close()
    folder = _run(scenario_file, replications, seed, workers, results, check, target, dask)
    views.show_run(folder)
    if as_json:
        m = read_manifest(folder)
        views.emit(
            {
                "results": str(folder),
                **{
                    k: m[k]
                    for k in (
                        "scenario",
                        "question",
                        "seed",
                        "replications",
                        "start",
                        "report_from",
                        "reported_months",
                        "run_summary",
                        "yearly",
                    )
                },
            }
        )


def _run(
    scenario_file: Path,
    replications: int | None,
    seed: int | None,
    workers: int | None,
    results: Path,
    check: bool = False,
    target: tuple[float, str, int] | None = None,
    dask: str | None = None,
) -> Path:
    """Run a scenario with a header line and a progress bar; return its finished results folder."""
    from resim import pipeline

    started = pipeline.plan(scenario_file, replications, seed, workers)
    check_writable(results)
    views.run_header(started, dask)
    precision = None if target is None else pipeline.Precision(*target)
    with views.progress("simulating") as progress:
        task = progress.add_task("replications", total=started.replications)
        return pipeline.run_scenario(
            started,
            results=results,
            check=check,
            precision=precision,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            dask_scheduler=dask,
        )


RunsOrScenarios = Annotated[
    list[Path],
    typer.Argument(
        help="Results folders or scenario files (run first, with the same seed and replications); "
        "the first is the reference.",
        show_default=False,
    ),
]


@app.command("compare")
@exit_codes
def compare_command(
    runs: RunsOrScenarios,
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = None,
    results: Results = Path("results"),
    tolerance: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="A paired replication of B counts as worse when its "
            "shortfall exceeds A's by more than this many tonnes.",
        ),
    ] = 1.0,
    as_json: AsJson = False,
) -> None:
    """Compare runs with the first: paired differences when they share seed and replications."""
    from resim import pipeline
    from resim.report import outcome_rows

    views.tables_to_stderr(as_json)
    with views.progress("simulating") as progress:
        task = progress.add_task("replications", total=None)

        def planned(plan: pipeline.Plan) -> None:
            views.run_header(plan)
            progress.reset(task, total=plan.replications)

        folder, folders, comparisons = pipeline.compare(
            runs,
            replications,
            seed,
            workers,
            results,
            on_plan=planned,
            tolerance_t=tolerance,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    for c in comparisons:
        views.show_comparison(c)
    views.out.print(
        f"comparison: {folder}  (comparison.parquet, monthly_difference.parquet, comparison.png)",
        highlight=False,
        soft_wrap=True,
    )
    if as_json:
        views.emit({"results": str(folder), "runs": [str(f) for f in folders], "outcomes": outcome_rows(comparisons)})


@app.command()
@exit_codes
def calibrate(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="An observations file (observations/*.yaml): scenario, parameters to fit, observed figures.",
            show_default=False,
        ),
    ] = None,
    draws: Annotated[
        int | None, typer.Option(min=10, help="Parameter sets drawn from the priors (default: the file's, 200).")
    ] = None,
    replications: Annotated[
        int | None, typer.Option("--replications", "-n", min=1, help="Replications per set (default: the file's, 10).")
    ] = None,
    seed: Seed = None,
    workers: Workers = None,
    results: Results = Path("results"),
    resume: Annotated[Path | None, typer.Option(help="Finish an interrupted calibration in this folder.")] = None,
    dask: Annotated[
        str | None,
        typer.Option(help="Run the simulations on an existing dask.distributed cluster (scheduler address)."),
    ] = None,
) -> None:
    """Fit uncertain world parameters to observed history by approximate Bayesian computation
    (the scenario's distributions are the priors): rejection with kernel weights, or ABC-SMC with
    `method: smc` in the file. Writes results/calibrations/<name>/<run-id>/: posterior.parquet
    (accepted sets and weights), draws.parquet (every set, its simulated figures), prior_posterior.png
    and the manifest with diagnostics. A scenario uses it with `posterior: <folder>`."""
    from resim import pipeline

    with views.progress("simulations") as progress:
        task = progress.add_task("simulations", total=None)

        def started(folder: Path, manifest: dict[str, Any]) -> None:
            views.calibration_header(folder, manifest)
            progress.reset(task, total=len(manifest["points"]) or None)  # ABC-SMC: as many as it takes

        folder, result = pipeline.calibrate(
            file,
            draws,
            replications,
            seed,
            workers,
            results,
            resume,
            dask,
            on_start=started,
            on_point=lambda _i: progress.advance(task),
        )
    views.show_calibration(folder, result)


@app.command("sweep")
@exit_codes
def sweep_command(
    file: Annotated[
        Path | None,
        typer.Argument(help="A scenario file (with --vary) or a sweep file (sweeps/*.yaml).", show_default=False),
    ] = None,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            "--vary", help="PATH=LOW:HIGH[:LEVELS] or PATH=V1,V2,... (a dotted scenario field; repeat for more)."
        ),
    ] = None,
    design: Annotated[str, typer.Option(help="grid, oat (one at a time: tornado chart), lhs or sobol.")] = "grid",
    points: Annotated[int | None, typer.Option(min=1, help="Points for lhs/sobol (default 64).")] = None,
    replications: Annotated[
        int | None,
        typer.Option("--replications", "-n", min=2, help="Replications per point (default: the sweep file's, or 100)."),
    ] = None,
    seed: Seed = None,
    workers: Workers = None,
    results: Results = Path("results"),
    resume: Annotated[Path | None, typer.Option(help="Finish an interrupted sweep in this folder.")] = None,
    analyze: Annotated[
        str | None,
        typer.Option(help="sobol or morris: global sensitivity with SALib (sets the design to saltelli or morris)."),
    ] = None,
    outcome: Annotated[str, typer.Option(help="Point outcome to analyse.")] = "mean_cumulative_shortfall_t",
    dask: Annotated[
        str | None,
        typer.Option(
            help="Run the points on an existing dask.distributed cluster (scheduler address, e.g. tcp://10.0.0.5:8786)."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Sweep scenario fields over a design; each point's outcomes are saved as soon as it finishes."""
    from resim import pipeline

    views.tables_to_stderr(as_json)
    with views.progress("points") as progress:
        task = progress.add_task("points", total=None)

        def started(folder: Path, manifest: dict[str, Any]) -> None:
            views.sweep_header(folder, manifest)
            progress.reset(task, total=len(manifest["points"]))

        folder, table, indices = pipeline.sweep(
            file,
            vary,
            design,
            points,
            replications,
            seed,
            analyze,
            outcome,
            workers,
            results,
            resume,
            dask,
            on_start=started,
            on_point=lambda _i: progress.advance(task),
        )
    views.show_sweep(table)
    if analyze and indices is not None:
        views.show_sensitivity(analyze, indices, outcome, folder)
    if as_json:
        views.emit(
            {
                "results": str(folder),
                "points": read_table(table).to_pylist(),
                **({"sensitivity": indices} if indices is not None else {}),
            }
        )


class By(StrEnum):
    mechanism = "mechanism"
    parameter = "parameter"


def _parse_groups(items: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for item in items:
        name, sep, patterns = item.partition("=")
        if not sep or not name or not patterns.strip():
            raise InputError.one(
                None, f"{item!r}; allowed: NAME=GLOB[,GLOB...], e.g. licensing=china.licensing.*", field="--group"
            )
        groups.setdefault(name, []).extend(p.strip() for p in patterns.split(",") if p.strip())
    return groups


def _parse_sets(items: list[str]) -> dict[str, Any]:
    from resim.scenario.yamlfile import parse_value

    sets: dict[str, Any] = {}
    for item in items:
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise InputError.one(None, f"{item!r}; allowed: PATH=VALUE, e.g. horizon_months=60", field="--set")
        sets[path] = parse_value(value, f"--set {path}")
    return sets


@app.command("sensitivity")
@exit_codes
def sensitivity_command(
    scenario_file: Annotated[Path | None, typer.Argument(help="A scenario file.", show_default=False)] = None,
    n: Annotated[
        int,
        typer.Option(
            "--n", "-N", help="Base samples N (a power of two); points: N x (groups + 2), one replication each."
        ),
    ] = 256,
    by: Annotated[
        By, typer.Option(help="Group the factors by mechanism, or one per uncertain parameter.")
    ] = By.mechanism,
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            help="NAME=GLOB[,GLOB...]: the factors matching form one group, before --by applies (repeat for more).",
        ),
    ] = None,
    outcome: Annotated[
        list[PrecisionOutcome] | None,
        typer.Option(
            "--outcome",
            help="Run outcome(s) to analyse (default cumulative_shortfall_t); each over the reported "
            "months and per year.",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="PATH=VALUE override of the scenario, e.g. horizon_months=60 (repeat for more)."),
    ] = None,
    list_factors: Annotated[
        bool, typer.Option("--list", help="Show the factors and their groups; run nothing.")
    ] = False,
    seed: Seed = None,
    workers: Workers = None,
    results: Results = Path("results"),
    resume: Annotated[Path | None, typer.Option(help="Finish an interrupted analysis in this folder.")] = None,
    dask: Annotated[
        str | None, typer.Option(help="Run the points on an existing dask.distributed cluster (scheduler address).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Which assumptions drive the outcome? Sobol indices over every uncertainty the scenario declares
    (its own distributions, regime outcomes and rule-set choices, and per-event luck as one factor)."""
    from resim import pipeline
    from resim.analysis import wholemodel

    views.tables_to_stderr(as_json)
    outcomes = [o.value for o in outcome] if outcome else None
    overrides, user = _parse_sets(set_ or []), _parse_groups(group or [])
    if list_factors and scenario_file is not None and resume is None:
        views.show_factors(wholemodel.factor_table(scenario_file, by.value, user, overrides))
        return
    with views.progress("points") as progress:
        task = progress.add_task("points", total=None)
        batch = [0]

        def started(folder: Path, manifest: dict[str, Any]) -> None:
            views.sensitivity_header(folder, manifest)
            batch[0] = manifest["batch"]
            progress.reset(task, total=manifest["points"])

        analysis = pipeline.sensitivity(
            scenario_file,
            n,
            by.value,
            user,
            overrides,
            seed,
            outcomes,
            workers,
            results,
            resume,
            dask,
            on_start=started,
            on_batch=lambda _b: progress.advance(task, batch[0]),
        )
    views.show_indices(analysis)
    if as_json:
        views.emit(
            {
                "results": str(analysis.folder),
                "indices": analysis.indices,
                "convergence": analysis.convergence,
                "warnings": analysis.warnings,
            }
        )


class Discovery(StrEnum):
    cart = "cart"
    prim = "prim"


@app.command()
@exit_codes
def discover(
    sweep_run: Annotated[
        Path, typer.Argument(help="A finished sweep folder (results/sweeps/<name>/<run-id>).", show_default=False)
    ],
    outcome: Annotated[str, typer.Option(help="Point outcome that defines severe.")] = "mean_cumulative_shortfall_t",
    above: Annotated[float, typer.Option(help="Severe: the outcome is above this.")] = 1000.0,
    max_depth: Annotated[int, typer.Option(min=1, max=8, help="Depth of the CART tree (box complexity).")] = 3,
    method: Annotated[
        Discovery,
        typer.Option(
            help="cart: a classification tree's boxes; prim: PRIM's box "
            "(EMA Workbench) and its coverage-density trade-off."
        ),
    ] = Discovery.cart,
    density: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="PRIM: the least density of the box reported (the most coverage at it)."),
    ] = 0.8,
    box: Annotated[
        int | None,
        typer.Option(help="PRIM: report this box of the peeling trajectory instead (its number in the trade-off "
                          "chart and the JSON's trajectory)."),
    ] = None,
) -> None:
    """Find the parameter ranges (boxes) that lead to severe shortfall, with coverage and density."""
    from resim.analysis.discovery import discover as find_boxes

    found = find_boxes(sweep_run, outcome, above, max_depth, method=method.value, density=density, box=box)
    boxes = found.boxes
    if method == "cart":
        how = f"CART tree, depth {max_depth}"
    else:
        steps = len(found.trajectory["density"]) if found.trajectory else 0
        how = f"PRIM, box {found.picked} of the {steps} on its peeling trajectory" + (
            "" if box is not None else f": the most coverage at density {density:g} or more")
    table = Table(
        title=f"boxes where {outcome} > {above:g} ({how}); densest first",
        caption="coverage: share of all severe points inside the box; density: share of the box's points "
        "that are severe; quasi-p (PRIM): the chance that a restriction this strong is luck (one-sided binomial)",
        caption_justify="left",
        title_justify="left",
    )
    for name in ("box", "parameter ranges", "points", "coverage", "density"):
        table.add_column(name, justify="left" if name == "parameter ranges" else "right")
    for i, b in enumerate(boxes, 1):
        table.add_row(str(i), b.describe(), str(b.points), f"{b.coverage:.2f}", f"{b.density:.2f}")
    views.out.print(table)
    if method == "prim":
        views.out.print(f"trade-off: {found.record.with_suffix('.png')} (pick another box with --box)", highlight=False,
                        soft_wrap=True)
    views.out.print(f"boxes: {found.record}", highlight=False, soft_wrap=True)


@app.command()
@exit_codes
def report(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(
            help="Results folders; with several, the first is the reference of a comparison.", show_default=False
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="HTML file (default: RUN_DIR/report.html, or results/reports/ for several runs)."
        ),
    ] = None,
    results: Results = Path("results"),
) -> None:
    """Write one self-contained HTML report (images inlined, opens from disk) for runs."""
    from resim.report import default_report_path, html_report

    target = output or default_report_path(run_dirs, results)
    if target.is_dir():
        raise InputError.one(target, "is a folder; allowed: the path of an HTML file to write", field="--out")
    check_writable(target.parent, "--out")
    path = html_report(run_dirs, target)
    views.out.print(f"report: {path}", highlight=False, soft_wrap=True)


@app.command("check")
@exit_codes
def check_command(
    scenarios: Annotated[
        Path | None,
        typer.Option(help="Folder of scenarios to run in check mode (default: ./scenarios, else the shipped ones)."),
    ] = None,
    replications: Annotated[
        int, typer.Option("--replications", "-n", min=1, max=1000,
                          help="Replications per scenario in check mode (each event's books are checked: slow).")
    ] = 5,
    as_json: AsJson = False,
) -> None:
    """Show the model's credentials: analytic oracles, and every scenario run with its books checked."""
    from resim import pipeline
    from resim.analysis import oracles

    views.tables_to_stderr(as_json)
    files = pipeline.scenario_files(scenarios)  # before the oracles' minutes: a wrong folder fails at once
    table = Table(title="resim check: analytic oracles (99% intervals from the replications)", title_justify="left")
    for name in ("oracle", "what", "unit", "expected", "simulated [99% CI]", "reps", "result"):
        table.add_column(name, overflow="fold")
    with views.progress("oracles") as progress:
        task = progress.add_task("oracles", total=len(oracles.ORACLES))
        results = pipeline.run_oracles(lambda: progress.advance(task))
    for r in results:
        table.add_row(
            r.name,
            r.what,
            r.unit,
            f"{r.expected:.4g}",
            f"{r.simulated:.4g} [{r.ci[0]:.4g}, {r.ci[1]:.4g}]",
            str(r.replications),
            "[green]pass[/]" if r.passed else "[bold red]FAIL[/]",
        )
    views.out.print(table)
    checked = Table(
        title=f"every scenario in {files[0].parent}/, {replications} replications each, books checked "
        "after every event",
        title_justify="left",
    )
    for name in ("scenario", "months", "replications", "result"):
        checked.add_column(name)
    runs = pipeline.check_scenarios(files, replications)
    for c in runs:
        checked.add_row(
            c.scenario,
            str(c.months),
            str(c.replications),
            "[green]pass[/]" if c.passed else f"[bold red]FAIL[/] {c.error}",
        )
    views.out.print(checked)
    failures = sum(not r.passed for r in results) + sum(not c.passed for c in runs)
    views.out.print("all checks pass" if failures == 0 else f"[bold red]{failures} check(s) failed[/]")
    if as_json:
        views.emit(
            {
                "passed": failures == 0,
                "scenarios": [
                    {
                        "scenario": c.scenario,
                        "replications": c.replications,
                        "passed": c.passed,
                        **({"error": c.error} if c.error else {}),
                    }
                    for c in runs
                ],
                "oracles": [
                    {
                        "name": r.name,
                        "what": r.what,
                        "unit": r.unit,
                        "expected": r.expected,
                        "simulated": r.simulated,
                        "ci99": list(r.ci),
                        "replications": r.replications,
                        "passed": r.passed,
                    }
                    for r in results
                ],
            }
        )
    if failures:
        raise typer.Exit(FAILED)


@app.command()
@exit_codes
def validate(scenario_file: ScenarioFile) -> None:
    """Check a scenario file (schema, references to seeds/, dates) without running it."""
    loaded = load(scenario_file)
    chain = " -> ".join(p.name for p in loaded.files)
    count = sum(1 for _ in iter_specs(loaded.scenario))
    sc = loaded.scenario
    reported = "" if sc.report_offset == 0 else f", reported from {sc.report_from}"
    views.out.print(
        f"ok: {sc.name} ({chain}); {count} parameters, {sc.horizon_months} months from {sc.start}{reported}",
        highlight=False,
    )


@app.command()
@exit_codes
def init(
    target: Annotated[
        Path, typer.Argument(help="Folder to write into (created if needed).", show_default=False)
    ] = Path("."),
) -> None:
    """Write the shipped seeds, scenarios, sweeps, observations, posteriors and schemas into a folder,
    to run and edit them (an installed resim also finds its seeds without this)."""
    from resim.scenario import bundled

    check_writable(target, "TARGET")
    for path in bundled.init(target):
        views.out.print(f"wrote {path}/ ({sum(1 for p in path.rglob('*') if p.is_file())} files)", highlight=False)
    views.out.print(f"try: cd {target} && resim run scenarios/pause_ends.yaml", highlight=False, soft_wrap=True)


@app.command()
def schema(
    overlay: Annotated[
        bool,
        typer.Option(help="The schema of a file that `extends:` another (every field optional, dotted keys allowed)."),
    ] = False,
) -> None:
    """Print the scenario JSON Schema (for editors and validators); the repository ships both in
    schema/."""
    from resim.scenario.schema import json_schema

    sys.stdout.write(json.dumps(json_schema(overlay), indent=1) + "\n")


@app.command()
@exit_codes
def sources(scenario_file: ScenarioFile) -> None:
    """List every resolved parameter with its value, unit and where it came from, then the structural
    choices (what each rule set licenses or may license, and the dated regime changes)."""
    loaded = load(scenario_file)
    table = Table(title=f"{loaded.scenario.name}: parameters and their sources", title_justify="left", show_lines=False)
    for name in ("parameter", "value or distribution", "p5 - p95", "unit", "drawn", "source", "set in"):
        table.add_column(name, overflow="fold")
    rows = parameter_rows(loaded)
    for row in rows:
        table.add_row(
            *(
                row[k] or ("[yellow]none[/]" if k == "source" else "")
                for k in ("parameter", "value", "p5_p95", "unit", "drawn", "source", "set_in")
            )
        )
    views.out.print(table)
    choices = Table(
        title="structural choices: what each rule set licenses, the dated changes, and non-China contracts",
        title_justify="left",
    )
    for name in ("choice", "what", "basis", "set in"):
        choices.add_column(name, overflow="fold")
    for row in structural_rows(loaded):
        choices.add_row(row["choice"], row["what"], row["basis"] or "[yellow]none[/]", row["set_in"])
    views.out.print(choices)
    unsourced = sum(1 for row in rows if not row["source"])
    if unsourced:
        views.out.print(f"[yellow]{unsourced} parameter(s) have no source: give them {{ref: id}} or `source:`[/]")
