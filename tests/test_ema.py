"""The EMA Workbench adapter: a scenario as an EMA model, run by EMA itself (the shipped example)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import SCENARIOS

from resim.analysis.ema import ema_model, parameter_range, regime_outcomes, regime_overrides, uncertain_fields
from resim.results.statistics import OUTCOMES

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ema_workbench_pause_ends.py"


@pytest.mark.slow
def test_the_adapter_maps_uncertain_fields_levers_and_outcomes():
    fields = uncertain_fields(SCENARIOS / "pause_ends.yaml")
    model = ema_model(SCENARIOS / "pause_ends.yaml", levers={"levers.stockpile.initial_cover_days": (0, 180)})
    regimes = regime_outcomes(SCENARIOS / "pause_ends.yaml")
    assert [u.name for u in model.uncertainties] == [*fields, *regimes]  # dotted names, no variable_name mapping
    assert regimes  # which world follows the pause: a categorical uncertainty over the outcomes' names
    for path, names in regimes.items():
        categorical = next(u for u in model.uncertainties if u.name == path)
        assert [c.value for c in categorical.categories] == names
    assert "demand.inventory_cover_weeks" in fields and "domestic.plant.award_delay_months" in fields
    for u in list(model.uncertainties)[:len(fields)]:
        low, high = parameter_range(fields[u.name])
        assert (u.lower_bound, u.upper_bound) == (low, high) and low < high
    assert [lever.name for lever in model.levers] == ["levers.stockpile.initial_cover_days"]
    assert [o.name for o in model.outcomes] == list(OUTCOMES)


@pytest.mark.slow
def test_the_ema_example_runs_experiments_with_common_random_numbers():
    spec = importlib.util.spec_from_file_location("ema_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    table, outcomes = example.main(experiments=3, replications=2)
    assert len(table) == 6 and set(outcomes) == set(OUTCOMES)  # 3 scenarios x 2 policies
    for name in example.FEW:
        assert name in table.columns
    shortfall = np.asarray(outcomes["cumulative_shortfall_t"])
    assert np.all(np.isfinite(shortfall)) and np.all(shortfall >= 0)
    # an experiment is a pure function of its parameters: re-running a row gives EMA's figure
    model = ema_model(SCENARIOS / "pause_ends.yaml", replications=2)
    row = table.iloc[4]
    again = model.function(**{name: row[name] for name in [*example.FEW, "levers.stockpile.initial_cover_days"]})
    assert again["cumulative_shortfall_t"] == pytest.approx(shortfall[4], rel=1e-12)


def test_an_experiment_is_reproducible():
    model = ema_model(SCENARIOS / "pause_ends.yaml", replications=2)
    point = {"demand.inventory_cover_weeks": np.float64(3.0)}  # numpy scalars, as EMA passes them
    assert model.function(**point) == model.function(**point)
    with pytest.raises(Exception, match="inventory_cover_weeks"):
        model.function(**{"demand.inventory_cover_weeks": -1.0})


def test_setting_a_regime_outcome_replays_the_replications_that_drew_it():
    # forcing an outcome leaves every other draw alone: replication i with outcome X forced is
    # replication i of the plain scenario wherever that one drew X (common random numbers)
    from resim.montecarlo.runner import run_one
    from resim.scenario.loader import load

    file = SCENARIOS / "pause_ends.yaml"
    regime, names = next(iter(regime_outcomes(file).items()))
    key = "regime_" + regime.rsplit(".", 1)[1]
    plain = load(file).scenario
    drawn = [run_one(plain, plain.seed, i) for i in range(12)]
    assert len({r.outcomes[key] for r in drawn}) > 1
    for name in names:
        forced = load(file, regime_overrides(regime, name, names)).scenario
        for i, r in enumerate(drawn):
            again = run_one(forced, plain.seed, i)
            assert again.outcomes[key] == name
            if r.outcomes[key] == name:
                assert np.array_equal(again.series, r.series)
    model = ema_model(file, replications=2, uncertainties=[regime])
    assert model.function(**{regime: names[0]}) == model.function(**{regime: names[0]})
