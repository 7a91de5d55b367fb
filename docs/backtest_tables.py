"""Print the backtest tables of docs/model.md ("Backtest against 2025") for backtest_2025 and
backtest_2025_fitted: monthly shortfall, cover, deliveries and mean % short by segment through
Q2 2026, and mean % short by group in three months.

    python docs/backtest_tables.py            # 300 replications each, seed 20261110, all cores
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from resim.model import columns
from resim.montecarlo.runner import run
from resim.scenario.loader import load

REPO = Path(__file__).resolve().parents[1]
SEED, REPLICATIONS, LAST_MONTH = 20261110, 300, "2026-06"
GROUP_MONTHS = ("2025-07", "2025-10", "2026-03")


def table(name: str, replications: int = REPLICATIONS) -> str:
    sc = load(REPO / "scenarios" / f"{name}.yaml").scenario
    at = {c: i for i, c in enumerate(columns(sc))}
    series = np.stack([r.series for chunk in run(sc, replications, SEED) for r in chunk])  # reps x months x cols
    months = [str((sc.report_from or sc.start).replace(day=1))[:7]]  # the first reported month
    for _ in range(series.shape[1] - 1):
        y, m = map(int, months[-1].split("-"))
        months.append(f"{y + m // 12}-{m % 12 + 1:02d}")

    def share(col: str, demand: str) -> np.ndarray:  # % short, replications x months
        d = series[:, :, at[demand]]
        return 100 * np.divide(series[:, :, at[col]], d, out=np.zeros_like(d), where=d > 0)

    total = share("shortfall_t", "demand_t")
    segments = list(sc.demand.segments)
    lines = [f"**{name}** ({replications} replications)", "",
             "| month | P(short) | median % | mean % | p95 % | cover (days) | China t | non-China t | "
             + " | ".join(segments) + " |", "|---" * (8 + len(segments)) + "|"]
    for k, month in enumerate(months):
        if not "2025-03" <= month <= LAST_MONTH:
            continue
        col = total[:, k]
        cells = [month, f"{np.mean(col > 1e-9):.2f}", f"{np.median(col):.1f}", f"{col.mean():.1f}",
                 f"{np.percentile(col, 95):.1f}", f"{series[:, k, at['cover_days']].mean():.1f}",
                 f"{series[:, k, at['delivered_china_t']].mean():.0f}",
                 f"{series[:, k, at['delivered_non_china_t']].mean():.0f}"]
        cells += [f"{share(f'shortfall_t.{s}', f'demand_t.{s}')[:, k].mean():.0f}" for s in segments]
        lines.append("| " + " | ".join(cells) + " |")
    groups = [f"{s}.{g}" for s, seg in sc.demand.segments.items() for g in seg.groups]
    picked = [months.index(m) for m in GROUP_MONTHS]
    by_group = "; ".join(f"{g} " + " / ".join(f"{share(f'shortfall_t.{g}', f'demand_t.{g}')[:, k].mean():.0f}"
                                             for k in picked) for g in groups)
    lines += ["", f"by group, mean % short (Jul 2025 / Oct 2025 / Mar 2026): {by_group}"]
    return "\n".join(lines)


if __name__ == "__main__":
    for scenario in sys.argv[1:] or ["backtest_2025", "backtest_2025_fitted"]:
        print(table(scenario), end="\n\n")
