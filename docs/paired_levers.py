"""Single levers against pause_ends, pair by pair: the share of paired replications (same seed and
index, so the same world and luck wherever the two agree) in which moving one lever leaves more
cumulative shortfall, by more than 1 t. Model v3's goal is at most 2% for each lever.

    python docs/paired_levers.py            # 200 replications a side (about 10 minutes compiled, 1 core)
    python docs/paired_levers.py -n 50
    python docs/paired_levers.py --fixed lead          # lead times fixed at their medians (whose luck is it?)
    python docs/paired_levers.py --fixed lead+licence  # and licence decision delays too
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from resim.model import columns
from resim.montecarlo.runner import run_one
from resim.scenario.loader import load

ENDS = Path(__file__).resolve().parents[1] / "scenarios" / "pause_ends.yaml"
LEVERS: dict[str, tuple[dict[str, float], dict[str, float]]] = {
    "approval odds 0.12 -> 0.30 (china.licensing.approval_probability alone)":
        ({"china.licensing.approval_probability": 0.12}, {"china.licensing.approval_probability": 0.30}),
    "2026 odds at their range ends, 0.25 -> 0.80":
        ({"china.rule_sets.april_2025_flowing.approval_probability": 0.25},
         {"china.rule_sets.april_2025_flowing.approval_probability": 0.80}),
    "domestic plant capacity x2 (1,200 -> 2,400 t/yr a plant)": ({}, {"domestic.plant.capacity_t_per_year": 2400}),
    "Korea/Vietnam capacity 400 -> 1,000 t/yr":
        ({"suppliers.korea_vietnam.capacity_t_per_year": 400}, {"suppliers.korea_vietnam.capacity_t_per_year": 1000}),
    "Japan capacity 200 -> 500 t/yr":
        ({"suppliers.japan.capacity_t_per_year": 200}, {"suppliers.japan.capacity_t_per_year": 500}),
}


LEADS = {"china.lead_time_days": 30.0, "domestic.lead_time_days": 14.0,
         **{f"suppliers.{s}.lead_time_days": 60.0 for s in ("japan", "korea_vietnam", "usa", "europe")}}
FIXED = {"none": {}, "lead": LEADS, "lead+licence": {**LEADS, "china.licensing.decision_delay_days": 63.0}}


def cumulative_shortfall_t(overrides: dict[str, float], replications: int) -> np.ndarray:
    scenario = load(ENDS, overrides).scenario
    column = columns(scenario).index("shortfall_t")
    return np.array([run_one(scenario, scenario.seed, i).series[:, column].sum() for i in range(replications)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="replications a side")
    parser.add_argument("--fixed", choices=list(FIXED), default="none",
                        help="per-event spreads switched off: lead times, and licence decision delays (medians)")
    args = parser.parse_args()
    n, fixed = args.n, FIXED[args.fixed]
    print(f"| lever (pause_ends, {n} paired replications) | worse by > 1 t | mean cumulative shortfall |")
    print("|---|---|---|")
    for name, (before, after) in LEVERS.items():
        lo, hi = cumulative_shortfall_t({**fixed, **before}, n), cumulative_shortfall_t({**fixed, **after}, n)
        worse = int((hi > lo + 1).sum())
        print(f"| {name} | {worse} of {n} ({100 * worse / n:.1f}%) | {lo.mean():,.0f} -> {hi.mean():,.0f} t |",
              flush=True)


if __name__ == "__main__":
    main()
