"""A scenario as an EMA Workbench model (`pip install -e ".[ema]"`): its uncertain world parameters
become EMA uncertainties (ranges from each distribution's support, or its 1st-99th percentiles
where the support is unbounded; discrete choices become categorical), each uncertain regime change
(`china.regimes.<i>`: which world follows it) becomes a categorical uncertainty over its outcomes'
names, the levers you name become
EMA levers, and every run outcome (`results/statistics.OUTCOMES`) becomes a scalar outcome: its mean over the
replications of one experiment. Parameters keep their dotted names, so no `variable_name` mapping
is needed; an experiment is one call of `sweep.evaluate` with the same seed and replications, so
experiments differ only where their parameters differ (common random numbers).

    from ema_workbench import perform_experiments
    from resim.analysis.ema import ema_model
    model = ema_model("scenarios/stockpile_90d.yaml", replications=20,
                      levers={"levers.stockpile.initial_cover_days": (0, 180)})
    experiments, outcomes = perform_experiments(model, scenarios=100, policies=4)
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from resim.errors import optional
from resim.results.statistics import OUTCOMES
from resim.scenario.loader import load
from resim.scenario.params import Choice, _Spec
from resim.scenario.walk import is_per_event, iter_specs

TAIL = 0.01  # an unbounded distribution's range: its 1st to 99th percentile


def regime_outcomes(scenario_file: Path | str) -> dict[str, list[str]]:
    """Each uncertain regime change (`china.regimes.<i>`, the key its draw has in the world) and
    the names of its outcomes."""
    sc = load(scenario_file).scenario
    return {f"china.regimes.{i}": [o.name for o in change.outcomes]
            for i, change in enumerate(sc.china.regimes) if change.outcomes}


def regime_overrides(regime: str, outcome: str, names: list[str]) -> dict[str, float]:
    """The overrides that make `outcome` certain at `regime` (its probability 1, the others' 0); the
    uniform that drew it is unused then, so every other draw of a replication is unchanged."""
    return {f"{regime}.outcomes.{j}.probability": float(name == outcome) for j, name in enumerate(names)}


def uncertain_fields(scenario_file: Path | str) -> dict[str, _Spec]:
    """Every scenario field drawn once per replication from a distribution (dotted path -> spec);
    the domestic plants' template counts once (an experiment sets every plant alike)."""
    sc = load(scenario_file).scenario
    return {path: spec for path, spec, field in iter_specs(sc)
            if isinstance(spec, _Spec) and not spec.is_fixed and not is_per_event(field)}


def parameter_range(spec: _Spec) -> tuple[float, float]:
    low, high = spec.support()
    if not math.isfinite(low):
        low = float(spec.ppf(TAIL))
    if not math.isfinite(high):
        high = float(spec.ppf(1 - TAIL))
    return low, high


def ema_model(scenario_file: Path | str, replications: int = 20, seed: int | None = None,
              uncertainties: list[str] | None = None, levers: dict[str, tuple[float, float]] | None = None,
              name: str | None = None) -> Any:
    """An `ema_workbench.Model` of the scenario (see the module docstring); `uncertainties`
    restricts them to the paths given (default: all of `uncertain_fields`, then every regime change
    of `regime_outcomes`)."""
    ema = optional("ema_workbench", "ema")
    fields, regimes = uncertain_fields(scenario_file), regime_outcomes(scenario_file)
    chosen = uncertainties if uncertainties is not None else [*fields, *regimes]
    sc = load(scenario_file).scenario
    run_seed = sc.seed if seed is None else seed
    experiment = _Experiment(str(scenario_file), replications, run_seed, regimes)
    model = ema.Model(name or re.sub(r"[^A-Za-z0-9]", "", sc.name), function=experiment)  # EMA: letters, digits
    model.uncertainties = [ema.CategoricalParameter(path, regimes[path]) if path in regimes
                           else _parameter(ema, path, fields[path]) for path in chosen]
    model.levers = [ema.RealParameter(path, low, high) for path, (low, high) in (levers or {}).items()]
    model.outcomes = [ema.ScalarOutcome(outcome) for outcome in OUTCOMES]
    return model


def _parameter(ema: Any, path: str, spec: _Spec) -> Any:
    if isinstance(spec, Choice):
        return ema.CategoricalParameter(path, sorted(set(spec.values)))
    low, high = parameter_range(spec)
    return ema.RealParameter(path, low, high)


class _Experiment:
    """EMA's model function: one experiment = the scenario with these fields set, `replications`
    replications with one seed; returns each run outcome's mean (picklable, for EMA's pools)."""

    def __init__(self, scenario_file: str, replications: int, seed: int, regimes: dict[str, list[str]]):
        self.scenario_file, self.replications, self.seed, self.regimes = scenario_file, replications, seed, regimes

    def __call__(self, **fields: Any) -> dict[str, float]:
        from resim.analysis.sweep import outcomes_of

        overrides: dict[str, float] = {}
        for key, value in fields.items():
            if key in self.regimes:
                overrides |= regime_overrides(key, str(value), self.regimes[key])
            else:
                overrides[key] = float(value)
        sc = load(self.scenario_file, overrides).scenario
        per = outcomes_of(sc, self.replications, self.seed)  # what a sweep point computes
        return {name: float(np.mean(per[name])) for name in OUTCOMES}
