"""Presenting runs and comparisons: comparison folders (tables and a chart) and one
self-contained HTML report (images inlined, no network) rebuilt from results folders alone."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from matplotlib.figure import Figure

from resim import __version__
from resim.analysis.compare import Comparison, RunData, compare, load_run, month_ranges
from resim.errors import InputError
from resim.folders import MANIFEST, folder_for, read_manifest, read_table, staged, write_manifest
from resim.plots import comparison_chart, fan_chart, save
from resim.results import statistics
from resim.results.tables import describe, write_table
from resim.results.writer import versions

# --- comparisons -----------------------------------------------------------------------------

def outcome_rows(comparisons: list[Comparison]) -> list[dict[str, Any]]:
    return [{
        "reference": c.reference.name, "other": c.other.name, "paired": c.paired, "outcome": o.outcome,
        "unit": o.unit, "reference_mean": o.a_mean, "other_mean": o.b_mean,
        "mean_diff": o.mean_diff, "mean_diff_low": o.mean_diff_ci[0], "mean_diff_high": o.mean_diff_ci[1],
        "median_diff": o.median_diff, "median_diff_low": o.median_diff_ci[0],
        "median_diff_high": o.median_diff_ci[1], "diff_p5": o.diff_p5, "diff_p5_low": o.diff_p5_ci[0],
        "diff_p5_high": o.diff_p5_ci[1], "diff_p95": o.diff_p95, "diff_p95_low": o.diff_p95_ci[0],
        "diff_p95_high": o.diff_p95_ci[1],
        "p_other_worse": o.p_b_worse, "p_other_worse_low": o.p_b_worse_ci[0],
        "p_other_worse_high": o.p_b_worse_ci[1],
    } for c in comparisons for o in c.outcomes]


def monthly_rows(comparisons: list[Comparison]) -> list[dict[str, Any]]:
    rows = []
    for c in comparisons:
        m = c.monthly
        for i, month in enumerate(m.months):
            rows.append({"reference": c.reference.name, "other": c.other.name, "month": month,
                         "mean_diff_t": float(m.mean[i]), "mean_diff_low_t": float(m.ci_low[i]),
                         "mean_diff_high_t": float(m.ci_high[i]), "differs": bool(m.differs[i]),
                         **{f"diff_p{q}_t": float(v[i]) for q, v in m.quantiles.items()}})
    return rows


def comparison_figure(comparisons: list[Comparison]) -> Figure:
    """The comparison chart of a reference and the runs set against it."""
    runs = [comparisons[0].reference] + [c.other for c in comparisons]
    fans = [(r.title, r.months, statistics.monthly(r.shortfall_t, r.demand_t)) for r in runs]
    diffs = [(c.other.title, c.monthly.months,
              {"mean": c.monthly.mean, "ci_low": c.monthly.ci_low, "ci_high": c.monthly.ci_high,
               **({"p5": c.monthly.quantiles[5], "p95": c.monthly.quantiles[95]} if c.monthly.quantiles else {})})
             for c in comparisons]
    pairing = "paired" if all(c.paired for c in comparisons) else "UNPAIRED (different seeds or replications)"
    title = (f"EV NdFeB shortfall, India: {', '.join(r.title for r in runs[1:])} against {runs[0].title} "
             f"(reference); {len(runs[0].replications)} replications, {pairing}")
    return comparison_chart(fans, diffs, title)


def write_comparison(comparisons: list[Comparison], root: Path, command: list[str]) -> Path:
    """results/comparisons/<reference>__vs__<others>/<stamp>/: Parquet and CSV tables, chart, manifest."""
    ref = comparisons[0].reference
    final = folder_for(root / "comparisons", f"{ref.name}__vs__{'+'.join(c.other.name for c in comparisons)}")
    with staged(final) as tmp:
        outcomes = pa.Table.from_pylist(outcome_rows(comparisons))
        write_table(outcomes, tmp / "comparison.parquet")
        pacsv.write_csv(outcomes, tmp / "comparison.csv")
        write_table(pa.Table.from_pylist(monthly_rows(comparisons)), tmp / "monthly_difference.parquet")
        save(comparison_figure(comparisons), tmp / "comparison.png")
        describe(tmp, f"resim comparison with {ref.name}")
        write_manifest(tmp, {
            "reference": str(ref.folder), "others": [str(c.other.folder) for c in comparisons],
            "paired": [c.paired for c in comparisons], "command": command, "resim": __version__,
            "versions": versions(),
            "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "units": {"monthly differences": "t NdFeB per month",
                      **{o.outcome: o.unit for o in comparisons[0].outcomes}},
        })
    return final


# --- HTML report -----------------------------------------------------------------------------

def _png(draw) -> str:
    buffer = io.BytesIO()
    draw(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<div class=\"scroll\"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _run_section(run: RunData) -> str:
    m = run.manifest
    stats = statistics.monthly(run.shortfall_t, run.demand_t)
    subtitle = f"{m['replications']} replications, seed {m['seed']}, scenario hash {m['scenario_hash'][:8]}"
    fan = _png(lambda buf: save(fan_chart(run.months, stats, f"{run.title}: EV magnet shortfall, India",
                                          subtitle + "; t NdFeB per month"), buf))
    years = _table(["year", "median % of demand", "p5 - p95 %", "median t", "P(any short month)"],
                   [[y["year"], _median(y, "shortfall_pct"), f"{_median(y, 'shortfall_pct', 'p5')} - "
                     f"{_median(y, 'shortfall_pct', 'p95')}", _median(y, "shortfall_t"), f"{y['p_any_shortfall']:.2f}"]
                    for y in m["yearly"]])
    s = m["run_summary"]
    cum = s["cumulative_shortfall_t"]
    regimes = m["resolved_scenario"]["china"]["regimes"]
    timeline = _table(["from", "rules", "note"], [[r["from"], r["rules"] or ", ".join(
        f"{o['name']} ({o['probability']:g}): {o['rules']}" + (f" {o['shift_days']:+d} d" if o["shift_days"] else "")
        for o in r["outcomes"]), r.get("note", "")] for r in regimes])
    worlds = m.get("by_outcome") or []
    by_world = "" if not worlds else "<h3>By drawn world (weigh them with your own odds)</h3>\n" + _table(
        ["uncertain change", "outcome", "replications", "mean t ±95% interval", "median t", "P(any short month)"],
        [[w["change"], w["outcome"], f"{w['replications']:,} ({w['share']:.0%})",
          f"{w['mean_t']:,.0f} ±{w['mean_half_width_t']:,.0f}",
          f"{w['median_t']:,.0f}", f"{w['p_any_shortfall']:.2f}"] for w in worlds])
    params = m.get("parameters", [])
    cols = ["parameter", "value", "p5_p95", "unit", "drawn", "source"]
    return f"""
<section>
<h2>{html.escape(run.title)} <span class="facts">(scenario {html.escape(run.name)})</span></h2>
<p class="question">{html.escape(m['question'])}</p>
<p class="facts">{html.escape(subtitle)}; {m['horizon_months']} months from {m['start']}
(reported from {m.get('report_from', m['start'])}); run
{html.escape(m['run_id'])}, created {html.escape(m['created_utc'])} with resim
{html.escape(m['versions']['resim'])}.</p>
<img src="{fan}" alt="fan chart of monthly shortfall for {html.escape(run.title)}"/>
<h3>Shortfall by year</h3>
{years}
<p>Over the horizon: cumulative shortfall median {cum['p50']:,.0f} t NdFeB (p5 {cum['p5']:,.0f} - p95
{cum['p95']:,.0f}); P(any shortfall) {s['p_any_shortfall']:.2f}; median vehicles not built
{s['cumulative_vehicles_not_built_p50']:,.0f}.</p>
{by_world}
<h3>China's export regime (timeline)</h3>
{timeline}
<h3>Key assumptions</h3>
{_table(["assumption", "median (90% of worlds)", "parameter", "drawn", "source"],
        [[_meaning(p), _range(p), p["parameter"], p["drawn"], p["source"]] for p in _key_assumptions(m)])}
<details><summary>All {len(params)} parameters and their sources</summary>
{_table(["parameter", "value or distribution", "p5 - p95", "unit", "drawn", "source", "set in"],
        [[p[c] for c in [*cols, "set_in"]] for p in params])}
</details>
</section>"""


CAVEATS = (  # what every figure of this model carries (docs/model.md, "What the backtest shows")
    "Held against the 2025 record, e-2W is about right (14% short in June-September 2025 against a dip of "
    "about 13% in retail) but cars and buses run short from late 2025 to mid-2026 while their sales grew, and "
    "even fitted to the retail record the model loses about 5% of demand in H1 2026, when no loss was "
    "reported: absolute levels are likelier too high than too low.",
    "What China decided on 2026-11-10 is not public: the worlds after the pause carry judgement probabilities "
    "(seeds/world_2026.yaml), and so do the 2026 licence approval odds (no 2026 figure was found).",
    "Whether the October 2025 rules license light-REE (Nd/Pr-only) magnets is a structural choice drawn per "
    "replication; it moves the answer as much as any number.",
    "Paired comparisons share their luck (common random numbers), but histories diverge after the first "
    "different decision, so a better lever can come out worse in a few per cent of replications.",
)


def _median(year: dict[str, Any], figure: str, key: str = "p50") -> str:
    """A yearly quantile rounded to what its median's Monte Carlo interval supports (as the headline)."""
    half = max(year[f"{figure}_p50_high"] - year[f"{figure}_p50"], year[f"{figure}_p50"] - year[f"{figure}_p50_low"])
    return statistics.rounded(year[f"{figure}_{key}"], half)


def _quantity(value: float, unit: str) -> str:
    """A parameter's value in plain numbers: shares as percentages, never 1.23e+03."""
    if unit in ("fraction", "probability"):
        return f"{statistics.rounded(100 * value, float('nan'))}%"
    return f"{statistics.rounded(value, float('nan'))} {unit}".strip()


def _meaning(p: dict[str, Any]) -> str:
    """A parameter in words (its field's description), else its path."""
    return str(p.get("meaning") or p["parameter"]).rstrip(".")


def _range(p: dict[str, Any]) -> str:
    """A parameter's median and, when it is uncertain, the range 90% of drawn worlds fall in."""
    if "median" not in p:  # a run written before resim kept the numbers
        return f"{p['value']} {p['p5_p95']}".strip()
    median = _quantity(p["median"], p["unit"])
    if p["p5"] == p["p95"]:
        return median
    return f"{median} ({_quantity(p['p5'], p['unit'])} to {_quantity(p['p95'], p['unit'])})"


def _key_assumptions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    params = {p["parameter"]: p for p in manifest.get("parameters", [])}
    return [params[k] for k in manifest["resolved_scenario"].get("key_assumptions", []) if k in params]


def _difference(mean: float, ci: tuple[float, float]) -> str:
    """A paired mean difference in words, as a positive amount with its 95% interval: 'adds' or
    'saves' (a saving with negative bounds read as a loss)."""
    half = (ci[1] - ci[0]) / 2
    verb, (lo, hi) = ("adds", ci) if mean > 0 else ("saves", (-ci[1], -ci[0]))
    text = f"{verb} {statistics.rounded(abs(mean), half)} t of cumulative shortfall on average"
    if lo < 0:  # the interval reaches the other side of zero
        other = "less" if verb == "adds" else "more"
        return f"{text}, not told apart from zero (95% interval: {statistics.rounded(-lo, half)} t {other} to " \
               f"{statistics.rounded(hi, half)} t {'more' if verb == 'adds' else 'less'})"
    return f"{text} (95% interval: {statistics.rounded(lo, half)} to {statistics.rounded(hi, half)} t)"


WIDE_INDEX = 0.1  # a total index's 95% half-width above which the drivers cannot be ranked


def _interval(o: dict[str, Any], key: str = "p50") -> str:
    """A quantile or mean rounded to its Monte Carlo interval, with that interval."""
    if key == "mean":
        half = o["mean_half_width"]
        return f"{statistics.rounded(o['mean'], half)} (+-{statistics.rounded(half, half)})"
    half = max(o["p50_high"] - o["p50"], o["p50"] - o["p50_low"])
    return statistics.rounded(o["p50"], half)


def _brief(runs: list[RunData], comparisons: list[Comparison], analyses: list[Path]) -> str:
    """The answer first: the headline figures of the first run, rounded to what the Monte Carlo
    supports, the comparisons in one line each, what drives the answer, the key assumptions and
    the caveats."""
    parts = ["<section class=\"brief\">"]
    if runs:
        m = runs[0].manifest
        o = m.get("outcomes")
        parts.append(f"<h2>The answer: {html.escape(runs[0].title)}</h2><p class=\"question\">"
                     f"{html.escape(m['question'])}</p>")
        if o:
            cum, pct, nb = o["cumulative_shortfall_t"], o["shortfall_pct_of_demand"], o["vehicles_not_built"]
            half = max(cum["p50_high"] - cum["p50"], cum["p50"] - cum["p50_low"])
            parts.append(
                f"<p class=\"headline\">Over the {m['reported_months']} months from {m['report_from']}, the median "
                f"future is {_interval(cum)} t of NdFeB magnets short (5-95% of futures: "
                f"{statistics.rounded(cum['p5'], half)} to {statistics.rounded(cum['p95'], half)} t), "
                f"{_interval(pct)}% of EV magnet demand, and {_interval(nb)} vehicles not built; in "
                f"{100 * m['run_summary']['p_any_shortfall']:.0f}% of futures at least one month is short. "
                f"Mean: {_interval(cum, 'mean')} t. ({m['replications']:,} replications.)</p>")
    for c in comparisons:
        d = next(x for x in c.outcomes if x.outcome == "cumulative_shortfall_t")
        lo, hi = d.p_b_worse_ci
        parts.append(f"<p><b>{html.escape(c.other.title)}</b> against {html.escape(c.reference.title)} "
                     f"{_difference(d.mean_diff, d.mean_diff_ci)}"
                     + (f"; it is worse in {100 * d.p_b_worse:.0f}% of paired futures (95% interval "
                        f"{100 * lo:.0f}-{100 * hi:.0f}%)" if c.paired else " (unpaired runs)") + ".</p>")
    for folder in analyses:
        top = [r for r in read_table(folder / "indices.parquet").to_pylist() if r["period"] == "all"][:3]
        drivers = "; ".join(f"{r['factor']} (total index {r['ST']:.2f} ±{r['ST_conf']:.2f})" for r in top)
        wide = any(r["ST_conf"] > WIDE_INDEX for r in top)
        parts.append(f"<p>What drives it most (Sobol total indices, whole model): {html.escape(drivers)}."
                     + (" <b>These intervals are too wide to rank the drivers</b> (an index is a share of the "
                        "variance, between 0 and 1): the analysis needs more base samples." if wide else "")
                     + "</p>")
    if runs:
        key = _key_assumptions(runs[0].manifest)[:6]
        parts.append("<h3>Key assumptions</h3><ul>" + "".join(
            f"<li>{html.escape(_meaning(p))}: {html.escape(_range(p))} ({html.escape(str(p['source']))})</li>"
            for p in key) + "</ul>")
    parts.append("<h3>Caveats</h3><ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in CAVEATS) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def _comparison_section(comparisons: list[Comparison]) -> str:
    chart = _png(lambda buf: save(comparison_figure(comparisons), buf))
    parts = [f'<section><h2>Comparison with {html.escape(comparisons[0].reference.title)}</h2>',
             f'<img src="{chart}" alt="shortfall fans and their differences"/>']
    for c in comparisons:
        note = "paired: same seed and replications (common random numbers)" if c.paired else \
            "unpaired: the runs differ in seed or replications, so intervals are wider"
        rows = []
        for o in c.outcomes:  # each row rounded to what its difference's Monte Carlo interval supports
            half = (o.mean_diff_ci[1] - o.mean_diff_ci[0]) / 2

            def r(x: float, sign: str = "", half: float = half) -> str:
                text = statistics.rounded(x, half)
                return f"+{text}" if sign and x > 0 else text
            rows.append([statistics.OUTCOMES[o.outcome].label, o.unit, r(o.a_mean), r(o.b_mean),
                         f"{r(o.mean_diff, '+')} [{r(o.mean_diff_ci[0], '+')}, {r(o.mean_diff_ci[1], '+')}]",
                         f"{o.p_b_worse:.2f} [{o.p_b_worse_ci[0]:.2f}, {o.p_b_worse_ci[1]:.2f}] (Wilson)"])
        parts.append(f"<h3>{html.escape(c.other.title)} minus {html.escape(c.reference.title)} ({note})</h3>")
        parts.append(_table(["outcome", "unit", c.reference.title, c.other.title, "mean difference [95% CI]",
                             f"P({c.other.title} worse) [95% CI]"], rows))
        parts.append(f"<p>Months whose mean difference excludes zero: "
                     f"{html.escape(month_ranges(c.monthly.months, c.monthly.differs))}.</p>")
    parts.append("</section>")
    return "\n".join(parts)


STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 0.8em;color:#222;
overflow-wrap:anywhere}.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:0.5em 0;font-size:0.85em}td,th{border:1px solid #ccc;padding:3px 6px;
text-align:left}th{background:#f0f0f0}img{max-width:100%}.question{font-size:1.1em;font-style:italic}
.facts{color:#555;font-size:0.9em}.headline{font-size:1.15em;background:#f6f6f0;padding:0.6em;
border-left:4px solid #b2182b}"""


def _sensitivity_section(folder: Path) -> str:
    """A whole-model sensitivity analysis: its ranked indices, total indices per year, the charts."""
    m = read_manifest(folder)
    if not (folder / "indices.parquet").is_file():
        raise InputError.one(folder, "the sensitivity analysis is not finished; allowed: a finished one, or "
                             f"resim sensitivity --resume {folder}")
    rows = read_table(folder / "indices.parquet").to_pylist()
    outcome = m["analysed"][0]
    ranked = [r for r in rows if r["outcome"] == outcome and r["period"] == "all"]
    years = sorted({r["period"] for r in rows if r["outcome"] == outcome and r["period"] != "all"})
    by_year = {(r["factor"], r["period"]): r for r in rows if r["outcome"] == outcome}
    charts = "".join(f'<img src="data:image/png;base64,{base64.b64encode((folder / name).read_bytes()).decode()}" '
                     f'alt="{name}"/>' for name in ("indices.png", "indices_over_time.png") if (folder / name).exists())
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in m.get("warnings", []))
    return f"""
<section>
<h2>What drives {html.escape(outcome)}: whole-model sensitivity of {html.escape(Path(m['model']).stem)}</h2>
<p class="facts">Sobol indices over every uncertainty the scenario declares, grouped {html.escape(m['by'])}-wise
({len(m['factors'])} factors in {len(set(m['groups']))} groups), {m['points']:,} points of one replication each
({m['base_samples']} base samples), seed {m['seed']}. S1: the share of the outcome's variance a group explains
alone; ST: with its interactions. Per-event luck is one group: what no better knowledge of the world would
remove.</p>
{charts}
{_table(["rank", "group", "S1", "ST"], [[i, r["factor"], f"{r['S1']:.2f} +-{r['S1_conf']:.2f}",
        f"{r['ST']:.2f} +-{r['ST_conf']:.2f}"] for i, r in enumerate(ranked, 1)])}
<h3>Total index ST per year</h3>
{_table(["group", *years], [[r["factor"], *(f"{by_year[(r['factor'], y)]['ST']:.2f}" if (r["factor"], y) in by_year
        else "" for y in years)] for r in ranked])}
{f"<p>Warnings:</p><ul>{warnings}</ul>" if warnings else ""}
</section>"""


def is_sensitivity(folder: Path) -> bool:
    return (folder / MANIFEST).is_file() and "factors" in read_manifest(folder)


def html_report(folders: list[Path], out: Path) -> Path:
    """Write one self-contained HTML report for the runs (and sensitivity analyses); with several
    runs, compare them with the first."""
    analyses = [f for f in folders if is_sensitivity(f)]
    runs = [load_run(f) for f in folders if f not in analyses]
    comparisons = [compare(runs[0], r) for r in runs[1:]]
    sections = [_brief(runs, comparisons, analyses)]  # the answer first, then the detail behind it
    if comparisons:
        sections.append(_comparison_section(comparisons))
    sections += [_sensitivity_section(f) for f in analyses] + [_run_section(r) for r in runs]
    names = ", ".join([r.title for r in runs] + [Path(read_manifest(f)["model"]).stem
                                                 for f in analyses])
    doc = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>resim report: {html.escape(names)}</title><style>{STYLE}</style></head>
<body>
<h1>resim report: {html.escape(names)}</h1>
<p>India's EV makers' NdFeB magnet shortfall under China's export controls: Monte Carlo results of
resim {html.escape(__version__)}, rebuilt from the runs' results folders on
{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Shortfall is in tonnes of NdFeB magnet (t) or as a share of
EV NdFeB demand; quantiles are across replications.</p>
{''.join(sections)}
</body>
</html>
"""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".incomplete-{out.name}")
    tmp.write_text(doc, encoding="utf-8")
    tmp.rename(out)
    return out


def default_report_path(folders: list[Path], results: Path) -> Path:
    if len(folders) == 1:
        return folders[0] / "report.html"
    manifests = [read_manifest(f) for f in folders]
    names = "__".join(m.get("scenario") or Path(m["model"]).stem for m in manifests)
    return folder_for(results / "reports", names).with_suffix(".html")


