"""Model v3's acceptance figures, measured: mean % of demand short per year in the null case and
in `baseline` (the status quo), baseline's licence coverage by group, and where the mechanisms
alone (prior means, `backtest_2025`) put each segment in Jun-Sep 2025, Q4 2025 and H1 2026.

    python docs/acceptance_v3.py            # 200 replications each, seed 20261110, all cores
    python docs/acceptance_v3.py -n 50
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from resim.model import columns
from resim.montecarlo.runner import run
from resim.scenario.loader import load

REPO = Path(__file__).resolve().parents[1]
SEED = 20261110
WINDOWS = {"Jun-Sep 2025": ("2025-06", "2025-09"), "Q4 2025": ("2025-10", "2025-12"),
           "H1 2026": ("2026-01", "2026-06")}


def series_of(name: str, replications: int) -> tuple[np.ndarray, dict[str, int], list[str]]:
    """(replications x months x columns, column index, 'YYYY-MM' of each month) for a shipped
    scenario, reported from its start (2025 included)."""
    sc = load(REPO / "scenarios" / f"{name}.yaml").scenario
    sc = load(REPO / "scenarios" / f"{name}.yaml", {"report_from": sc.start.isoformat()}).scenario
    series = np.stack([r.series for chunk in run(sc, replications, SEED) for r in chunk])
    months = [str(day)[:7] for day in sc.reported_dates]
    return series, {c: i for i, c in enumerate(columns(sc))}, months


def percent_short(series: np.ndarray, at: dict[str, int], months: list[str], first: str, last: str,
                  suffix: str = "") -> float:
    """Mean over replications of shortfall / demand over the months first..last (inclusive), in %."""
    k = [i for i, m in enumerate(months) if first <= m <= last]
    short = series[:, k, at[f"shortfall_t{suffix}"]].sum(axis=1)
    need = series[:, k, at[f"demand_t{suffix}"]].sum(axis=1)
    return float(100 * np.mean(np.divide(short, need, out=np.zeros_like(need), where=need > 0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="replications a scenario")
    n = parser.parse_args().n
    print(f"mean % of demand short per year ({n} replications, seed {SEED})\n")
    print("| scenario | " + " | ".join(str(y) for y in range(2025, 2031)) + " |")
    print("|---" * 7 + "|")
    for name in ("oracles/no_controls", "baseline"):
        series, at, months = series_of(name, n)
        cells = [f"{percent_short(series, at, months, f'{y}-01', f'{y}-12'):.2f}"
                 if any(m.startswith(str(y)) for m in months) else "" for y in range(2025, 2031)]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
        if name == "baseline":
            coverage = {c.split(".", 1)[1]: series[:, [k for k, m in enumerate(months) if m >= "2027-01"], i].mean()
                        for c, i in at.items() if c.startswith("licence_cover_share.")}
    print("\nbaseline, 2027-2030: share of the time each group could ship Dy/Tb-grade magnets from China "
          "without a new licence (licence_cover_share)\n")
    print("| " + " | ".join(coverage) + " |\n" + "|---" * len(coverage) + "|\n| "
          + " | ".join(f"{v:.2f}" for v in coverage.values()) + " |")
    series, at, months = series_of("backtest_2025", n)
    print(f"\nbacktest_2025 (prior means), mean % of demand short ({n} replications)\n")
    print("| segment | " + " | ".join(WINDOWS) + " |")
    print("|---" * (len(WINDOWS) + 1) + "|")
    for segment in ("e2w", "e3w", "ecar", "ebus", ""):
        cells = [f"{percent_short(series, at, months, a, b, f'.{segment}' if segment else ''):.1f}"
                 for a, b in WINDOWS.values()]
        print(f"| {segment or 'all'} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
