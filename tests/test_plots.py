"""Figures: every chart function returns a matplotlib Figure (a notebook shows it; resim saves it),
titles fit inside their figure, and the heatmap's text is readable and shows the intervals it
promises."""

from __future__ import annotations

import datetime as dt

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.text import Text

from resim import plots

MONTHS = [dt.date(2026, m, 1) for m in range(1, 7)]
STATS = {k: np.linspace(0, 50, 6) for k in ("shortfall_t_p5", "shortfall_t_p25", "shortfall_t_p50", "shortfall_t_p75",
                                           "shortfall_t_p95", "shortfall_t_mean", "demand_t_p50")}
STATS["p_shortfall"] = np.linspace(0, 1, 6)


def _inside(fig: Figure) -> bool:
    """Every title of the figure ends inside it (a cut-off title does not)."""
    FigureCanvasAgg(fig).draw()
    width = fig.get_figwidth() * fig.dpi
    titles = {ax.get_title(loc) for ax in fig.axes for loc in ("left", "center", "right")} | {fig.get_suptitle()}
    drawn = [t for t in fig.findobj(Text) if t.get_text() and t.get_text() in titles]
    return bool(drawn) and all(t.get_window_extent().x1 <= width + 1 for t in drawn)


def test_the_fan_and_comparison_charts_return_figures_whose_titles_fit():
    fan = plots.fan_chart(MONTHS, STATS, "Scenario x", "10 replications")
    assert isinstance(fan, Figure) and _inside(fan)
    long = ("EV NdFeB shortfall, India: october_returns_stress, substitution_recycling, domestic_fast against "
            "pause_ends (reference); 1000 replications, paired")
    diff = {"mean": np.ones(6), "ci_low": np.zeros(6), "ci_high": 2 * np.ones(6)}
    chart = plots.comparison_chart([("a", MONTHS, STATS), ("b", MONTHS, STATS)], [("b", MONTHS, diff)], long)
    assert isinstance(chart, Figure) and _inside(chart)
    assert "\n" in chart.axes[0].get_title(loc="left")  # wrapped, not cut


def test_the_heatmap_shows_each_cells_interval_in_readable_text():
    xs, ys = [0.0, 0.5, 1.0], [10.0, 20.0]
    points = [(x, y) for y in ys for x in xs]
    mean = np.array([10.0, 20, 30, 40, 50, 6000])
    table = {"param.a": [p[0] for p in points], "param.b": [p[1] for p in points], "out": list(mean),
             "out_low": list(mean - 1), "out_high": list(mean + 1)}
    figures = plots.sweep_charts(table, ["a", "b"], "out", "t", "a long title")
    assert set(figures) == {"outcome_by_parameter", "heatmap"}
    assert all(isinstance(f, Figure) and _inside(f) for f in figures.values())
    cells = {t.get_text(): t for t in figures["heatmap"].axes[0].texts}
    assert "6,000\n[5,999, 6,001]" in cells and "10\n[9, 11]" in cells
    assert to_rgb(cells["6,000\n[5,999, 6,001]"].get_color()) == (1, 1, 1)  # white on the darkest red
    assert to_rgb(cells["10\n[9, 11]"].get_color()) == (0, 0, 0)


def test_every_other_chart_returns_figures():
    rows = [{"factor": f, "S1": 0.2, "S1_conf": 0.05, "ST": 0.3, "ST_conf": 0.05, "outcome": "o", "period": p}
            for f in ("a", "b") for p in ("all", "2026", "2027")]
    conv = [{**r, "base_samples": n} for r in rows if r["period"] == "all" for n in (8, 16)]
    assert set(plots.sobol_charts(rows, conv, "o", "t")) == {"indices", "indices_over_time", "convergence"}
    assert isinstance(plots.index_chart("sobol", rows[:1], "t"), Figure)
    table = {"param.a": [0.0, 1.0, 2.0], "o": [5.0, 1.0, 9.0]}
    assert isinstance(plots.tornado_chart(table, ["a"], "o", "t", "t"), Figure)
    assert isinstance(plots.prior_posterior_chart(table, table, [0.2, 0.3, 0.5], ["a"], "t"), Figure)
    assert isinstance(plots.prim_tradeoff_chart([1, 0.5], [0.3, 0.9], [0, 1], 1), Figure)
