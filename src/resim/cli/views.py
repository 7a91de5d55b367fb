"""What the command line shows: the consoles, tables of results, and JSON documents. Only this
package prints; everything it shows comes from the pipeline's return values and the folders it wrote."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from resim.folders import json_text, read_manifest, read_table
from resim.results.statistics import OUTCOMES

PIPED_WIDTH = 200  # piped or redirected output is read by tools and wide pagers: do not wrap tables at 80


def consoles() -> tuple[Console, Console]:
    """Standard output and error; no emoji codes, so that "file.yaml:100:" prints as written; full
    width when not a terminal (rich's default of 80 columns cuts dotted paths)."""

    def console(stream: Any, stderr: bool) -> Console:
        wide = None if stream.isatty() or "COLUMNS" in os.environ else PIPED_WIDTH
        return Console(stderr=stderr, emoji=False, width=wide)

    return console(sys.stdout, False), console(sys.stderr, True)


out, err = consoles()


def reset() -> None:
    """Consoles sized by this invocation's environment (COLUMNS), not the importer's."""
    global out, err
    out, err = consoles()


def tables_to_stderr(on: bool) -> None:
    """With --json, standard output carries only the JSON document."""
    global out
    if on:
        out = err


def emit(document: dict[str, Any]) -> None:
    sys.stdout.write(json_text(document) + "\n")


def half(row: dict[str, float], key: str) -> float:
    """Half-width of a printed figure's 95% Monte Carlo interval (the larger side)."""
    return max(row[key] - row[f"{key}_low"], row[f"{key}_high"] - row[key])


def show_run(folder: Path) -> None:
    manifest = read_manifest(folder)
    table = Table(
        title=f"{manifest['scenario']}: EV NdFeB magnet shortfall by year ({manifest['replications']} replications)",
        title_justify="left",
        caption="%: shortfall as % of EV NdFeB demand; t: tonnes of NdFeB; P: share of replications "
        "with a short month; ±: 95% Monte Carlo uncertainty of the figure",
        caption_justify="left",
    )
    for name in ("year", "median %", "p5 - p95 %", "median t", "P(short)"):
        table.add_column(name, justify="right")
    for row in manifest["yearly"]:
        year = f"{row['year']}" + ("" if row["months"] == 12 else f" ({row['months']} mo)")
        tails = max(half(row, "shortfall_pct_p5"), half(row, "shortfall_pct_p95"))
        table.add_row(
            year,
            f"{row['shortfall_pct_p50']:.1f} ±{half(row, 'shortfall_pct_p50'):.1f}",
            f"{row['shortfall_pct_p5']:.1f} - {row['shortfall_pct_p95']:.1f} ±{tails:.1f}",
            f"{row['shortfall_t_p50']:,.0f} ±{half(row, 'shortfall_t_p50'):,.0f}",
            f"{row['p_any_shortfall']:.2f} ±{half(row, 'p_any_shortfall'):.2f}",
        )
    out.print(table)
    s = manifest["run_summary"]
    cum = s["cumulative_shortfall_t"]
    out.print(
        f"cumulative shortfall over the horizon: median {cum['p50']:,.0f} t NdFeB "
        f"(95% MC interval {cum['p50_low']:,.0f} - {cum['p50_high']:,.0f}; p5 {cum['p5']:,.0f} - "
        f"p95 {cum['p95']:,.0f}); P(any shortfall) {s['p_any_shortfall']:.2f}; "
        f"median vehicles not built {s['cumulative_vehicles_not_built_p50']:,.0f}",
        highlight=False,
    )
    worlds = manifest.get("by_outcome") or []
    if worlds:
        by = Table(title="cumulative shortfall by drawn outcome (weigh them with your own odds)",
                   title_justify="left", caption="t NdFeB over the reported months; ±: 95% interval of the mean",
                   caption_justify="left")
        for name in ("change", "outcome", "replications", "mean t", "median t", "P(short)"):
            by.add_column(name, justify="left" if name in ("change", "outcome") else "right")
        for row in worlds:
            by.add_row(row["change"], row["outcome"], f"{row['replications']:,} ({row['share']:.0%})",
                       f"{row['mean_t']:,.0f} ±{row['mean_half_width_t']:,.0f}", f"{row['median_t']:,.0f}",
                       f"{row['p_any_shortfall']:.2f}")
        out.print(by)
    if "precision" in manifest:
        p = manifest["precision"]
        out.print(
            f"precision: mean {p['outcome']} {p['mean']:,.1f} ± {100 * p['relative_half_width']:.1f}% (95%) "
            f"after {manifest['replications']} replications; target {100 * p['target']:.1f}%"
            + ("" if p["reached"] else f" NOT reached (cap {p['max_replications']})"),
            highlight=False,
            soft_wrap=True,
        )
    build = "compiled build" if manifest.get("model_compiled") else "plain Python build"
    out.print(f"results: {folder}  (wall time {manifest['wall_time_s']:.1f} s, {build})", highlight=False,
              soft_wrap=True)


def show_comparison(c: Any) -> None:
    from resim.analysis.compare import month_ranges

    a, b = c.reference.name, c.other.name
    pairing = (
        f"paired: same seed {c.reference.seed} and {len(c.reference.replications)} replications"
        if c.paired
        else "UNPAIRED: the runs differ in seed or replications, so intervals are wider"
    )
    table = Table(
        title=f"B = {b} against A = {a}\n({pairing})",
        title_justify="left",
        caption="over the horizon, per replication; [95% interval: bootstrap, Wilson for P]; worse = more "
        + (
            f"shortfall, by more than {c.tolerance_t:g} t in tonnes (any in the other units), in a paired replication"
            if c.paired
            else "shortfall in a draw of B than in one of A"
        )
        + "; medians and quantiles in comparison.parquet",
        caption_justify="left",
    )
    for name in ("outcome", "unit", "A mean", "B mean", "B - A mean [95% CI]", "P(B worse) [CI]"):
        table.add_column(name, justify="left" if name in ("outcome", "unit") else "right")
    for o in c.outcomes:
        table.add_row(
            OUTCOMES[o.outcome].label,
            o.unit,
            f"{o.a_mean:,.0f}",
            f"{o.b_mean:,.0f}",
            f"{o.mean_diff:+,.0f} [{o.mean_diff_ci[0]:+,.0f}, {o.mean_diff_ci[1]:+,.0f}]",
            f"{o.p_b_worse:.2f} [{o.p_b_worse_ci[0]:.2f}, {o.p_b_worse_ci[1]:.2f}]",
        )
    out.print(table)
    differs = c.monthly.differs
    out.print(
        f"months where B - A shortfall differs (95% interval of the mean excludes 0): "
        f"{int(differs.sum())} of {len(differs)}: {month_ranges(c.monthly.months, differs)}",
        highlight=False,
    )


def show_sensitivity(method: str, rows: list[dict[str, Any]], outcome: str, folder: Path) -> None:
    from resim.analysis.indices import too_small

    table = Table(
        title=f"{method} sensitivity of {outcome}, most important first (95% intervals)", title_justify="left"
    )
    keys = ["S1", "ST"] if method == "sobol" else ["mu_star", "sigma"]
    for name in ["parameter", *keys]:
        table.add_column(name, justify="left" if name == "parameter" else "right")
    for r in rows:
        table.add_row(
            r["parameter"], *(f"{r[k]:.3g}" + (f" +-{r[k + '_conf']:.2g}" if k + "_conf" in r else "") for k in keys)
        )
    out.print(table)
    for warning in too_small(method, rows):
        err.print(
            f"[yellow]warning: interval too wide, the sample is too small ({warning}); raise --points[/]",
            highlight=False,
            soft_wrap=True,
        )
    out.print(
        f"sensitivity: {folder / 'sensitivity.parquet'}, {folder / 'sensitivity.png'}", highlight=False, soft_wrap=True
    )


def show_sweep(path: Path) -> None:

    rows = read_table(path).to_pylist()
    params = [k for k in rows[0] if k.startswith("param.")]
    table = Table(
        title=f"{len(rows)} points (first 20); outcomes over the horizon with 95% intervals", title_justify="left"
    )
    for name in [
        "point",
        *(p.removeprefix("param.") for p in params),
        "mean cumulative shortfall t",
        "P(any shortfall)",
    ]:
        table.add_column(name, justify="right")
    for row in rows[:20]:
        table.add_row(
            str(row["point"]),
            *(f"{row[p]:.4g}" for p in params),
            f"{row['mean_cumulative_shortfall_t']:,.0f} [{row['mean_cumulative_shortfall_t_low']:,.0f}, "
            f"{row['mean_cumulative_shortfall_t_high']:,.0f}]",
            f"{row['p_any_shortfall']:.2f}",
        )
    out.print(table)
    out.print(f"points: {path}", highlight=False, soft_wrap=True)


def show_factors(rows: list[dict[str, str]]) -> None:
    table = Table(title=f"{len(rows)} factors and their groups", title_justify="left")
    for name in ("factor", "group", "what the group is"):
        table.add_column(name)
    for r in rows:
        table.add_row(r["factor"], r["group"], r["about"])
    out.print(table)


def show_indices(analysis: Any) -> None:
    for outcome in dict.fromkeys(r["outcome"] for r in analysis.indices):
        mine = [r for r in analysis.indices if r["outcome"] == outcome]
        ranked = [r for r in mine if r["period"] == "all"]
        years = sorted({r["period"] for r in mine if r["period"] != "all"})
        st = {(r["factor"], r["period"]): r["ST"] for r in mine}
        table = Table(
            title=f"what drives {outcome} (reported months), most important first: Sobol indices with 95% "
            "intervals, then the total index per year",
            title_justify="left",
            caption="S1: share of the variance a group explains alone; ST: with its interactions",
            caption_justify="left",
        )
        for name in ("rank", "group", "S1", "ST", *years):
            table.add_column(name, justify="left" if name == "group" else "right")
        for i, r in enumerate(ranked, 1):
            table.add_row(
                str(i),
                r["factor"],
                f"{r['S1']:.2f} +-{r['S1_conf']:.2f}",
                f"{r['ST']:.2f} +-{r['ST_conf']:.2f}",
                *(f"{st.get((r['factor'], y), 0):.2f}" for y in years),
            )
        out.print(table)
    for warning in analysis.warnings:
        err.print(f"[yellow]warning: {escape(warning)}[/]", highlight=False, soft_wrap=True)
    folder = analysis.folder
    out.print(
        f"indices: {folder / 'indices.parquet'}; charts: {folder / 'indices.png'}, "
        f"{folder / 'indices_over_time.png'}, {folder / 'convergence.png'}",
        highlight=False,
        soft_wrap=True,
    )


class _Progress(Progress):
    """A progress bar redrawn as work advances, with no refresh thread: worker pools fork while it
    shows, and forking a process with threads is unsafe (Python 3.12+ warns)."""

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self.refresh()

    def reset(self, task_id: TaskID, **kwargs: Any) -> None:
        super().reset(task_id, **kwargs)
        self.refresh()

    def update(self, task_id: TaskID, **kwargs: Any) -> None:
        super().update(task_id, **kwargs)
        self.refresh()


def progress(label: str) -> Progress:
    """A transient progress bar on standard error for long work: done of total, time spent and left."""
    return _Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        auto_refresh=False,
    )


def run_header(plan: Any, dask: str | None = None) -> None:
    """The two lines before a run: its question, then its design."""
    sc = plan.loaded.scenario
    out.print(f"[bold]{sc.name}[/]: {sc.question}", highlight=False)
    reported = "" if sc.report_offset == 0 else f", reported from {sc.report_from}"
    out.print(
        f"{plan.replications} replications, seed {plan.seed}, {sc.horizon_months} months from {sc.start}"
        f"{reported}, " + (f"Dask cluster {dask}" if dask else f"{plan.workers} worker(s)"),
        highlight=False,
    )


def _resuming(folder: Path, total: int, unit: str) -> None:
    done = len(list((folder / "points").glob("[0-9]*.parquet")))
    if done:
        out.print(f"resuming: {total - done} of {total} {unit} to compute", highlight=False)


def sweep_header(folder: Path, manifest: dict[str, Any]) -> None:
    spec, total = manifest["spec"], len(manifest["points"])
    _resuming(folder, total, "points")
    out.print(
        f"sweep {spec['name']}: {total} points x {spec['replications']} replications ({spec['design']} "
        f"design), seed {manifest['seed']}; folder {folder}",
        highlight=False,
        soft_wrap=True,
    )


def sensitivity_header(folder: Path, manifest: dict[str, Any]) -> None:
    _resuming(folder, -(-manifest["points"] // manifest["batch"]), "batches")
    out.print(
        f"sensitivity of {Path(manifest['model']).stem}: {len(manifest['factors'])} factors in "
        f"{len(set(manifest['groups']))} groups; {manifest['points']:,} points ({manifest['base_samples']} base "
        f"samples, one replication each), seed {manifest['seed']}; folder {folder}",
        highlight=False,
        soft_wrap=True,
    )


def calibration_header(folder: Path, manifest: dict[str, Any]) -> None:
    total, settings = len(manifest["points"]), manifest["settings"]
    if settings.get("method") == "smc":
        how = (f"ABC-SMC, {settings['population']} sets a generation for at most {settings['max_generations']} "
               f"generations x {settings['replications']} replications each")
    else:
        _resuming(folder, total, "prior draws")
        how = f"{total} prior draws x {settings['replications']} replications, accepting the nearest " \
              f"{settings['accept_share']:.0%}"
    out.print(
        f"calibration {manifest['name']} of {manifest['scenario']}: {how}, {len(manifest['observations'])} "
        f"observations; seed {manifest['seed']}; folder {folder}",
        highlight=False,
        soft_wrap=True,
    )


def show_calibration(folder: Path, result: dict[str, Any]) -> None:
    table = Table(title="prior against posterior (weighted)", title_justify="left")
    for name in ("parameter", "prior mean (sd)", "posterior mean (sd)", "posterior p5 - p95", "sd ratio"):
        table.add_column(name, justify="left" if name == "parameter" else "right")
    for path, p in result["parameters"].items():
        table.add_row(
            path,
            f"{p['prior_mean']:.3g} ({p['prior_sd']:.2g})",
            f"{p['posterior_mean']:.3g} ({p['posterior_sd']:.2g})",
            f"{p['posterior_p5']:.3g} - {p['posterior_p95']:.3g}",
            f"{p['posterior_sd'] / p['prior_sd']:.2f}" if p["prior_sd"] > 0 else "-",
        )
    out.print(table)
    if result.get("method") == "smc":
        for i, g in enumerate(result["generations"]):
            tolerance = "prior" if g["epsilon"] is None else f"tolerance {g['epsilon']:.3g}"
            out.print(f"generation {i}: {tolerance}, {g['simulations']:,} simulations, acceptance "
                      f"{g['acceptance_rate']:.0%}, effective sample size {g['effective_sample_size']:.0f}",
                      highlight=False)
        accepted = f"{result['accepted']} sets in the last generation, {result['simulations']:,} simulations in all"
    else:
        total = len(read_manifest(folder)["points"])
        accepted = f"accepted {result['accepted']} of {total} ({result['acceptance_share']:.0%})"
    out.print(
        f"{accepted}; distance threshold {result['distance_threshold']:.3g} (best {result['best_distance']:.3g}, "
        f"in observation SDs); effective sample size {result['effective_sample_size']:.1f}",
        highlight=False,
        soft_wrap=True,
    )
    check = Table(title="predictive check: the observed value against the model's statistic (p5 - p50 - p95; "
                        "percentile of the observed value)", title_justify="left")
    for name in ("observation", "observed", "prior", "posterior", "percentile: prior", "posterior "):
        check.add_column(name, justify="left" if name == "observation" else "right")
    for name, row in result.get("predictive", {}).items():
        def spread(q: dict[str, float] | None) -> str:
            return "-" if q is None else f"{q['p5']:.3g} - {q['p50']:.3g} - {q['p95']:.3g}"
        prior, post = row.get("prior"), row.get("posterior")
        check.add_row(name, f"{row['observed']:.3g}", spread(prior), spread(post),
                      "-" if prior is None else f"{prior['percentile']:.2f}",
                      "-" if post is None else f"{post['percentile']:.2f}")
    out.print(check)
    out.print(
        f"posterior: {folder}  (use it with `posterior: {folder}` in a scenario)", highlight=False, soft_wrap=True
    )
