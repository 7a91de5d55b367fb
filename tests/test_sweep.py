"""Sweeps: designs, common random numbers across points, resume, fail-fast, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from tests.conftest import SCENARIOS
from typer.testing import CliRunner

from resim.analysis import sweep
from resim.analysis.sweep import Range, SweepSpec, Values, design_points
from resim.analysis.sweep import job as sweep_job
from resim.cli import app

cli = CliRunner()
ENDS = SCENARIOS / "pause_ends.yaml"


def spec(design: str, **kw):
    return SweepSpec(name="t", scenario=ENDS, design=design, parameters={
        "china.licensing.approval_probability": Range(low=0.1, high=0.5, levels=kw.pop("levels", None)),
        "demand.inventory_cover_weeks": Values(values=[2, 4, 6])}, **kw)


def test_grid_covers_every_combination_including_the_ends():
    points = design_points(spec("grid", levels=3), seed=1)
    assert len(points) == 9
    assert sorted({p["china.licensing.approval_probability"] for p in points}) == pytest.approx([0.1, 0.3, 0.5])
    assert {p["demand.inventory_cover_weeks"] for p in points} == {2, 4, 6}


@pytest.mark.parametrize("design", ["lhs", "sobol"])
def test_space_filling_designs_cover_their_ranges(design):
    points = design_points(spec(design, points=64), seed=3)
    a = np.array([p["china.licensing.approval_probability"] for p in points])
    assert len(points) == 64 and a.min() >= 0.1 and a.max() <= 0.5
    counts = np.histogram(a, bins=8, range=(0.1, 0.5))[0]
    assert np.all(counts == 8)  # LHS and scrambled Sobol fill every eighth of the range equally
    assert {p["demand.inventory_cover_weeks"] for p in points} == {2, 4, 6}


def test_same_point_twice_gives_identical_outcomes():
    point = {"china.licensing.approval_probability": 0.3}
    a, b = (sweep.evaluate(ENDS, point, 6, 11) for _ in range(2))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    other = sweep.evaluate(ENDS, {"china.licensing.approval_probability": 0.05}, 6, 11)  # far enough to show in 6
    assert not np.array_equal(a["cumulative_shortfall_t"], other["cumulative_shortfall_t"])


def _sweep(tmp: Path, *extra: str) -> Path:
    res = cli.invoke(app, ["sweep", str(ENDS), "--vary", "china.licensing.approval_probability=0.05:0.6:3",
                           "--vary", "demand.inventory_cover_weeks=2,6", "-n", "6", "-w", "2", "--results",
                           str(tmp), *extra])
    assert res.exit_code == 0, res.output
    return next(tmp.glob("sweeps/*/*"))


@pytest.mark.slow
def test_resume_finishes_an_interrupted_sweep_exactly_without_recomputing(tmp_path, monkeypatch):
    full = pq.read_table(_sweep(tmp_path / "a") / "points.parquet")
    folder = _sweep(tmp_path / "b")
    # interrupt: keep points 0 and 3 only, as a killed run would leave them
    (folder / "points.parquet").unlink()
    for p in (folder / "points").glob("*.parquet"):
        if p.stem not in ("0", "3"):
            p.unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["complete"] = False
    (folder / "manifest.json").write_text(json.dumps(manifest))
    computed = []
    real = sweep_job._point

    def counting(scenario, overrides, replications, seed):
        computed.append(overrides)
        return real(scenario, overrides, replications, seed)

    monkeypatch.setattr(sweep_job, "_point", counting)
    res = cli.invoke(app, ["sweep", "--resume", str(folder), "-w", "1"])
    assert res.exit_code == 0, res.output
    assert len(computed) == 4  # only the missing points
    assert pq.read_table(folder / "points.parquet").equals(full)
    assert json.loads((folder / "manifest.json").read_text())["complete"]


_REAL_POINT = sweep_job._point


def broken_point(scenario, overrides, replications, seed):
    """A model that fails at one point (module level, so worker processes can unpickle it)."""
    if overrides["demand.inventory_cover_weeks"] == 6 and overrides["china.licensing.approval_probability"] > 0.5:
        raise ZeroDivisionError("model bug")
    return _REAL_POINT(scenario, overrides, replications, seed)


def test_a_failing_point_stops_the_sweep_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep_job, "_point", broken_point)  # the workers fork from this process
    res = cli.invoke(app, ["sweep", str(ENDS), "--vary", "china.licensing.approval_probability=0.05:0.6:3",
                           "--vary", "demand.inventory_cover_weeks=2,6", "-n", "4", "-w", "2",
                           "--results", str(tmp_path)])
    assert res.exit_code == 1
    assert "point 5" in res.output and "ZeroDivisionError: model bug" in res.output and "--resume" in res.output
    folder = next(tmp_path.glob("sweeps/*/*"))
    assert not (folder / "points.parquet").exists()  # an unfinished sweep never looks finished


@pytest.mark.parametrize(("args", "expected"), [
    (["--vary", "china.licensing.aproval_probability=0.1:0.5"], ["not a numeric field", "approval_probability"]),
    (["--vary", "name=1,2"], ["--vary name", "not a numeric field"]),
    (["--vary", "china.licensing.approval_probability=0.5:0.5"], ["empty range"]),
    (["--vary", "china.licensing.approval_probability"], ["PATH=LOW:HIGH"]),
    (["--vary", "china.licensing.approval_probability=0.5:1.5"], ["value 1.5", "[0, 1]"]),
])
def test_bad_sweep_specs_fail_before_anything_runs(tmp_path, args, expected):
    res = cli.invoke(app, ["sweep", str(ENDS), *args, "-n", "2", "--results", str(tmp_path)])
    assert res.exit_code == 2, res.output
    for fragment in expected:
        assert fragment in res.output, (fragment, res.output)
    assert "Traceback" not in res.output and not (tmp_path / "sweeps").exists()


@pytest.mark.slow
def test_python_api_returns_the_points_table(tmp_path):
    table = sweep.sweep(ENDS, {"demand.inventory_cover_weeks": Values(values=[2, 6])}, replications=4,
                        results=tmp_path).to_pydict()
    assert table["param.demand.inventory_cover_weeks"] == [2.0, 6.0]
    assert table["mean_cumulative_shortfall_t"][1] < table["mean_cumulative_shortfall_t"][0]  # more cover helps
    # every run outcome of the outcome table is a point outcome, with its interval
    from resim.results.statistics import OUTCOMES
    from resim.scenario.loader import load

    months = load(ENDS).scenario.reported_months
    for name in OUTCOMES:
        low, mean, high = (table[f"mean_{name}{end}"][0] for end in ("_low", "", "_high"))
        assert low <= mean <= high, name
    assert all(0 <= m <= months for m in table["mean_short_months"])
    assert all(0 <= m <= 100 for m in table["mean_shortfall_pct_of_demand"])


def test_shipped_sweep_files_are_valid():
    for path in (SCENARIOS.parent / "sweeps").glob("*.yaml"):
        spec_ = sweep.load_spec(path)
        sweep.check_spec(spec_, path)
        assert len(design_points(spec_, seed=1)) > 1


@pytest.mark.slow
def test_sweep_file_runs_through_the_cli(tmp_path):
    file = tmp_path / "s.yaml"
    file.write_text(f"name: small\nscenario: {ENDS}\ndesign: lhs\npoints: 4\nreplications: 3\n"
                    "parameters:\n  demand.inventory_cover_weeks: {low: 2, high: 6}\n")
    res = cli.invoke(app, ["sweep", str(file), "-w", "1", "--results", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    folder = next((tmp_path / "r").glob("sweeps/small/*"))
    assert pq.read_table(folder / "points.parquet").num_rows == 4
    assert (folder / "outcome_by_parameter.png").read_bytes()[:4] == b"\x89PNG"
    file.write_text("name: bad\nscenario: nowhere.yaml\nparameters: {}\n")
    res = cli.invoke(app, ["sweep", str(file)])
    assert res.exit_code == 2 and "parameters" in res.output


def ishigami_point(point):
    """SALib's Ishigami test function as a sweep 'model' (module level: worker processes unpickle it)."""
    from SALib.test_functions import Ishigami

    return {"y": float(Ishigami.evaluate(np.array([[point["x1"], point["x2"], point["x3"]]]))[0])}


@pytest.mark.slow
def test_sobol_indices_through_the_sweep_machinery_match_ishigami():
    from resim.analysis import indices

    names = ["x1", "x2", "x3"]
    prob = indices.problem(names, [(-np.pi, np.pi)] * 3)
    x = indices.sample("saltelli", prob, 1024, seed=1)
    points = [dict(zip(names, map(float, row), strict=True)) for row in x]
    from resim.montecarlo.executor import Tasks, as_completed

    results = dict(as_completed(Tasks(points, ishigami_point), list(range(len(points))), workers=2))
    y = np.array([results[i]["y"] for i in range(len(points))])
    rows = {r["parameter"]: r for r in indices.analyze("sobol", prob, x, y, seed=1)}
    analytic = {"x1": (0.3139, 0.5576), "x2": (0.4424, 0.4424), "x3": (0.0, 0.2437)}  # (S1, ST)
    for name, (s1, st_) in analytic.items():
        assert abs(rows[name]["S1"] - s1) <= rows[name]["S1_conf"] + 0.02, (name, rows[name])
        assert abs(rows[name]["ST"] - st_) <= rows[name]["ST_conf"] + 0.02, (name, rows[name])


@pytest.mark.slow
def test_sobol_ranks_the_only_parameter_that_matters_first(tmp_path):
    # pause_ends over 24 months, reported from 2025 (its squeeze; December 2026 alone is rarely
    # short); the stockpile's release rule (no stockpile) and full_ban's rule (not in this
    # timeline) cannot matter: with common random numbers their indices are zero.
    short = tmp_path / "short.yaml"
    short.write_text(f"extends: {ENDS}\nname: short\nhorizon_months: 24\nreport_from: 2025-01-01\n")
    res = cli.invoke(app, ["sweep", str(short), "--vary", "demand.inventory_cover_weeks=1:8",
                           "--vary", "levers.stockpile.release_below_cover_weeks=1:4",
                           "--vary", "china.rule_sets.full_ban.non_china_exposed_share=0.1:0.9",
                           "--analyze", "sobol", "--points", "16", "-n", "4", "--results", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    folder = next((tmp_path / "r").glob("sweeps/*/*"))
    rows = pq.read_table(folder / "sensitivity.parquet").to_pylist()
    assert rows[0]["parameter"] == "demand.inventory_cover_weeks" and rows[0]["ST"] > 0.3
    assert all(abs(r["ST"]) < 0.05 and abs(r["S1"]) < 0.05 for r in rows[1:])
    assert (folder / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    assert "too small" in res.output  # 16 base samples: the tool says so


@pytest.mark.slow
def test_discovery_finds_the_region_of_severe_shortfall(tmp_path):
    # Severe shortfall needs low approval odds; the box must say so, with high density.
    res = cli.invoke(app, ["sweep", str(ENDS), "--vary", "china.licensing.approval_probability=0.0:0.6",
                           "--vary", "levers.stockpile.release_below_cover_weeks=1:4", "--design", "lhs",
                           "--points", "30", "-n", "4", "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    folder = next(tmp_path.glob("sweeps/*/*"))
    table = pq.read_table(folder / "points.parquet").to_pydict()
    threshold = float(np.percentile(table["mean_cumulative_shortfall_t"], 70))
    res = cli.invoke(app, ["discover", str(folder), "--above", str(threshold)])
    assert res.exit_code == 0, res.output
    records = sorted((folder / "discoveries").glob("*.json"))
    boxes = json.loads(records[0].read_text())["boxes"]
    top = boxes[0]
    assert top["density"] >= 0.8 and top["coverage"] >= 0.5
    low, high = top["bounds"]["china.licensing.approval_probability"]
    assert low is None and high < 0.4  # low approval odds: the sampled minimum is no bound
    assert "china.licensing.approval_probability <= " in res.output and " <= china." not in res.output
    assert "levers.stockpile.release_below_cover_weeks" not in top["bounds"]  # irrelevant here
    bad = cli.invoke(app, ["discover", str(folder), "--outcome", "nonsense"])
    assert bad.exit_code == 2 and "allowed: mean_cumulative_shortfall_t" in bad.output
    # PRIM (EMA Workbench's) on the same points: one box, at least as dense as asked, low approval odds
    res = cli.invoke(app, ["discover", str(folder), "--above", str(threshold), "--method", "prim", "--density", "0.8"])
    assert res.exit_code == 0, res.output
    records = sorted((folder / "discoveries").glob("*.json"))
    assert len(records) == 2  # every discovery is kept
    found = json.loads(next(r for r in records if "prim" in r.name).read_text())
    assert found["method"] == "prim" and len(found["boxes"]) == 1
    box = found["boxes"][0]
    assert box["density"] >= 0.8 and box["coverage"] >= 0.5
    assert box["bounds"]["china.licensing.approval_probability"][1] < 0.4
    p_low, p_high = box["quasi_p"]["china.licensing.approval_probability"]
    assert p_low is None and 0 <= p_high < 0.05  # the restriction is no luck
    assert "quasi-p" in res.output
    assert next(folder.glob("discoveries/*prim*.png")).read_bytes()[:4] == b"\x89PNG"
    # another box of the trajectory, by its number: the first box restricts nothing
    res = cli.invoke(app, ["discover", str(folder), "--above", str(threshold), "--method", "prim", "--box", "0"])
    assert res.exit_code == 0 and "everywhere" in res.output, res.output
    steps = len(found["trajectory"]["density"])
    res = cli.invoke(app, ["discover", str(folder), "--above", str(threshold), "--method", "prim", "--box",
                           str(steps)])
    assert res.exit_code == 2 and f"allowed: 0 to {steps - 1}" in res.output


def _no_scenario_files(elsewhere: str):
    from dask.distributed import WorkerPlugin

    class NoScenarioFiles(_NoScenarioFiles, WorkerPlugin):
        pass

    return NoScenarioFiles(elsewhere)


class _NoScenarioFiles:
    """A Dask worker plugin: the worker runs in another directory and cannot read scenario or seed
    files, so any task that needs them fails."""

    def __init__(self, elsewhere: str):
        self.elsewhere = elsewhere

    def setup(self, worker):
        import os

        import resim.scenario.seeds
        import resim.scenario.yamlfile

        def refuse(*args, **kwargs):
            raise PermissionError("this worker has no scenario files")

        os.chdir(self.elsewhere)
        resim.scenario.yamlfile.read_yaml = refuse
        resim.scenario.seeds.load_figures = refuse


@pytest.mark.slow
def test_a_dask_cluster_without_the_scenario_files_gives_the_same_results(tmp_path):
    from dask.distributed import Client, LocalCluster

    args = [str(ENDS), "--vary", "china.licensing.approval_probability=0.05:0.6:3", "-n", "4"]
    local = cli.invoke(app, ["sweep", *args, "-w", "2", "--results", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    run_local = cli.invoke(app, ["run", str(ENDS), "-n", "6", "-w", "2", "--results", str(tmp_path / "run_local")])
    assert run_local.exit_code == 0, run_local.output
    (tmp_path / "elsewhere").mkdir()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.register_plugin(_no_scenario_files(str(tmp_path / "elsewhere")))
        address = cluster.scheduler_address
        from resim.scenario.loader import load

        with pytest.raises(PermissionError):  # the workers really cannot read the scenario
            client.submit(load, ENDS, pure=False).result()
        res = cli.invoke(app, ["sweep", *args, "--dask", address, "--results", str(tmp_path / "dask")])
        assert res.exit_code == 0, res.output
        run_dask = cli.invoke(app, ["run", str(ENDS), "-n", "6", "--dask", address,
                                    "--results", str(tmp_path / "run_dask")])
        assert run_dask.exit_code == 0, run_dask.output
        outage = str(SCENARIOS / "oracles" / "outage_vs_stock.yaml")
        sens = [cli.invoke(app, ["sensitivity", outage, "--n", "8", *extra, "--json", "--results",
                                 str(tmp_path / name)]) for name, extra in (("s_local", ["-w", "2"]),
                                                                            ("s_dask", ["--dask", address]))]
        assert all(r.exit_code == 0 for r in sens), [r.output for r in sens]
        assert json.loads(sens[0].stdout)["indices"] == json.loads(sens[1].stdout)["indices"]
        from resim.montecarlo import cluster as resim_cluster

        real = resim_cluster.__version__
        try:  # workers on another resim are refused before anything is written
            resim_cluster.__version__ = "0.0.0-other"
            other = cli.invoke(app, ["run", str(ENDS), "-n", "2", "--dask", address, "--results", str(tmp_path / "x")])
        finally:
            resim_cluster.__version__ = real
        assert other.exit_code == 2 and "another resim" in other.output, other.output
        assert not (tmp_path / "x").exists()
    a, b = (pq.read_table(next((tmp_path / d).glob("sweeps/*/*")) / "points.parquet") for d in ("local", "dask"))
    assert a.equals(b)
    a, b = (pq.read_table(next((tmp_path / d).glob("*/*")) / "series.parquet") for d in ("run_local", "run_dask"))
    assert a.equals(b)


@pytest.mark.slow
def test_one_at_a_time_design_and_tornado(tmp_path):
    points = design_points(spec("oat"), seed=1)
    assert len(points) == 1 + 2 * 2 and points[0] == {"china.licensing.approval_probability": 0.3,
                                                      "demand.inventory_cover_weeks": 4.0}
    assert points[1]["china.licensing.approval_probability"] == 0.1 and points[1]["demand.inventory_cover_weeks"] == 4
    res = cli.invoke(app, ["sweep", str(ENDS), "--design", "oat", "--vary", "demand.inventory_cover_weeks=2:6",
                           "-n", "3", "-w", "1", "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    folder = next(tmp_path.glob("sweeps/*/*"))
    assert (folder / "tornado.png").read_bytes()[:4] == b"\x89PNG"
    row = pq.read_table(folder / "points.parquet").to_pylist()[0]
    first = row["median_first_short_month"]
    assert row["median_first_short_month_low"] <= first <= row["median_first_short_month_high"]


def test_a_missing_optional_dependency_names_the_extra_that_installs_it(tmp_path, monkeypatch):
    import sys

    from typer.testing import CliRunner

    from resim.cli import app

    for module in ("SALib", "SALib.sample", "SALib.sample.morris"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    res = CliRunner().invoke(app, ["sweep", str(SCENARIOS / "baseline.yaml"), "--analyze", "morris",
                                   "--vary", "demand.deferred_share=0:1", "-n", "2", "--results", str(tmp_path)])
    assert res.exit_code == 2 and "pip install 'resim[sensitivity]'" in res.output and "Traceback" not in res.output
    assert not tmp_path.exists() or not any(tmp_path.iterdir())  # nothing written


def test_sweep_json_is_the_points_table(tmp_path):
    import json

    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from resim.cli import app

    res = CliRunner().invoke(app, ["sweep", str(SCENARIOS / "backtest_2025.yaml"), "--vary",
                                   "demand.deferred_share=0:0.5:2", "-n", "2", "-w", "1", "--json",
                                   "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["points"] == pq.read_table(next(tmp_path.glob("sweeps/*/*/points.parquet"))).to_pylist()
    assert [p["param.demand.deferred_share"] for p in doc["points"]] == [0.0, 0.5]
