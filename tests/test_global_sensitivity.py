"""Whole-model sensitivity (`resim sensitivity`): known answers through the same pipeline (the
Ishigami function, an additive model, a scenario in which one parameter varies), grouping, resume,
the report section and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from tests import toys
from tests.conftest import SCENARIOS
from typer.testing import CliRunner

from resim.analysis import wholemodel as gs
from resim.cli import app
from resim.montecarlo.worlds import world_uniforms
from resim.scenario.loader import load

cli = CliRunner()
OUTAGE = SCENARIOS / "oracles" / "outage_vs_stock.yaml"
NO_EFFECT = "prices.motor_subsidy_loss_inr_per_vehicle={dist: uniform, low: 1000, high: 2000, source: test}"


def _by_factor(analysis: gs.Analysis, period: str = "all") -> dict[str, dict[str, float]]:
    return {r["factor"]: r for r in analysis.indices if r["period"] == period}


def test_ishigami_indices_match_their_closed_form(tmp_path):
    # Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2,
    # V1 = (1 + b pi^4/5)^2 / 2, V2 = a^2/8, V13 = b^2 pi^8 (1/18 - 1/50); S = V_i / V.
    a, b, pi = toys.A, toys.B, np.pi
    v1, v2, v13 = (1 + b * pi**4 / 5) ** 2 / 2, a**2 / 8, b**2 * pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    expected = {"x1": (v1 / v, (v1 + v13) / v), "x2": (v2 / v, v2 / v), "x3": (0.0, v13 / v)}
    analysis = gs.sensitivity("tests.toys:ishigami", n=1024, outcomes=("y",), by="parameter",
                              factors=["x1", "x2", "x3"], results=tmp_path)
    got = _by_factor(analysis)
    for factor, (s1, st) in expected.items():
        assert got[factor]["S1"] == pytest.approx(s1, abs=0.04), factor
        assert got[factor]["ST"] == pytest.approx(st, abs=0.04), factor
    assert [r["factor"] for r in analysis.indices] == ["x1", "x2", "x3"]  # ranked by ST


@pytest.mark.slow
def test_an_additive_model_has_first_order_equal_to_total_and_groups_add_up(tmp_path):
    # y = sum c_i u_i with independent uniforms: S_i = ST_i = c_i^2 / sum c^2; a group's index is
    # the sum of its members'; a factor with c = 0 gets exactly 0.
    c = np.array(toys.LINEAR)
    share = c**2 / (c**2).sum()
    names = ["a", "b", "c", "d"]
    one = _by_factor(gs.sensitivity("tests.toys:linear", n=512, outcomes=("y",), by="parameter", factors=names,
                                    results=tmp_path, workers=2))
    for name, s in zip(names, share, strict=True):
        assert one[name]["S1"] == pytest.approx(s, abs=0.03)
        assert one[name]["ST"] == pytest.approx(s, abs=0.03)
    assert one["d"]["ST"] == 0.0 and one["d"]["S1"] == 0.0
    grouped = _by_factor(gs.sensitivity("tests.toys:linear", n=512, outcomes=("y",), by="parameter", factors=names,
                                        groups={"ab": ["a", "b"]}, results=tmp_path))
    assert set(grouped) == {"ab", "c", "d"}
    assert grouped["ab"]["ST"] == pytest.approx(share[0] + share[1], abs=0.03)


@pytest.mark.slow
def test_a_scenario_in_which_one_parameter_varies_gives_it_everything(tmp_path):
    # The outage oracle: only the outage length is uncertain and nothing is random per event; a
    # price made uncertain changes money, not tonnes. Through the command, ungrouped.
    result = cli.invoke(app, ["sensitivity", str(OUTAGE), "--n", "256", "--by", "parameter", "--set", NO_EFFECT,
                              "--results", str(tmp_path), "--json", "--workers", "2"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    rows = {r["factor"]: r for r in document["indices"] if r["period"] == "all"}
    assert set(rows) == {"china.regimes.1.delay_days", "prices.motor_subsidy_loss_inr_per_vehicle", "luck"}
    outage = rows["china.regimes.1.delay_days"]
    assert outage["ST"] == pytest.approx(1.0, abs=0.15)
    assert abs(outage["S1"] - 1.0) <= max(0.15, outage["S1_conf"])
    for other in ("prices.motor_subsidy_loss_inr_per_vehicle", "luck"):
        assert rows[other]["ST"] == 0.0 and rows[other]["S1"] == 0.0  # no effect: exactly none
    folder = Path(document["results"])
    for name in ("indices.parquet", "convergence.parquet", "points.parquet", "indices.png", "indices_over_time.png",
                 "convergence.png"):
        assert (folder / name).is_file(), name
    sizes = sorted({r["base_samples"] for r in document["convergence"]})
    assert sizes == [32, 64, 128, 256]
    years = {r["period"] for r in document["indices"]}
    assert years == {"all", "2026", "2027", "2028"}


@pytest.mark.slow
def test_a_resumed_analysis_equals_an_uninterrupted_one(tmp_path):
    whole = gs.start(OUTAGE, 32, tmp_path / "a", ["test"], by="parameter")
    gs.run(whole, workers=2)
    expected = gs.analyze(whole, ["cumulative_shortfall_t"]).indices

    cut = gs.start(OUTAGE, 32, tmp_path / "b", ["test"], by="parameter")
    stopped = []

    def stop_after_two(batch: int) -> None:
        stopped.append(batch)
        if len(stopped) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        gs.run(cut, workers=1, on_batch=stop_after_two)
    assert not (cut / "points.parquet").exists() and not (cut / "indices.parquet").exists()
    assert gs.batches_left(cut) == (6, 8)
    result = cli.invoke(app, ["sensitivity", "--resume", str(cut), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["indices"] == expected
    assert pq.read_table(cut / "points.parquet").equals(pq.read_table(whole / "points.parquet"))


def test_every_factor_of_the_shipped_scenarios_has_a_mechanism():
    for path in sorted(SCENARIOS.glob("*.yaml")):
        factors = world_uniforms(load(path).scenario)
        assert [f for f in factors if gs.mechanism_of(f) == "other"] == [], path.name
    assert gs.mechanism_of("china.regimes.4") == "china_rules"
    assert gs.mechanism_of("china.rule_sets.october_2025.may_license.light_magnet.decided") == "china_rules"
    assert gs.mechanism_of("china.licensing.approval_probability") == "licensing"
    assert gs.mechanism_of("demand.segments.e2w.groups.small_makers.motor_shift_per_month") == "motor_imports"
    assert gs.mechanism_of(gs.LUCK) == "luck"


def test_user_groups_come_first_and_must_match(tmp_path):
    factors = ["china.licensing.approval_probability", "demand.inventory_cover_weeks", "luck"]
    assert gs.groups_for(factors, "mechanism", {"mine": ["demand.*"]}) == ["licensing", "mine", "luck"]
    assert gs.groups_for(factors, "parameter") == factors
    with pytest.raises(Exception, match="matches no factor"):
        gs.groups_for(factors, "mechanism", {"mine": ["nothing.*"]})


@pytest.mark.parametrize(("args", "field"), [
    (["--n", "100"], "--n"),
    (["--group", "mine=no.such.*"], "--group"),
    (["--group", "=x"], "--group"),
    (["--set", "horizon_months"], "--set"),
])
def test_bad_input_is_an_input_error_and_writes_nothing(tmp_path, args, field):
    result = cli.invoke(app, ["sensitivity", str(OUTAGE), *args, "--results", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert field in result.output and "allowed" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r").exists()


def test_the_report_has_a_sensitivity_section(tmp_path):
    folder = gs.start(OUTAGE, 16, tmp_path, ["test"])
    gs.run(folder, workers=1)
    gs.analyze(folder, ["cumulative_shortfall_t"])
    result = cli.invoke(app, ["report", str(folder), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    assert "What drives cumulative_shortfall_t" in page and "china_rules" in page and "data:image/png" in page


def test_a_too_wide_interval_says_what_sample_size_would_narrow_it():
    # Bootstrap intervals shrink as 1/sqrt(N): an interval of width 0.2 at N = 256 needs
    # 256 x (0.2 / 0.05)^2 = 4,096 base samples, here 4,096 x 5 = 20,480 points; at 0.1 s a
    # point that is 2,048 s, about 34 min.
    rows = [{"outcome": "y", "factor": "a", "ST": 0.6, "ST_conf": 0.1},
            {"outcome": "y", "factor": "b", "ST": 0.1, "ST_conf": 0.02}]
    (warning,) = gs.too_wide(rows, n=256, block=5, seconds_per_point=0.1)
    assert "about --n 4096 would narrow it: 20,480 points, ~34 min at this run's pace" in warning
    assert gs.needed_base_samples(256, 0.05) == 256 and gs.needed_base_samples(256, 0.06) == 512


def test_the_run_records_its_pace(tmp_path):
    analysis = gs.sensitivity("tests.toys:linear", n=16, outcomes=("y",), by="parameter",
                              factors=["x1", "x2", "x3", "x4"], results=tmp_path)
    manifest = json.loads((analysis.folder / "manifest.json").read_text())
    assert manifest["computed_points"] == 16 * 6 and manifest["compute_s"] > 0 and manifest["workers"] == 1


def test_a_fitted_scenarios_fitted_parameters_are_one_factor_drawn_jointly_from_the_posterior():
    # Parameters a posterior fitted take no uniform of their own (they would read exactly 0): the
    # posterior pick draws them together, as one accepted set, in the group "posterior".
    from resim.montecarlo.worlds import sample_world
    from resim.scenario.posterior import read_posterior

    sc = load(SCENARIOS / "backtest_2025_fitted.yaml").scenario
    fitted = read_posterior(sc.posterior).parameters
    factors = world_uniforms(sc)
    assert not set(fitted) & set(factors) and "posterior" in factors
    assert gs.groups_for(["posterior"], "mechanism") == ["posterior"]
    unfitted = world_uniforms(load(SCENARIOS / "backtest_2025.yaml").scenario)
    assert set(fitted) <= set(unfitted) and len(factors) == len(unfitted) - len(fitted) + 1
    posterior = read_posterior(sc.posterior)
    for u in (0.0, 0.5, 0.999):
        draws = sample_world(sc, sc.seed, 0, {"posterior": u}).draws
        assert {p: draws[p] for p in fitted} == posterior.pick(u)
