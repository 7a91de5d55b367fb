"""The `resim` command line: a thin layer that calls the stages (load -> run -> write -> show)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from resim.errors import InputError
from resim.loader import Loaded, load
from resim.params import Fixed, _Spec
from resim.scenario import Scenario
from resim.tree import is_per_event, iter_specs

app = typer.Typer(
    help="resim: how short of rare-earth magnets India's EV makers may be, month by month, "
    "under China's export controls. Scenarios are YAML files (see scenarios/).",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

ScenarioFile = Annotated[Path, typer.Argument(help="Scenario YAML file, e.g. scenarios/pause_ends.yaml.",
                                              show_default=False)]


def friendly(command: F) -> F:
    """Show input errors in one screen with exit code 2, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            err.print(f"[bold red]error:[/] {len(exc.problems)} problem(s) in the input", highlight=False)
            for problem in exc.problems:
                err.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


@app.command()
@friendly
def run(
    scenario_file: ScenarioFile,
    replications: Annotated[int | None, typer.Option("--replications", "-n", min=1,
                                                     help="Replications (default: the scenario's).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Master seed (default: the scenario's).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1,
                                                help="Local processes (default: all cores).")] = None,
    results: Annotated[Path, typer.Option("--results", help="Folder for results.")] = Path("results"),
) -> None:
    """Run a scenario many times (Monte Carlo) and write the distribution of monthly shortfall."""
    from resim import runner
    from resim.results import RunWriter

    loaded = load(scenario_file)
    sc = loaded.scenario
    n = replications or sc.replications
    seed_ = sc.seed if seed is None else seed
    n_workers = workers or runner.default_workers()
    out.print(f"[bold]{sc.name}[/]: {sc.question}", highlight=False)
    out.print(f"{n} replications, seed {seed_}, {sc.horizon_months} months from {sc.start}, "
              f"{n_workers} worker(s)", highlight=False)
    progress = Progress(TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("eta"), TimeRemainingColumn(), console=err, transient=True)
    with RunWriter(results, sc, seed_, n) as writer, progress:
        task = progress.add_task("replications", total=n)
        for chunk in runner.run(sc, n, seed_, n_workers):
            writer.add(chunk)
            progress.advance(task, len(chunk))
        folder = writer.finish(sys.argv, n_workers)
    _show_run(folder)


def _show_run(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    table = Table(title=f"{manifest['scenario']}: EV NdFeB magnet shortfall by year "
                        f"({manifest['replications']} replications)", title_justify="left",
                  caption="%: shortfall as % of EV NdFeB demand; t: tonnes of NdFeB; "
                          "P: share of replications with a short month", caption_justify="left")
    for name in ("year", "median %", "p5 - p95 %", "median t", "P(short)"):
        table.add_column(name, justify="right")
    for row in manifest["yearly"]:
        year = f"{row['year']}" + ("" if row["months"] == 12 else f" ({row['months']} mo)")
        table.add_row(year, f"{row['shortfall_pct_p50']:.1f}",
                      f"{row['shortfall_pct_p5']:.1f} - {row['shortfall_pct_p95']:.1f}",
                      f"{row['shortfall_t_p50']:,.0f}", f"{row['p_any_shortfall']:.2f}")
    out.print(table)
    s = manifest["run_summary"]
    cum = s["cumulative_shortfall_t"]
    out.print(f"cumulative shortfall over the horizon: median {cum['p50']:,.0f} t NdFeB "
              f"(p5 {cum['p5']:,.0f} - p95 {cum['p95']:,.0f}); P(any shortfall) {s['p_any_shortfall']:.2f}; "
              f"median vehicles not built {s['cumulative_vehicles_not_built_p50']:,.0f}", highlight=False)
    out.print(f"results: {folder}  (wall time {manifest['wall_time_s']:.1f} s)", highlight=False,
              soft_wrap=True)


@app.command()
@friendly
def validate(scenario_file: ScenarioFile) -> None:
    """Check a scenario file (schema, references to seeds/, dates) without running it."""
    loaded = load(scenario_file)
    chain = " -> ".join(p.name for p in loaded.files)
    count = sum(1 for _ in iter_specs(loaded.scenario))
    out.print(f"ok: {loaded.scenario.name} ({chain}); {count} parameters, "
              f"{loaded.scenario.horizon_months} months from {loaded.scenario.start}", highlight=False)


@app.command()
def schema() -> None:
    """Print the scenario JSON Schema (for editors and validators)."""
    out.print_json(json.dumps(Scenario.model_json_schema(by_alias=True)))


@app.command()
@friendly
def sources(scenario_file: ScenarioFile) -> None:
    """List every resolved parameter with its value, unit and where it came from."""
    loaded = load(scenario_file)
    table = Table(title=f"{loaded.scenario.name}: parameters and their sources", title_justify="left",
                  show_lines=False)
    for name in ("parameter", "value or distribution", "p5 - p95", "unit", "drawn", "source", "set in"):
        table.add_column(name, overflow="fold")
    unsourced = 0
    for path, spec, field in iter_specs(loaded.scenario):
        source = _source_text(loaded, spec)
        unsourced += source == ""
        table.add_row(path, spec.describe(), _spread(spec), unit_of(path),
                      "per event" if is_per_event(field) else "per replication", source or "[yellow]none[/]",
                      loaded.where(path))
    out.print(table)
    if unsourced:
        out.print(f"[yellow]{unsourced} parameter(s) have no source: give them {{ref: id}} or `source:`[/]")


def _spread(spec: _Spec) -> str:
    if spec.is_fixed:
        return ""
    low, high = spec.ppf(0.05), spec.ppf(0.95)
    return f"{low:.3g} - {high:.3g}"


def _source_text(loaded: Loaded, spec: _Spec) -> str:
    if not spec.source:
        return "" if not (isinstance(spec, Fixed) and spec.value == 0) else "zero (not used)"
    ids = [s.strip() for s in spec.source.split(",")]
    known = [loaded.figures[i] for i in ids if i in loaded.figures]
    if not known:
        return spec.source
    return "; ".join(f.citation for f in known)


UNIT_SUFFIXES = [
    ("_t_per_year", "t/yr"), ("units_per_year", "vehicles/yr"), ("growth_per_year", "1/yr"),
    ("_kg_per_vehicle", "kg/vehicle"), ("_t_per_t_magnet", "t/t magnet"), ("_t_per_month", "t/month"),
    ("_days", "days"), ("_months", "months"), ("_weeks", "weeks"), ("_share", "fraction"),
    ("_probability", "probability"),
]


def unit_of(path: str) -> str:
    name = path.rsplit(".", 1)[-1]
    return next((unit for suffix, unit in UNIT_SUFFIXES if name.endswith(suffix)), "")


if __name__ == "__main__":  # pragma: no cover
    app()
