"""The EMA Workbench adapter: a scenario as an EMA model, run by EMA itself (the shipped example)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import SCENARIOS

from resim.analysis.ema import ema_model, parameter_range, uncertain_fields
from resim.results.statistics import OUTCOMES

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ema_workbench_pause_ends.py"


@pytest.mark.slow
def test_the_adapter_maps_uncertain_fields_levers_and_outcomes():
    fields = uncertain_fields(SCENARIOS / "pause_ends.yaml")
    model = ema_model(SCENARIOS / "pause_ends.yaml", levers={"levers.stockpile.initial_cover_days": (0, 180)})
    assert [u.name for u in model.uncertainties] == list(fields)  # dotted names, no variable_name mapping
    assert "demand.inventory_cover_weeks" in fields and "domestic.plant.award_delay_months" in fields
    for u in model.uncertainties:
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
