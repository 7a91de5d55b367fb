"""resim calibrate: approximate Bayesian computation recovers known parameters, and a scenario
drawing from the posterior gets accepted sets, reproducibly."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from resim.analysis import calibrate
from resim.cli import app
from resim.model import columns
from resim.model.clock import month_starts
from resim.montecarlo.runner import run_one
from resim.montecarlo.worlds import sample_world
from resim.scenario.loader import load
from resim.scenario.posterior import read_posterior

cli = CliRunner()
TRUE = {"demand.segments.seg.units_per_year": 365_250.0, "suppliers.alt.capacity_t_per_year": 182.625}
WIDE = {"demand.segments.seg.units_per_year": {"dist": "uniform", "low": 150_000, "high": 600_000, "source": "test"},
        "suppliers.alt.capacity_t_per_year": {"dist": "uniform", "low": 40, "high": 400, "source": "test"}}
OBSERVED = [  # (name, column, aggregation): demand in tonnes over H1, non-China deliveries over H1
    ("demand_h1", "demand_t", "sum"), ("non_china_h1", "delivered_non_china_t", "sum")]


def _observations_file(tmp_path: Path, write_scenario) -> Path:
    truth = load(write_scenario(TRUE, name="truth.yaml")).scenario
    prior_file = write_scenario(WIDE, name="wide.yaml")
    cols, months = columns(truth), month_starts(truth.start, truth.horizon_months)[:-1]
    doc = {"name": "recovery", "scenario": prior_file.name, "fit": list(TRUE), "draws": 150, "replications": 1,
           "accept_share": 0.1, "observations": []}
    for name, column, aggregation in OBSERVED:
        ob = calibrate.Observation.model_validate({
            "name": name, "column": column, "aggregation": aggregation, "value": 0, "uncertainty": 1, "source": "x",
            "window": {"from": "2026-01-01", "to": "2026-06-01"}})
        value = calibrate.statistic(ob, run_one(truth, 7, 0).series, cols, months)
        doc["observations"].append({"name": name, "column": column, "aggregation": aggregation, "value": value,
                                    "uncertainty": 0.02 * value, "source": "simulated from known values",
                                    "window": {"from": "2026-01-01", "to": "2026-06-01"}})
    path = tmp_path / "observations.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.slow
def test_calibration_recovers_known_parameters_and_a_scenario_draws_from_its_posterior(tmp_path, write_scenario):
    path = _observations_file(tmp_path, write_scenario)
    res = cli.invoke(app, ["calibrate", str(path), "--results", str(tmp_path / "results"), "-w", "2"])
    assert res.exit_code == 0, res.output
    folder = next((tmp_path / "results" / "calibrations" / "recovery").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] and (folder / "prior_posterior.png").read_bytes()[:4] == b"\x89PNG"
    diagnostics = manifest["diagnostics"]
    assert diagnostics["accepted"] == 15 and diagnostics["effective_sample_size"] > 5
    for param, truth in TRUE.items():
        p = diagnostics["parameters"][param]
        assert p["posterior_p5"] <= truth <= p["posterior_p95"], (param, p)  # covers the true value
        assert p["posterior_sd"] < 0.5 * p["prior_sd"], (param, p)  # with shrunk spread
    posterior = pq.read_table(folder / "posterior.parquet").to_pydict()
    assert abs(sum(posterior["weight"]) - 1) < 1e-9
    # a scenario with `posterior:` draws its fitted parameters from the accepted sets, reproducibly
    doc = yaml.safe_load((tmp_path / "wide.yaml").read_text())
    doc["posterior"] = str(folder.relative_to(tmp_path))
    (tmp_path / "fitted.yaml").write_text(yaml.safe_dump(doc))
    fitted = load(tmp_path / "fitted.yaml").scenario
    accepted = set(zip(*(posterior[f"param.{p}"] for p in TRUE), strict=True))
    picks = [tuple(sample_world(fitted, 5, i).draws[p] for p in TRUE) for i in range(40)]
    assert set(picks) <= accepted and len(set(picks)) > 3
    assert picks == [tuple(sample_world(fitted, 5, i).draws[p] for p in TRUE) for i in range(40)]
    # other draws keep their streams: the world outside the fitted parameters is the prior scenario's
    prior = load(tmp_path / "wide.yaml").scenario
    assert np.isclose(sample_world(fitted, 5, 0).scenario.suppliers["alt"].capacity_t_per_year,
                      picks[0][1])
    assert sample_world(prior, 5, 0).draws.keys() == sample_world(fitted, 5, 0).draws.keys()


def test_a_resumed_calibration_recomputes_only_missing_draws_and_refuses_an_edited_file(tmp_path, write_scenario):
    path = _observations_file(tmp_path, write_scenario)
    folder = calibrate.start(path, tmp_path / "results", None, ["test"], draws=50)
    calibrate.run(folder, 1)
    whole = pq.read_table(folder / "draws.parquet").to_pydict()
    for i in (3, 7, 11):
        (folder / "points" / f"{i}.parquet").unlink()
    assert calibrate.run(folder, 1)["accepted"] == 5
    assert pq.read_table(folder / "draws.parquet").to_pydict() == whole
    path.write_text(path.read_text().replace("accept_share: 0.1", "accept_share: 0.2"))
    res = cli.invoke(app, ["calibrate", "--resume", str(folder)])
    assert res.exit_code == 2 and "changed since the calibration started" in res.output


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["observations"][0].update(column="shortage_t"), ["observations.0.column", "unknown column",
                                                                  "shortfall_t"]),
    (lambda d: d["observations"][0].update(column="shortfall_t.seg.nogroup"), ["unknown column"]),
    (lambda d: d["observations"][0]["window"].update(to="2031-01-01"), ["observations.0.window",
                                                                        "not a reported month", "2026-12-01"]),
    (lambda d: d["observations"][0].update(uncertainty=0), ["observations.0.uncertainty", "greater than 0"]),
    (lambda d: d["observations"][0].update(uncertainty=-1), ["uncertainty", "greater than 0"]),
    (lambda d: d["observations"][0].update(aggregation="index"), ["needs a base window"]),
    (lambda d: d["observations"][0].update(aggregation="median"), ["aggregation", "'sum', 'mean', 'index'"]),
    (lambda d: d.update(fit=["china.lead_time_days"]), ["fit.0", "not an uncertain world parameter"]),
    (lambda d: d.update(fit=["demand.segments.seg.growth_per_year"]), ["fit.0", "not an uncertain world parameter"]),
])
def test_bad_observations_get_a_clear_error(tmp_path, write_scenario, change, expected):
    path = _observations_file(tmp_path, write_scenario)
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    res = cli.invoke(app, ["calibrate", str(path), "--results", str(tmp_path / "results")])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "observations.yaml" in res.output
    for fragment in expected:
        assert fragment in res.output, (fragment, res.output)
    assert not (tmp_path / "results").exists()


def test_a_posterior_folder_that_is_incomplete_or_from_another_scenario_is_refused(tmp_path, write_scenario):
    path = _observations_file(tmp_path, write_scenario)
    folder = calibrate.start(path, tmp_path / "results", None, ["test"], draws=50)
    doc = yaml.safe_load((tmp_path / "wide.yaml").read_text())
    doc["posterior"] = str(folder)
    (tmp_path / "fitted.yaml").write_text(yaml.safe_dump(doc))
    res = cli.invoke(app, ["validate", str(tmp_path / "fitted.yaml")])
    assert res.exit_code == 2 and "not a finished resim calibration" in res.output and "fitted.yaml" in res.output
    calibrate.run(folder, 1)
    read_posterior.cache_clear()
    doc["suppliers"]["alt"]["capacity_t_per_year"] = {"dist": "uniform", "low": 10, "high": 50, "source": "other"}
    (tmp_path / "fitted.yaml").write_text(yaml.safe_dump(doc))
    res = cli.invoke(app, ["validate", str(tmp_path / "fitted.yaml")])
    assert res.exit_code == 2 and "fitted with prior" in res.output
    assert "suppliers.alt.capacity_t_per_year" in res.output
    # one value set for a fitted parameter (a lever) wins; the other fitted one still comes from the fit
    doc["suppliers"]["alt"]["capacity_t_per_year"] = 77.0
    (tmp_path / "fitted.yaml").write_text(yaml.safe_dump(doc))
    res = cli.invoke(app, ["validate", str(tmp_path / "fitted.yaml")])
    assert res.exit_code == 0, res.output
    lever, posterior = load(tmp_path / "fitted.yaml").scenario, read_posterior(str(folder))
    units = "demand.segments.seg.units_per_year"
    for i in range(5):
        world = sample_world(lever, 3, i)
        assert world.scenario.suppliers["alt"].capacity_t_per_year == 77.0
        assert world.draws[units] in posterior.parameters[units]
    # `resim sources` shows the fitted one with the posterior's spread and where it came from, the set one as set
    from resim.scenario.provenance import parameter_rows

    rows = {r["parameter"]: r for r in parameter_rows(load(tmp_path / "fitted.yaml"))}
    fitted = rows[units]
    assert fitted["value"].startswith("fitted; prior uniform")
    assert "posterior of calibration recovery" in fitted["source"]
    x, w = np.array(posterior.parameters[units]), np.array(posterior.weights)
    assert fitted["p5"] == calibrate.weighted_quantile(x, w, 0.05) and fitted["p95"] >= fitted["median"] >= fitted["p5"]
    assert rows["suppliers.alt.capacity_t_per_year"]["value"] == "77"


def test_a_run_of_a_fitted_scenario_names_its_posterior_in_the_manifest(tmp_path):
    from tests.conftest import SCENARIOS

    res = cli.invoke(app, ["run", str(SCENARIOS / "backtest_2025_fitted.yaml"), "-n", "4", "-w", "1",
                           "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    manifest = json.loads(next(tmp_path.glob("*/*/manifest.json")).read_text())
    assert manifest["posterior"]["calibration"] == "record_and_sales_2025"
    assert "demand.inventory_cover_weeks" in manifest["posterior"]["fitted"]
    # the manifest and the scenario hash name the posterior's contents, not only its folder
    from resim.results.writer import scenario_hash
    from resim.scenario.posterior import read_posterior

    folder = tmp_path / "posterior_copy"
    shutil.copytree(SCENARIOS.parent / "posteriors" / "record_and_sales_2025", folder)
    fitted = tmp_path / "fitted.yaml"
    fitted.write_text(f"extends: {SCENARIOS / 'backtest_2025_fitted.yaml'}\nposterior: {folder}\n")
    before = scenario_hash(load(fitted).scenario)
    assert read_posterior(str(folder)).content_hash == manifest["posterior"]["content_hash"]
    table = pq.read_table(folder / "posterior.parquet")
    weights = table.column("weight").to_pylist()
    weights[0], weights[1] = weights[1], weights[0]  # the same folder, other weights
    pq.write_table(table.set_column(table.schema.get_field_index("weight"), "weight", pa.array(weights)),
                   folder / "posterior.parquet")
    read_posterior.cache_clear()
    assert scenario_hash(load(fitted).scenario) != before


def test_an_observation_without_a_number_in_any_set_stops_the_fit_and_leaves_it_incomplete(tmp_path, write_scenario):
    # An index over a base window in which nothing is ever delivered (no stockpile) has no number in
    # any replication: every distance is infinite, and a posterior with NaN weights must never be
    # written (the 2026-12-07 re-fit wrote one when a March without Chinese arrivals hit every set).
    path = _observations_file(tmp_path, write_scenario)
    doc = yaml.safe_load(path.read_text())
    doc["observations"].append({"name": "nothing", "column": "delivered_stockpile_t", "aggregation": "index",
                                "window": {"from": "2026-02-01", "to": "2026-02-01"},
                                "base": {"from": "2026-01-01", "to": "2026-01-01"},
                                "value": 1.0, "uncertainty": 0.1, "source": "x"})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    res = cli.invoke(app, ["calibrate", str(path), "--results", str(tmp_path / "results"), "--draws", "50"])
    assert res.exit_code == 1 and "none for: nothing" in res.output, res.output
    assert not list((tmp_path / "results").rglob("posterior.parquet"))


def test_a_sets_index_is_a_ratio_of_its_replications_means():
    # One replication's index over an empty base month has no number; the set's index is the mean
    # window over the mean base (4 / 1 here), not a mean of per-replication ratios (which would be 1.5).
    ob = calibrate.Observation.model_validate({
        "name": "i", "column": "x", "aggregation": "index", "value": 1, "uncertainty": 1, "source": "x",
        "window": {"from": "2026-02-01", "to": "2026-02-01"}, "base": {"from": "2026-01-01", "to": "2026-01-01"}})
    months = [dt.date(2026, 1, 1), dt.date(2026, 2, 1)]
    runs = np.array([[[0.0], [5.0]], [[2.0], [3.0]]])  # replications x months x columns
    assert np.isnan(calibrate.statistic(ob, runs[0], ["x"], months))
    assert calibrate.set_statistics([ob], runs, ["x"], months).tolist() == [4.0]
    assert np.isnan(calibrate.set_statistics([ob], runs[:1], ["x"], months)[0])  # no base in any replication


def test_repeated_observation_names_are_refused(tmp_path, write_scenario):
    # two observations with one name would be scored against one figure
    path = _observations_file(tmp_path, write_scenario)
    doc = yaml.safe_load(path.read_text())
    doc["observations"][1]["name"] = doc["observations"][0]["name"]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    res = cli.invoke(app, ["calibrate", str(path), "--results", str(tmp_path / "results")])
    assert res.exit_code == 2 and "repeated" in res.output and "Traceback" not in res.output, res.output
    assert not (tmp_path / "results").exists()


def test_the_predictive_check_places_the_observed_value_in_prior_and_posterior():
    from resim.analysis.calibrate import predictive_check

    sim = np.arange(100, dtype=float)[:, None]  # one observation's statistic at 100 draws: 0..99
    weights = np.where(np.arange(100) >= 90, 0.1, 0.0)  # the posterior keeps draws 90-99, equally
    row = predictive_check(sim, [{"name": "x", "value": 49.5, "uncertainty": 1.0}], weights)["x"]
    assert row["prior"]["percentile"] == pytest.approx(0.5)
    assert (row["prior"]["p5"], row["prior"]["p95"]) == (4.0, 94.0)
    assert row["posterior"]["percentile"] == 0.0  # below every accepted draw: not reached
    assert (row["posterior"]["p5"], row["posterior"]["p95"]) == (90.0, 99.0)
    # an observed 0 that half the draws give exactly (up to float dust): mid-rank, 0.25
    zeros = np.where(np.arange(100) < 50, 1e-17, 1.0)[:, None]
    row = predictive_check(zeros, [{"name": "z", "value": 0.0, "uncertainty": 0.05}], np.full(100, 0.01))["z"]
    assert row["prior"]["percentile"] == pytest.approx(0.25)


@pytest.mark.slow
def test_abc_smc_recovers_known_parameters_and_resumes_to_the_same_posterior(tmp_path, write_scenario):
    path = _observations_file(tmp_path, write_scenario)
    doc = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**doc, "method": "smc", "population": 50, "max_generations": 5}, sort_keys=False))
    res = cli.invoke(app, ["calibrate", str(path), "--results", str(tmp_path / "results"), "-w", "2"])
    assert res.exit_code == 0, res.output
    assert "generation 0: prior" in res.output
    folder = next((tmp_path / "results" / "calibrations" / "recovery").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    diagnostics = manifest["diagnostics"]
    assert manifest["complete"] and diagnostics["method"] == "smc"
    epsilons = [g["epsilon"] for g in diagnostics["generations"][1:]]
    assert len(epsilons) >= 2 and all(a > b for a, b in zip(epsilons, epsilons[1:], strict=False))
    for param, truth in TRUE.items():
        p = diagnostics["parameters"][param]
        assert p["posterior_p5"] <= truth <= p["posterior_p95"], (param, p)
        assert p["posterior_sd"] < 0.5 * p["prior_sd"], (param, p)
    posterior = pq.read_table(folder / "posterior.parquet")
    assert abs(sum(posterior.column("weight").to_pylist()) - 1) < 1e-9 and posterior.num_rows == 50
    # the posterior predictive is the last generation's statistics under its weights
    sims = dict(zip(*pq.read_table(folder / "draws.parquet", columns=["point", "sim.demand_h1"]).to_pydict().values(),
                    strict=True))
    x = np.array([sims[k] for k in posterior.column("point").to_pylist()])
    w = np.array(posterior.column("weight").to_pylist())
    assert diagnostics["predictive"]["demand_h1"]["posterior"]["p50"] == calibrate.weighted_quantile(x, w, 0.5)
    # a run killed part-way: some simulations lost; --resume recomputes them and lands on the same posterior
    draws = pq.read_table(folder / "draws.parquet").column("point").to_pylist()
    for key in draws[::7]:
        (folder / "points" / f"{key}.parquet").unlink()
    (folder / "manifest.json").write_text(json.dumps({**manifest, "complete": False}))
    again = cli.invoke(app, ["calibrate", "--resume", str(folder)])
    assert again.exit_code == 0, again.output
    assert pq.read_table(folder / "posterior.parquet").equals(posterior)


@pytest.mark.slow
def test_a_calibration_on_a_dask_cluster_gives_the_local_posterior_bit_for_bit(tmp_path, write_scenario):
    from dask.distributed import LocalCluster

    path = _observations_file(tmp_path, write_scenario)
    doc = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**doc, "method": "smc", "population": 50, "max_generations": 2}, sort_keys=False))
    local = cli.invoke(app, ["calibrate", str(path), "-w", "2", "--results", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        res = cli.invoke(app, ["calibrate", str(path), "--dask", cluster.scheduler_address,
                               "--results", str(tmp_path / "dask")])
    assert res.exit_code == 0, res.output
    a, b = (pq.read_table(next((tmp_path / d).glob("calibrations/*/*")) / "posterior.parquet")
            for d in ("local", "dask"))
    assert a.num_rows == 50 and a.equals(b)
