"""Sweeps: designs, common random numbers across points, resume, fail-fast, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from tests.conftest import SCENARIOS
from typer.testing import CliRunner

from resim import sweep
from resim.cli import app
from resim.sweep import Range, SweepSpec, Values, design_points

cli = CliRunner()
ENDS = SCENARIOS / "pause_ends.yaml"


def spec(design: str, **kw):  # type: ignore[no-untyped-def]
    return SweepSpec(name="t", scenario=ENDS, design=design, parameters={
        "china.licensing.approval_probability": Range(low=0.1, high=0.5, levels=kw.pop("levels", None)),
        "demand.inventory_cover_weeks": Values(values=[2, 4, 6])}, **kw)


def test_grid_covers_every_combination_including_the_ends():  # type: ignore[no-untyped-def]
    points = design_points(spec("grid", levels=3), seed=1)
    assert len(points) == 9
    assert sorted({p["china.licensing.approval_probability"] for p in points}) == pytest.approx([0.1, 0.3, 0.5])
    assert {p["demand.inventory_cover_weeks"] for p in points} == {2, 4, 6}


@pytest.mark.parametrize("design", ["lhs", "sobol"])
def test_space_filling_designs_cover_their_ranges(design):  # type: ignore[no-untyped-def]
    points = design_points(spec(design, points=64), seed=3)
    a = np.array([p["china.licensing.approval_probability"] for p in points])
    assert len(points) == 64 and a.min() >= 0.1 and a.max() <= 0.5
    counts = np.histogram(a, bins=8, range=(0.1, 0.5))[0]
    assert np.all(counts == 8)  # LHS and scrambled Sobol fill every eighth of the range equally
    assert {p["demand.inventory_cover_weeks"] for p in points} == {2, 4, 6}


def test_same_point_twice_gives_identical_outcomes():  # type: ignore[no-untyped-def]
    point = {"china.licensing.approval_probability": 0.3}
    a, b = (sweep.evaluate(ENDS, point, 6, 11) for _ in range(2))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    other = sweep.evaluate(ENDS, {"china.licensing.approval_probability": 0.31}, 6, 11)
    assert not np.array_equal(a["cumulative_shortfall_t"], other["cumulative_shortfall_t"])


def _sweep(tmp: Path, *extra: str) -> Path:
    res = cli.invoke(app, ["sweep", str(ENDS), "--vary", "china.licensing.approval_probability=0.05:0.6:3",
                           "--vary", "demand.inventory_cover_weeks=2,6", "-n", "6", "-w", "2", "--results",
                           str(tmp), *extra])
    assert res.exit_code == 0, res.output
    return next(tmp.glob("sweeps/*/*"))


def test_resume_finishes_an_interrupted_sweep_exactly_without_recomputing(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
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
    real = sweep._point

    def counting(scenario, overrides, replications, seed):  # type: ignore[no-untyped-def]
        computed.append(overrides)
        return real(scenario, overrides, replications, seed)

    monkeypatch.setattr(sweep, "_point", counting)
    res = cli.invoke(app, ["sweep", "--resume", str(folder), "-w", "1"])
    assert res.exit_code == 0, res.output
    assert len(computed) == 4  # only the missing points
    assert pq.read_table(folder / "points.parquet").equals(full)
    assert json.loads((folder / "manifest.json").read_text())["complete"]


_REAL_POINT = sweep._point


def broken_point(scenario, overrides, replications, seed):  # type: ignore[no-untyped-def]
    """A model that fails at one point (module level, so worker processes can unpickle it)."""
    if overrides["demand.inventory_cover_weeks"] == 6 and overrides["china.licensing.approval_probability"] > 0.5:
        raise ZeroDivisionError("model bug")
    return _REAL_POINT(scenario, overrides, replications, seed)


def test_a_failing_point_stops_the_sweep_with_a_clear_error(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sweep, "_point", broken_point)  # the workers fork from this process
    res = cli.invoke(app, ["sweep", str(ENDS), "--vary", "china.licensing.approval_probability=0.05:0.6:3",
                           "--vary", "demand.inventory_cover_weeks=2,6", "-n", "4", "-w", "2",
                           "--results", str(tmp_path)])
    assert res.exit_code == 1
    assert "point 5" in res.output and "ZeroDivisionError: model bug" in res.output and "--resume" in res.output
    folder = next(tmp_path.glob("sweeps/*/*"))
    assert not (folder / "points.parquet").exists()  # an unfinished sweep never looks finished


@pytest.mark.parametrize(("args", "expected"), [
    (["--vary", "china.licensing.aproval_probability=0.1:0.5"], ["not a numeric field", "approval_probability"]),
    (["--vary", "name=1,2"], ["parameters.name", "not a numeric field"]),
    (["--vary", "china.licensing.approval_probability=0.5:0.5"], ["empty range"]),
    (["--vary", "china.licensing.approval_probability"], ["PATH=LOW:HIGH"]),
    (["--vary", "china.licensing.approval_probability=0.5:1.5"], ["value 1.5", "[0, 1]"]),
])
def test_bad_sweep_specs_fail_before_anything_runs(tmp_path, args, expected):  # type: ignore[no-untyped-def]
    res = cli.invoke(app, ["sweep", str(ENDS), *args, "-n", "2", "--results", str(tmp_path)])
    assert res.exit_code == 2, res.output
    for fragment in expected:
        assert fragment in res.output, (fragment, res.output)
    assert "Traceback" not in res.output and not (tmp_path / "sweeps").exists()


def test_python_api_returns_the_points_table(tmp_path):  # type: ignore[no-untyped-def]
    table = sweep.sweep(ENDS, {"demand.inventory_cover_weeks": Values(values=[2, 6])}, replications=4,
                        results=tmp_path).to_pydict()
    assert table["param.demand.inventory_cover_weeks"] == [2.0, 6.0]
    assert table["mean_cumulative_shortfall_t"][1] < table["mean_cumulative_shortfall_t"][0]  # more cover helps
