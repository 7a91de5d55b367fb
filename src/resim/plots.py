"""Figures: every chart resim draws, each returned as a matplotlib Figure (a notebook shows it; the
pipeline saves it with `save`), drawn off-screen on bare Figures."""

from __future__ import annotations

import datetime as dt
import io
import os
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure


def save(fig: Figure, target: Path | io.BytesIO) -> None:
    """A PNG at the figure's dpi, whole or not at all: written hidden beside its place, then renamed
    (a chart cut short by a kill never looks finished); a buffer (the HTML report's inline images)
    directly."""
    if isinstance(target, io.BytesIO):
        fig.savefig(target, format="png")
        return
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp")
    fig.savefig(tmp, format="png")
    os.replace(tmp, target)


def subplots(*args: Any, figsize: tuple[float, float], dpi: int = 110, **kwargs: Any) -> tuple[Figure, Any]:
    """A figure and its axes drawn on a bare Figure: no pyplot state, no backend switched, so a
    notebook's `plt.show()` is untouched by importing resim (a Figure shows itself in Jupyter)."""
    fig = Figure(figsize=figsize, dpi=dpi)
    return fig, fig.subplots(*args, **kwargs)


def wrapped(fig: Figure, text: str, fontsize: float) -> str:
    """`text` wrapped to the figure's width (a title longer than the figure was cut off)."""
    chars = int(fig.get_figwidth() * 72 / (0.55 * fontsize))
    return "\n".join(textwrap.fill(line, chars) for line in text.split("\n"))


def fan_chart(months: list[dt.date], stats: dict[str, np.ndarray], title: str, subtitle: str) -> Figure:
    """Shortfall bands p5-p95 and p25-p75, the median and the mean on a scale set by the shortfall;
    median demand for scale when it fits within three times that scale, else named in a note (drawn
    to demand's scale, a small shortfall was a thin line at the bottom)."""
    fig, (ax, ax_p) = subplots(2, 1, figsize=(10, 6.5), dpi=120, sharex=True,
                               gridspec_kw={"height_ratios": [3, 1]})
    x = np.array(months, dtype="datetime64[D]")
    ax.fill_between(x, stats["shortfall_t_p5"], stats["shortfall_t_p95"], color="#d6604d", alpha=0.25,
                    step="post", label="shortfall p5-p95")
    ax.fill_between(x, stats["shortfall_t_p25"], stats["shortfall_t_p75"], color="#d6604d", alpha=0.5,
                    step="post", label="shortfall p25-p75")
    ax.step(x, stats["shortfall_t_p50"], where="post", color="#b2182b", lw=2, label="shortfall median")
    ax.step(x, stats["shortfall_t_mean"], where="post", color="#67001f", lw=1, ls=":", label="shortfall mean")
    demand = stats["demand_t_p50"]
    top = 1.15 * max(float(np.nanmax(stats["shortfall_t_p95"])), float(np.nanmax(stats["shortfall_t_mean"])), 1e-3)
    if float(np.nanmax(demand)) <= 3 * top:
        ax.step(x, demand, where="post", color="#4d4d4d", lw=1, ls="--", label="EV NdFeB demand (median)")
        ax.set_ylim(bottom=0)
    else:
        ax.set_ylim(0, top)
        ax.text(0.99, 0.97, f"EV NdFeB demand (median): {np.nanmin(demand):,.0f}-{np.nanmax(demand):,.0f} t per "
                f"month, above this scale", transform=ax.transAxes, ha="right", va="top", fontsize=8, color="#4d4d4d")
    ax.set_ylabel("NdFeB magnets, t per month")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    ax.set_title(f"{title}\n{subtitle}", fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    ax_p.step(x, stats["p_shortfall"], where="post", color="#2166ac")
    ax_p.set_ylim(0, 1.02)
    ax_p.set_ylabel("P(shortfall > 1 kg)")
    ax_p.grid(alpha=0.3)
    fig.autofmt_xdate()
    # fixed margins: tight_layout took 0.08 s of a run's serial tail, after the last replication
    fig.subplots_adjust(left=0.09, right=0.98, top=0.91, bottom=0.12, hspace=0.08)
    return fig


COLOURS = ["#2166ac", "#b2182b", "#1b7837", "#762a83", "#e08214", "#4d4d4d"]


def comparison_chart(runs: list[tuple[str, list[dt.date], dict[str, np.ndarray]]],
                     diffs: list[tuple[str, list[dt.date], dict[str, np.ndarray]]], title: str) -> Figure:
    """Top: each run's shortfall (median, p25-p75 band, p95 dashed) on one axis. Bottom: for each run
    against the reference, the per-month difference (p5-p95 band of paired differences where
    available, and the mean with its 95% interval)."""
    fig, (ax, ax_d) = subplots(2, 1, figsize=(10, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for colour, (name, months, stats) in zip(COLOURS, runs, strict=False):
        x = np.array(months, dtype="datetime64[D]")
        ax.fill_between(x, stats["shortfall_t_p25"], stats["shortfall_t_p75"], color=colour, alpha=0.15, step="post")
        ax.step(x, stats["shortfall_t_p95"], where="post", color=colour, lw=1, ls="--")
        ax.step(x, stats["shortfall_t_p50"], where="post", color=colour, lw=2,
                label=f"{name}: median (line), p25-p75 (band), p95 (dashed)")
    ax.set_ylabel("NdFeB shortfall, t per month")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(wrapped(fig, title, 10), fontsize=10, loc="left")
    ax.grid(alpha=0.3)
    for colour, (name, months, d) in zip(COLOURS[1:], diffs, strict=False):
        x = np.array(months, dtype="datetime64[D]")
        if "p5" in d:
            ax_d.fill_between(x, d["p5"], d["p95"], color=colour, alpha=0.15, step="post",
                              label=f"{name} - reference: p5-p95 of paired differences")
        ax_d.fill_between(x, d["ci_low"], d["ci_high"], color=colour, alpha=0.45, step="post",
                          label=f"{name} - reference: 95% interval of the mean")
        ax_d.step(x, d["mean"], where="post", color=colour, lw=1.5)
    ax_d.axhline(0, color="black", lw=0.8)
    ax_d.set_ylabel("difference, t per month")
    ax_d.legend(loc="upper left", fontsize=8)
    ax_d.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def sweep_charts(table: dict[str, list[Any]], params: list[str], outcome: str, unit: str,
                 title: str) -> dict[str, Figure]:
    """The outcome (mean with its 95% interval) against each parameter (`outcome_by_parameter`);
    for a two-parameter grid also a `heatmap` of the means, each cell with its interval."""
    figures = {}
    y = np.array(table[outcome])
    low, high = np.array(table[f"{outcome}_low"]), np.array(table[f"{outcome}_high"])
    fig, axes = subplots(1, len(params), figsize=(4.2 * len(params), 3.8), squeeze=False)
    for ax, p in zip(axes[0], params, strict=True):
        x = np.array(table[f"param.{p}"])
        ax.errorbar(x, y, yerr=[y - low, high - y], fmt="o", ms=3, color="#b2182b", ecolor="#d6604d", alpha=0.8)
        ax.set_xlabel(p, fontsize=8)
        ax.set_ylabel(f"{outcome} ({unit})", fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(wrapped(fig, title, 9), fontsize=9, x=0.01, ha="left")
    fig.tight_layout()
    figures["outcome_by_parameter"] = fig
    if len(params) == 2:
        xs, ys = (sorted(set(table[f"param.{p}"])) for p in params)
        if len(xs) * len(ys) == len(y):  # a full grid
            figures["heatmap"] = _heatmap(table, params, (xs, ys), (y, low, high), f"{outcome} ({unit})", title)
    return figures


def _heatmap(table: dict[str, list[Any]], params: list[str], axes: tuple[list[float], list[float]],
             values: tuple[np.ndarray, np.ndarray, np.ndarray], label: str, title: str) -> Figure:
    """A two-parameter grid's means as colours; each cell's text gives the mean and its 95% interval,
    white on the darker half of the scale (black on the darkest cell was unreadable)."""
    xs, ys = axes
    grids = [np.full((len(ys), len(xs)), np.nan) for _ in range(3)]
    for k, (a, b) in enumerate(zip(table[f"param.{params[0]}"], table[f"param.{params[1]}"], strict=True)):
        for grid, v in zip(grids, values, strict=True):
            grid[ys.index(b), xs.index(a)] = v[k]
    mean, low, high = grids
    fig, ax = subplots(figsize=(7, 5.5))
    image = ax.imshow(mean, origin="lower", aspect="auto", cmap="Reds")
    ax.set_xticks(range(len(xs)), [f"{v:.3g}" for v in xs], fontsize=8)
    ax.set_yticks(range(len(ys)), [f"{v:.3g}" for v in ys], fontsize=8)
    ax.set_xlabel(params[0], fontsize=8)
    ax.set_ylabel(params[1], fontsize=8)
    lo, hi = float(np.nanmin(mean)), float(np.nanmax(mean))
    for (i, j), v in np.ndenumerate(mean):
        dark = hi > lo and (v - lo) / (hi - lo) > 0.55
        ax.text(j, i, f"{v:,.0f}\n[{low[i, j]:,.0f}, {high[i, j]:,.0f}]", ha="center", va="center", fontsize=7,
                color="white" if dark else "black")
    fig.colorbar(image, label=label)
    ax.set_title(wrapped(fig, f"{title}; cells: mean [95% interval]", 9), fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def tornado_chart(table: dict[str, list[Any]], params: list[str], outcome: str, unit: str, title: str) -> Figure:
    """One-at-a-time sweep: for each parameter, the outcome at its low and high ends around the base
    point (point 0), widest swing on top."""
    y = table[outcome]
    base = y[0]
    swings = [(p, y[1 + 2 * i], y[2 + 2 * i]) for i, p in enumerate(params)]
    swings.sort(key=lambda s: abs(s[2] - s[1]))
    fig, ax = subplots(figsize=(9, 1.4 + 0.5 * len(params)))
    for row, (_name, low_end, high_end) in enumerate(swings):
        first = row == 0
        ax.barh(row, low_end - base, left=base, color="#2166ac", label="parameter at its low end" if first else None)
        ax.barh(row, high_end - base, left=base, color="#b2182b", label="parameter at its high end" if first else None)
    ax.axvline(base, color="black", lw=0.8)
    ax.set_yticks(range(len(swings)), [s[0] for s in swings], fontsize=8)
    ax.set_xlabel(f"{outcome} ({unit}); base point {base:,.0f}")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(wrapped(fig, title, 9), fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def prior_posterior_chart(prior: dict[str, list[Any]], posterior: dict[str, list[Any]], weights: list[float],
                          params: list[str], title: str) -> Figure:
    """Calibration: each fitted parameter's prior draws (grey) against the weighted posterior sets
    (blue); a rejection fit's posterior sets are its prior draws, an ABC-SMC's its last generation."""
    fig, axes = subplots(1, len(params), figsize=(3.6 * len(params), 3.2), squeeze=False)
    w = np.array(weights)
    for ax, param in zip(axes[0], params, strict=True):
        x = np.array(prior[f"param.{param}"], dtype=float)
        y = np.array(posterior[f"param.{param}"], dtype=float)
        bins = np.linspace(x.min(), x.max(), 21) if x.max() > x.min() else 10
        ax.hist(x, bins=bins, density=True, color="#bbbbbb", label="prior")
        ax.hist(y, bins=bins, weights=w, density=True, color="#2166ac", alpha=0.75, label="posterior")
        ax.set_xlabel(param.replace(".", ".\u200b"), fontsize=7, wrap=True)
        ax.set_yticks([])
        ax.legend(fontsize=7)
    fig.suptitle(wrapped(fig, title, 9), fontsize=9, x=0.01, ha="left")
    fig.tight_layout()
    return fig


def index_chart(method: str, rows: list[dict[str, Any]], title: str) -> Figure:
    """Sobol S1 and ST, or Morris mu*, per factor with 95% intervals, most important on top."""
    names = [r.get("parameter", r.get("factor")) for r in rows][::-1]
    fig, ax = subplots(figsize=(9, 1.2 + 0.5 * len(rows)))
    y = np.arange(len(rows))
    if method == "sobol":
        for offset, key, colour in ((-0.2, "S1", "#2166ac"), (0.2, "ST", "#b2182b")):
            values = [r[key] for r in rows][::-1]
            errors = [r[f"{key}_conf"] for r in rows][::-1]
            ax.barh(y + offset, values, 0.4, xerr=errors, color=colour, label=f"{key} (95% interval)")
        ax.set_xlabel("Sobol index (share of output variance)")
    else:
        ax.barh(y, [r["mu_star"] for r in rows][::-1], xerr=[r["mu_star_conf"] for r in rows][::-1],
                color="#2166ac", label="mu* (95% interval)")
        ax.set_xlabel("Morris mu* (mean absolute elementary effect, outcome units)")
    ax.set_yticks(y, names, fontsize=8)
    ax.legend(fontsize=8)
    ax.set_title(wrapped(fig, title, 9), fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def sobol_charts(rows: list[dict[str, Any]], convergence: list[dict[str, Any]], outcome: str,
                 title: str) -> dict[str, Figure]:
    """A whole-model analysis: indices over the horizon (`indices`), total indices per year
    (`indices_over_time`) and against sample size (`convergence`), with 95% intervals."""
    ranked = [r for r in rows if r["outcome"] == outcome and r["period"] == "all"]
    figures = {"indices": index_chart("sobol", ranked, title)}
    top = [r["factor"] for r in ranked[:6]]
    years = sorted({r["period"] for r in rows if r["outcome"] == outcome and r["period"] != "all"})
    for name, key, xs, label in (("indices_over_time", "period", years, "calendar year (reported months in it)"),
                                 ("convergence", "base_samples", sorted({r["base_samples"] for r in convergence
                                                                         if r["outcome"] == outcome}),
                                  "base samples N (points: N x (groups + 2))")):
        if len(xs) < 2:
            continue
        source = rows if key == "period" else convergence
        fig, ax = subplots(figsize=(9, 4.5))
        for factor in top:
            pts = {r[key]: r for r in source if r["outcome"] == outcome and r["factor"] == factor}
            ys = [pts[x]["ST"] if x in pts else np.nan for x in xs]
            err = [pts[x]["ST_conf"] if x in pts else np.nan for x in xs]
            ax.errorbar([str(x) for x in xs], ys, yerr=err, marker="o", capsize=3, label=factor)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(label)
        ax.set_ylabel(f"total Sobol index ST of {outcome}")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        ax.set_title(wrapped(fig, title, 9), fontsize=9, loc="left")
        fig.tight_layout()
        figures[name] = fig
    return figures


def prim_tradeoff_chart(coverage: list[float], density: list[float], restricted: list[int], pick: int) -> Figure:
    """PRIM's peeling trajectory: each box's coverage against its density, coloured by how many
    parameters it restricts; the box reported is circled."""
    fig, ax = subplots(figsize=(6.5, 5))
    dots = ax.scatter(coverage, density, c=restricted, cmap="viridis", s=18)
    ax.scatter([coverage[pick]], [density[pick]], s=140, facecolors="none", edgecolors="#b2182b", lw=2,
               label="box reported")
    fig.colorbar(dots, ax=ax, label="parameters restricted")
    ax.set_xlabel("coverage (share of severe points inside the box)")
    ax.set_ylabel("density (share of the box's points that are severe)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title("PRIM peeling trajectory: the coverage-density trade-off", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def save_all(figures: dict[str, Figure], folder: Path) -> None:
    """Each figure as <folder>/<name>.png."""
    for name, fig in figures.items():
        save(fig, folder / f"{name}.png")
