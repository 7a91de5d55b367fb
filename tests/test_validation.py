"""The model's credentials: analytic oracles within intervals, and the books checked after every event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import SCENARIOS
from typer.testing import CliRunner

from resim.analysis import oracles
from resim.cli import app
from resim.model import ConservationError
from resim.montecarlo.runner import run_one
from resim.scenario.loader import load

cli = CliRunner()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(oracles.ORACLES))
def test_oracle_agrees_with_its_closed_form(name):
    result = oracles.ORACLES[name]()
    assert result.passed, result
    width = result.ci[1] - result.ci[0]
    if not result.at_most:  # a bound is informative when the whole interval lies under it (passed)
        assert width <= 0.2 * max(abs(result.expected), 1e-9) or width == 0  # informative: within +-10%


def test_an_upper_bound_oracle_fails_when_its_interval_reaches_above_the_bound():
    at = oracles.OracleResult("bound", "", "%", 0.1, 0.05, (0.0, 0.1001), 10, at_most=True)
    assert not at.passed and oracles.OracleResult("bound", "", "%", 0.1, 0.05, (0.0, 0.099), 10, at_most=True).passed


def test_erlang_c_formula_matches_a_textbook_value():
    # M/M/1 special case: Wq = rho / (mu - lambda); here lambda = 0.5/day, mean service 1 day.
    assert oracles.erlang_c_wait_days(0.5, 1.0, 1) == pytest.approx(0.5 / (1.0 - 0.5))


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
def test_every_shipped_scenario_passes_the_event_by_event_checks(name):
    sc = load(SCENARIOS / f"{name}.yaml").scenario
    for i in range(3):
        checked = run_one(sc, sc.seed, i, check=True)
        assert (checked.series == run_one(sc, sc.seed, i).series).all()  # checking changes nothing


def test_check_mode_catches_material_created_by_the_bookkeeping(monkeypatch, tmp_path):
    # a bug injected from outside the compiled classes, so the test holds in both builds: on day
    # 400, half a tonne appears in an e-2W group's stock from nowhere
    import resim.model.simulation as simulation
    from resim.model.clock import after

    real_books = simulation.Books

    def leaky_books(groups, *args):
        group = next(g for g in groups if g.name.startswith("e2w"))

        def leak() -> None:
            group.stock.level[0] += 0.5

        after(group.env, 400.0, leak)
        return real_books(groups, *args)

    monkeypatch.setattr(simulation, "Books", leaky_books)
    sc = load(SCENARIOS / "pause_ends.yaml").scenario
    with pytest.raises(ConservationError, match=r"20\d\d-\d\d-\d\d \(day [\d.]+\): group e2w\.\w+: opening"):
        run_one(sc, sc.seed, 0, check=True)
    res = cli.invoke(app, ["run", str(SCENARIOS / "pause_ends.yaml"), "-n", "2", "-w", "1", "--check",
                           "--results", str(tmp_path)])
    assert res.exit_code == 3 and "model check failed" in res.output and "Traceback" not in res.output
    assert not any(p.is_dir() for p in tmp_path.glob("*/*"))


@pytest.mark.slow
def test_resim_check_prints_the_credentials(monkeypatch):
    # The command's table and its scenario checks; the slow oracles (M/M/c and the outage, 40 s)
    # are each run by test_oracle_agrees_with_its_closed_form already, so the command runs the others.
    quick = {k: v for k, v in oracles.ORACLES.items() if k in ("little", "base_stock", "deterministic", "no_china")}
    monkeypatch.setattr(oracles, "ORACLES", quick)
    res = cli.invoke(app, ["check", "-n", "1"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "Little's law" in res.output and "Palm" in res.output and "all checks pass" in res.output
    scenarios = len(list(SCENARIOS.glob("*.yaml")))
    assert res.output.count("pass") >= len(quick) + scenarios
    doc = json.loads(cli.invoke(app, ["check", "-n", "1", "--json"]).stdout)  # verdicts as JSON booleans
    assert doc["passed"] is True and all(o["passed"] is True for o in doc["oracles"] + doc["scenarios"])


def test_resim_check_refuses_a_folder_without_scenarios_before_running_anything(tmp_path, monkeypatch):
    # a check must not pass by checking nothing
    monkeypatch.setattr(oracles, "ORACLES", {"never": lambda: pytest.fail("an oracle ran")})
    res = cli.invoke(app, ["check", "--scenarios", str(tmp_path / "empty")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "empty" in res.output and "holds no scenario file" in res.output and "--scenarios" in res.output


def test_resim_check_outside_the_repository_checks_the_shipped_scenarios(tmp_path, monkeypatch):
    from resim import pipeline

    monkeypatch.chdir(tmp_path)  # no scenarios/ here
    monkeypatch.setattr(oracles, "ORACLES", {})
    checked: list[Path] = []
    monkeypatch.setattr(pipeline, "check_scenarios", lambda files, replications: checked.extend(files) or [])
    res = cli.invoke(app, ["check"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in checked) == sorted(p.name for p in SCENARIOS.glob("*.yaml"))


@pytest.mark.slow
def test_precision_adds_replications_until_the_interval_is_tight_and_equals_a_fixed_run(tmp_path):
    import json

    import pyarrow.parquet as pq

    res = cli.invoke(app, ["run", str(SCENARIOS / "backtest_2025.yaml"), "-n", "10", "--precision", "0.03",
                           "--max-replications", "320", "--results", str(tmp_path / "adaptive")])
    assert res.exit_code == 0, res.output
    folder = next(p for p in (tmp_path / "adaptive").glob("*/*") if p.is_dir())
    manifest = json.loads((folder / "manifest.json").read_text())
    n, p = manifest["replications"], manifest["precision"]
    assert n in (10, 20, 40, 80, 160, 320) and f"after {n} replications" in res.output
    assert p["reached"] == (p["relative_half_width"] <= 0.03) and (p["reached"] or n == 320)
    assert n > 10  # 10 replications are not enough for +-3% here
    # the adaptive run is exactly the fixed run with the same count
    fixed = cli.invoke(app, ["run", str(SCENARIOS / "backtest_2025.yaml"), "-n", str(n), "--results",
                             str(tmp_path / "fixed")])
    assert fixed.exit_code == 0
    fixed_folder = next(p for p in (tmp_path / "fixed").glob("*/*") if p.is_dir())
    assert pq.read_table(folder / "series.parquet").equals(pq.read_table(fixed_folder / "series.parquet"))


def test_quantile_intervals_cover_the_true_quantile():
    import numpy as np

    from resim.results.statistics import quantile_ci

    rng = np.random.default_rng(5)
    for q, true in ((0.5, 0.0), (0.05, -1.6448536), (0.95, 1.6448536)):
        covered = np.mean([lo <= true <= hi for lo, hi in (quantile_ci(rng.normal(size=300), q) for _ in range(600))])
        assert 0.93 <= covered <= 0.995, (q, covered)


def test_the_mean_interval_is_students_t_interval_per_column():
    import numpy as np
    import scipy.stats as st

    from resim.results.statistics import mean_half_width

    x = np.random.default_rng(3).lognormal(size=(40, 3))
    for confidence in (0.95, 0.99):
        low, high = st.t.interval(confidence, len(x) - 1, loc=x.mean(axis=0), scale=st.sem(x, axis=0))
        np.testing.assert_allclose(mean_half_width(x, confidence), (high - low) / 2, rtol=1e-12)
        assert mean_half_width(x[:, 0], confidence) == pytest.approx((high[0] - low[0]) / 2, rel=1e-12)
    assert np.isnan(mean_half_width(x[:1, 0]))


def test_binomial_quantile_matches_scipy_stats():
    import scipy.stats as st

    from resim.results.statistics import _binom_ppf

    for n in (1, 7, 40, 199, 1000, 10_001):
        for p in (0.01, 0.05, 0.5, 0.95):
            for u in (0.005, 0.025, 0.975, 0.995):
                assert _binom_ppf(u, n, p) == st.binom.ppf(u, n, p), (u, n, p)


def test_outage_shortfall_is_exact_replication_by_replication():
    # Beyond the averages: given each replication's drawn outage length D, the stock of k days runs
    # out at day k and supply resumes at the instant D (continuous time), so the shortfall is
    # exactly max(0, D - k) t at 1 t/day.
    from resim.montecarlo.worlds import sample_world

    sc, _, k, short = oracles._outage(200, 11)
    for i, total in enumerate(short):
        outage_days = sample_world(sc, 11, i).timeline[-1][0]
        assert total == pytest.approx(max(0.0, outage_days - k), abs=1e-5)  # export processing: 1e-6 days


def test_every_seed_assumption_is_documented():
    # Each assumption file row: an id, a unit, a confidence, a source and a rationale; a range that
    # holds its value; "not found" facts carry no confident default (value null or a range).
    import yaml
    from tests.conftest import REPO

    from resim.scenario.seeds import ASSUMPTION_FILES

    ids = set()
    for name in ASSUMPTION_FILES:
        for row in yaml.safe_load((REPO / "seeds" / name).read_text())["assumptions"]:
            assert row["id"] not in ids, row["id"]
            ids.add(row["id"])
            assert row["unit"] and row["confidence"] in {"H", "M", "L"} and row["source"], row["id"]
            assert "rationale" in row, row["id"]
            if row.get("low") is not None and isinstance(row["value"], int | float):
                assert row["low"] <= row["value"] <= row["high"], row["id"]
            if "not found" in row["source"]:
                assert row["confidence"] == "L" and (row["value"] is None or row.get("low") is not None), row["id"]


def test_sources_lists_every_structural_choice():
    from resim.scenario.loader import load
    from resim.scenario.provenance import structural_rows
    from resim.scenario.schema import rule_sets_in_force

    for name in ("pause_ends", "october_returns_stress", "full_ban"):
        loaded = load(SCENARIOS / f"{name}.yaml")
        rows = structural_rows(loaded)
        listed = {r["choice"] for r in rows}
        assert {f"rule set {n}" for n in rule_sets_in_force(loaded.scenario)} <= listed
        assert len([r for r in rows if r["choice"].startswith("from ")]) == len(loaded.scenario.china.regimes)
        assert all(r["basis"] for r in rows), name  # every choice says what it rests on
    rows = structural_rows(load(SCENARIOS / "pause_ends.yaml"))
    october = next(r for r in rows if r["choice"] == "rule set october_2025")
    assert "may license: light_magnet" in october["what"]
    assert "oct2025_light_ree_licensed_probability" in october["basis"]
    res = cli.invoke(app, ["sources", str(SCENARIOS / "pause_ends.yaml")], env={"COLUMNS": "250"})
    assert res.exit_code == 0 and "structural choices" in res.output and "snapback_nov2026" in res.output



def test_the_answer_by_drawn_outcome_splits_the_replications_exactly():
    import numpy as np
    import scipy.stats as st

    from resim.results.statistics import by_outcome

    cumulative = np.array([0.0, 10.0, 20.0, 30.0, 40.0, 50.0])
    outcomes = np.array([["a", "x"], ["b", "x"], ["a", "x"], ["b", "x"], ["a", "x"], ["b", "x"]], dtype=object)
    rows = by_outcome(cumulative, cumulative > 0, ["world", "fixed"], outcomes)
    assert [(r["change"], r["outcome"], r["replications"]) for r in rows] == [("world", "a", 3), ("world", "b", 3)]
    a, b = rows
    assert (a["mean_t"], a["median_t"], a["p_any_shortfall"]) == (20.0, 20.0, pytest.approx(2 / 3))
    assert (b["mean_t"], b["share"], b["p_any_shortfall"]) == (30.0, 0.5, 1.0)
    assert a["mean_half_width_t"] == pytest.approx(st.t.ppf(0.975, 2) * 20.0 / np.sqrt(3))  # sd of 0, 20, 40 is 20
