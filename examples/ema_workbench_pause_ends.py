"""Explore pause_ends with EMA Workbench: resim's adapter turns the scenario into an EMA model
(uncertainties from its distributions, a stockpile lever, outcomes from resim's outcome table),
EMA draws the experiments and its PRIM finds where the cumulative shortfall is worst.

    pip install -e ".[ema]"
    python examples/ema_workbench_pause_ends.py [EXPERIMENTS] [REPLICATIONS]
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

with warnings.catch_warnings():  # EMA warns at import about its own optional parts (ipyparallel)
    warnings.simplefilter("ignore")
    from ema_workbench import perform_experiments
    from ema_workbench.analysis import prim

import numpy as np

from resim.analysis.ema import ema_model

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "pause_ends.yaml"
FEW = ["demand.segments.ecar.growth_per_year", "demand.inventory_cover_weeks",
       "china.licensing.approval_probability", "china.rule_sets.april_2025_flowing.approval_probability"]


def main(experiments: int = 40, replications: int = 5) -> tuple[object, dict[str, object]]:
    model = ema_model(SCENARIO, replications=replications, uncertainties=FEW,
                      levers={"levers.stockpile.initial_cover_days": (0.0, 180.0)})
    results = perform_experiments(model, scenarios=experiments, policies=2)
    table, outcomes = results
    y = outcomes["cumulative_shortfall_t"]
    worst = np.zeros(len(y), dtype=bool)  # the worst quarter of experiments, by rank (many tie at 0 t)
    worst[np.argsort(y, kind="stable")[-max(1, len(y) // 4):]] = True
    box = prim.Prim(table[[u.name for u in model.uncertainties]], worst, threshold=0.6).find_box()
    print(box.inspect(style="table"))
    return table, outcomes


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
