"""pause_ends' mean cumulative shortfall over its reported months (December 2026-2030) for each
count of firms a maker group is to China's licensing office (`demand.licence_applicants_per_group`;
baseline 6, sourced range 4-8), with everything else as shipped: how much the answer rests on it.

    python docs/firms.py            # 400 replications a count, 2 processes (about 35 s compiled)
"""

from __future__ import annotations

import argparse
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from resim.model import columns
from resim.montecarlo.runner import run_one
from resim.scenario.loader import load

ENDS = Path(__file__).resolve().parents[1] / "scenarios" / "pause_ends.yaml"
COUNTS = (1, 4, 6, 8)


def reported_shortfall_t(args: tuple[int, int]) -> float:
    firms, replication = args
    scenario = load(ENDS, {"demand.licence_applicants_per_group": firms}).scenario
    series = run_one(scenario, scenario.seed, replication).series
    first = (scenario.report_from.year - scenario.start.year) * 12 + scenario.report_from.month - scenario.start.month
    return float(series[first:, columns(scenario).index("shortfall_t")].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=400, help="replications a count")
    n = parser.parse_args().n
    print(f"| firms a group | mean cumulative shortfall, Dec 2026-2030 ({n} replications) |")
    print("|---|---|")
    with Pool(2) as pool:
        for firms in COUNTS:
            t = np.array(pool.map(reported_shortfall_t, [(firms, i) for i in range(n)]))
            print(f"| {firms} | {t.mean():.0f} t (+-{1.96 * t.std(ddof=1) / np.sqrt(n):.0f}) |")


if __name__ == "__main__":
    main()
