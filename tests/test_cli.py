"""The command line as a user meets it: runs, results on disk, determinism, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from tests.conftest import SCENARIOS
from typer.testing import CliRunner

from resim.cli import app
from resim.montecarlo import runner
from resim.scenario.loader import load

cli = CliRunner()


def run_cli(*args: str):
    return cli.invoke(app, [str(a) for a in args])


def only_run(results: Path) -> Path:
    runs = [p for p in results.glob("*/*") if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_run_writes_complete_results(tmp_path):
    res = run_cli("run", SCENARIOS / "pause_ends.yaml", "-n", "12", "--results", tmp_path, "-w", "2")
    assert res.exit_code == 0, res.output
    folder = only_run(tmp_path)
    assert folder.parent.name == "pause_ends"
    names = {p.name for p in folder.iterdir()}
    assert {"manifest.json", "series.parquet", "replications.parquet", "summary_monthly.parquet",
            "summary_monthly.csv", "summary_yearly.csv", "fan_chart.png"} <= names
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["replications"] == 12 and manifest["seed"] == 20261110
    assert manifest["resolved_scenario"]["name"] == "pause_ends"
    assert manifest["units"]["shortfall_t"].startswith("t NdFeB")
    series = pq.read_table(folder / "series.parquet")
    assert series.num_rows == 12 * 49  # reported from 2026-12-01 to 2030-12
    assert str(series.column("month")[0]) == "2026-12-01"
    assert series.schema.field("shortfall_t").metadata[b"unit"].startswith(b"t NdFeB")
    reps = pq.read_table(folder / "replications.parquet").to_pydict()
    assert set(reps["outcome.regime_4"]) <= {"snapback_nov2026", "extended_again", "lapse_jan2027",
                                             "general_regime_jan2027"}
    assert set(reps["outcome.october_2025.light_magnet"]) <= {"licensed", "open"}
    assert "2027" in res.output and "% of EV NdFeB demand" in res.output and str(folder) in res.output
    assert (folder / "fan_chart.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_same_seed_same_results_whatever_the_workers(tmp_path):
    sc = load(SCENARIOS / "pause_ends.yaml").scenario
    one = np.concatenate([r.series for chunk in runner.run(sc, 20, 5, workers=1) for r in chunk])
    two = np.concatenate([r.series for chunk in runner.run(sc, 20, 5, workers=2) for r in chunk])
    assert np.array_equal(one, two)  # bit-identical
    other = np.concatenate([r.series for chunk in runner.run(sc, 20, 6, workers=1) for r in chunk])
    assert not np.array_equal(one, other)
    # and through the CLI, the written series are identical too
    for w in ("1", "2"):
        assert run_cli("run", SCENARIOS / "baseline.yaml", "-n", "9", "--seed", "3", "-w", w,
                       "--results", tmp_path / w).exit_code == 0
    a, b = (pq.read_table(only_run(tmp_path / w) / "series.parquet") for w in ("1", "2"))
    assert a.equals(b)


def test_interrupted_run_leaves_nothing_that_looks_finished(tmp_path, monkeypatch):
    real = runner.run

    def interrupted(*args, **kwargs):
        chunks = real(*args, **kwargs)
        yield next(chunks)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupted)
    res = run_cli("run", SCENARIOS / "baseline.yaml", "-n", "40", "-w", "1", "--results", tmp_path)
    assert res.exit_code != 0
    assert not any(p.is_dir() for p in tmp_path.glob("*/*")), list(tmp_path.rglob("*"))


def test_validate_schema_and_sources():
    res = run_cli("validate", SCENARIOS / "stockpile_90d.yaml")
    assert res.exit_code == 0 and "stockpile_90d.yaml -> pause_ends.yaml -> baseline.yaml" in res.output
    res = run_cli("schema")
    schema = json.loads(res.output)
    assert "china" in schema["properties"] and schema["additionalProperties"] is False
    res = cli.invoke(app, ["sources", str(SCENARIOS / "pause_ends.yaml")], env={"COLUMNS": "250"})
    assert res.exit_code == 0
    assert "demand.segments.e2w.ndfeb_kg_per_vehicle" in res.output
    assert "kg/vehicle" in res.output and "JMK Research" in res.output
    assert "per event" in res.output and "per replication" in res.output


def test_help_lists_commands():
    res = run_cli("--help")
    for command in ("run", "validate", "schema", "sources"):
        assert command in res.output
    assert "--replications" in run_cli("run", "--help").output


# --- bad input: one screen, file + line + field + what is allowed, exit 2, nothing written ------

BASE = f"extends: {SCENARIOS / 'baseline.yaml'}\nname: bad\n"


@pytest.mark.parametrize(("text", "expected"), [
    ("name: [unclosed\n", ["malformed YAML", ":2", "flow sequence at line 1"]),
    (BASE + "horizon_monhts: 12\n", ["horizon_monhts", "unknown field", "allowed:", "horizon_months", ":3"]),
    (BASE + "horizon_months: twelve\n", ["horizon_months", "integer", ":3"]),
    (BASE + "suppliers.japan.capacity_t_per_year: -5\n",
     ["suppliers.japan.capacity_t_per_year", "must lie in [0, 1e+06]", ":3"]),
    (BASE + "china.lead_time_days: {dist: lognormal, median: 30, p90: 20}\n",
     ["china.lead_time_days", "p90 > median", ":3"]),
    (BASE + "china.regimes+: [{from: 2040-01-01, rules: full_ban}]\n",
     ["china.regimes.4.from", "outside the horizon", "2031-01-01", ":3"]),
    (BASE + "demand.inventory_cover_weeks: {ref: inventory_cover_wekes}\n",
     ["demand.inventory_cover_weeks", "unknown seed or assumption id", "inventory_cover_weeks", ":3"]),
    (BASE + "china.lead_time_days: {dist: gamma, k: 2}\n", ["china.lead_time_days", "expected a number", "lognormal"]),
    (BASE + "china.regimes+: [{from: 2027-01-01, rules: embargo}]\n",
     ["china.regimes.4.rules", "embargo", "allowed: april_2025", ":3"]),
    (BASE + "demand.segments.e2w.dytb_grade_share: 1.5\n", ["dytb_grade_share", "[0, 1]"]),
    (BASE + "demand.segments.e2w.units_per_year: .nan\n", ["units_per_year", "finite number", ":3"]),
    (BASE + "suppliers.japan.capacity_t_per_year: .inf\n", ["capacity_t_per_year", "finite number", ":3"]),
    (BASE + "china.lead_time_days: {dist: uniform, low: 0, high: .inf}\n",
     ["china.lead_time_days.high", "finite number", ":3"]),
    (BASE + "demand.segments.e2w.groups.incumbents.share: .nan\n", ["groups.incumbents.share", "finite number", ":3"]),
    # Model v2's inputs
    (BASE + "demand.segments.e2w.groups.incumbents.share: 0.5\n",
     ["demand.segments.e2w.groups", "must sum to 1", "incumbents 0.5", ":3"]),
    (BASE + "demand.segments.ecar.groups.own_motors.licence_class: tier2\n",
     ["licence_class", "'maker', 'tier1' or 'plant'", "tier2", ":3"]),
    (BASE + "china.licensing.class_approval_probability: {tierx: 0.5}\n",
     ["class_approval_probability", "'maker', 'tier1' or 'plant'", ":3"]),
    (BASE + "demand.review.period_days: 0\n", ["demand.review.period_days", "greater than 0", ":3"]),
    (BASE + "demand.review: {period_days: null, order_batch_days: 0}\n",
     ["demand.review", "continuous review", "order_batch_days > 0", ":3"]),
    (BASE + "china.export_processing_days: 0\n", ["china.export_processing_days", "must be positive", ":3"]),
    (BASE + "prices.china_inr_per_kg.dytb: -5\n", ["prices.china_inr_per_kg.dytb", "[0, inf]", ":3"]),
    (BASE + "prices.motor_duty_share: -0.1\n", ["prices.motor_duty_share", "[0, 1]", ":3"]),
    (BASE + "demand.deferred_share: 1.5\n", ["demand.deferred_share", "[0, 1]", ":3"]),
    (BASE + "china.licensing.validity_days: 4000\n",
     ["validity_days", "longer than the horizon", "at most 2191", ":3"]),
    (BASE + "suppliers.japan.qualification_months: 900\n",
     ["suppliers.japan.qualification_months", "longer than the horizon", ":3"]),
    # World 2026's inputs
    (BASE + "report_from: 2031-02-01\n", ["report_from", "first day of a month", "2031-01-01", ":3"]),
    (BASE + "report_from: 2026-12-15\n", ["report_from", "first day of a month", ":3"]),
    (BASE + "china.rule_sets.october_2025.may_license.light_magnet: 1.5\n",
     ["may_license.light_magnet", "[0, 1]", ":3"]),
    (BASE + "china.rule_sets.october_2025.may_license.dytb_magnet: 0.5\n",
     ["october_2025.may_license.dytb_magnet", "at most one of licensed, banned and may_license", ":3"]),
    (BASE + "china.rule_sets.october_2025.may_license.neodymium: 0.5\n",
     ["may_license", "neodymium", "light_magnet", ":3"]),
])
def test_bad_input_gets_a_clear_error(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    res = run_cli("run", path, "-n", "2", "--results", tmp_path / "results")
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert "bad.yaml" in res.output
    for fragment in expected:
        assert fragment in res.output, (fragment, res.output)
    assert len(res.output.splitlines()) < 25
    assert "(got " not in res.output or "; got " not in res.output  # the value is named once, not twice
    assert not (tmp_path / "results").exists()


def test_binary_and_latin1_files_get_a_clear_error(tmp_path):
    latin1 = "name: d\xe9j\xe0\n".encode("latin-1")
    for name, data in (("binary.yaml", b"\xff\xfe\x00\x01binary"), ("latin1.yaml", latin1)):
        path = tmp_path / name
        path.write_bytes(data)
        res = run_cli("validate", path)
        assert res.exit_code == 2 and "Traceback" not in res.output
        assert name in res.output and "not a UTF-8 text file" in res.output


def test_missing_file_and_extends_cycle(tmp_path):
    res = run_cli("validate", tmp_path / "nope.yaml")
    assert res.exit_code == 2 and "nope.yaml" in res.output and "file not found" in res.output
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    res = run_cli("validate", tmp_path / "a.yaml")
    assert res.exit_code == 2 and "cycle" in res.output and "a.yaml -> b.yaml -> a.yaml" in res.output
    assert "Traceback" not in res.output


@pytest.mark.slow
def test_importing_resim_and_drawing_leaves_the_users_matplotlib_backend_alone(tmp_path):
    # A notebook user's backend must survive `import resim...` and resim drawing a chart.
    import subprocess
    import sys

    code = f"""
import matplotlib
matplotlib.use("svg")
import datetime as dt, numpy as np
import resim.results.writer, resim.analysis.sweep, resim.report, resim.analysis.indices
from resim import plots
stats = {{k: np.zeros(2) for k in ("shortfall_t_p5", "shortfall_t_p25", "shortfall_t_p50", "shortfall_t_p75",
                                    "shortfall_t_p95", "shortfall_t_mean", "demand_t_p50", "p_shortfall")}}
plots.save(plots.fan_chart([dt.date(2026, 1, 1), dt.date(2026, 2, 1)], stats, "t", "s"), {str(tmp_path / 'f.png')!r})
print(matplotlib.get_backend())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().lower() == "svg"
    assert (tmp_path / "f.png").stat().st_size > 0


def test_version_module_entry_and_numpy_scalar_overrides():
    from resim import __version__
    from resim.model import COMPILED

    res = run_cli("--version")
    build = "compiled with mypyc" if COMPILED else "plain Python"
    assert res.exit_code == 0 and res.output.startswith(f"resim {__version__} ({build}")
    out = subprocess.run([sys.executable, "-m", "resim", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == res.output.strip()
    help_text = run_cli("--help").output
    assert "Exit codes" in help_text and "2 bad input" in help_text
    # numpy scalars (what EMA Workbench passes) are numbers wherever a number is
    plain = load(SCENARIOS / "baseline.yaml", {"demand.deferred_share": 0.25, "seed": 3}).scenario
    numpy = load(SCENARIOS / "baseline.yaml", {"demand.deferred_share": np.float32(0.25), "seed": np.int64(3)}).scenario
    assert numpy.seed == 3 and numpy.demand.deferred_share == plain.demand.deferred_share
    zero_d = load(SCENARIOS / "baseline.yaml", {"demand.deferred_share": np.array(0.25)}).scenario
    assert zero_d.demand.deferred_share == plain.demand.deferred_share


def test_the_column_dictionary_covers_every_column_and_docs_outputs_is_current():
    from tests.conftest import REPO

    from resim.model import columns
    from resim.results.columns import dictionary, markdown

    sc = load(SCENARIOS / "pause_ends.yaml").scenario
    entries = dictionary(sc)
    assert [c.name for c in entries] == columns(sc)
    assert all(c.unit and c.meaning and c.per for c in entries)
    assert (REPO / "docs" / "outputs.md").read_text() == markdown(sc)  # regenerate: see resim.results.columns.markdown


@pytest.mark.slow
def test_json_output_of_run_compare_and_check_is_the_figures_printed(tmp_path):
    res = cli.invoke(app, ["run", str(SCENARIOS / "backtest_2025.yaml"), "-n", "4", "-w", "1", "--json",
                           "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)  # standard output is the JSON document alone
    manifest = json.loads((Path(doc["results"]) / "manifest.json").read_text())
    assert doc["run_summary"] == manifest["run_summary"] and doc["yearly"] == manifest["yearly"]
    res = cli.invoke(app, ["compare", doc["results"], doc["results"], "--json", "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["outcomes"]
    assert rows and all(r["mean_diff"] == 0 for r in rows)


@pytest.mark.slow
def test_open_run_gives_dataframes_with_dates_units_and_tidy_groups(tmp_path):
    from resim.results.api import open_run

    res = cli.invoke(app, ["run", str(SCENARIOS / "backtest_2025.yaml"), "-n", "3", "-w", "1", "--json",
                           "--results", str(tmp_path)])
    run = open_run(json.loads(res.stdout)["results"])
    wide = run.series(["shortfall_t", "demand_t"])
    assert len(wide) == 3 * 24 and str(wide["month"].dtype).startswith("datetime64")
    assert wide.attrs["units"]["shortfall_t"] == "t NdFeB"
    tidy = run.tidy("shortfall_t")
    assert set(tidy["level"]) == {"segment", "group"}  # sum one level at a time, not both
    groups = tidy[tidy["level"] == "group"]
    assert set(groups["segment"]) == {"e2w", "e3w", "ecar", "ebus"} and "small_makers" in set(groups["group"])
    # the groups add up to their segment, and the segments to the total, month by month
    by_group = groups.groupby(["replication", "month"])["shortfall_t"].sum().to_numpy()
    segments = tidy[tidy["level"] == "segment"].groupby(["replication", "month"])["shortfall_t"].sum().to_numpy()
    np.testing.assert_allclose(by_group, segments, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(segments, wide.sort_values(["replication", "month"])["shortfall_t"], atol=1e-6)
    assert set(run.columns()["name"]) >= {"shortfall_t", "cover_days"}
    assert len(run.replications()) == 3
    # the same as an xarray Dataset: totals by (replication, month), groups on their own dimension
    ds = run.dataset()
    assert ds["shortfall_t"].dims == ("replication", "month") and ds["shortfall_t"].attrs["units"] == "t NdFeB"
    by_group = ds["shortfall_t_by_group"]
    assert by_group.dims == ("replication", "month", "group") and "e2w.small_makers" in by_group["group"].values
    np.testing.assert_allclose(by_group.sum("group").values, ds["shortfall_t"].values, atol=1e-6)
    cars = by_group.where(by_group["segment"] == "ecar", drop=True).sum("group")
    ecar = run.series(["shortfall_t.ecar"]).sort_values(["replication", "month"])["shortfall_t.ecar"]
    np.testing.assert_allclose(cars.values.ravel(), ecar.to_numpy(), atol=1e-6)


@pytest.mark.slow
def test_the_python_pipeline_prints_nothing_and_gives_the_cli_figures(tmp_path, capsys):
    from resim.pipeline import run_scenario
    from resim.results.api import open_run

    seen = []
    folder = run_scenario(SCENARIOS / "backtest_2025.yaml", replications=6, workers=1, results=tmp_path / "py",
                          on_progress=lambda done, total: seen.append((done, total)))
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert seen[-1] == (6, 6)
    res = cli.invoke(app, ["run", str(SCENARIOS / "backtest_2025.yaml"), "-n", "6", "-w", "1", "--json",
                           "--results", str(tmp_path / "cli")])
    doc = json.loads(res.stdout)
    assert open_run(folder).manifest["run_summary"] == doc["run_summary"]
    assert open_run(folder).series(["shortfall_t"]).equals(open_run(doc["results"]).series(["shortfall_t"]))
    # the monthly series without writing anything: the same numbers as the written run's
    from resim.pipeline import series

    frame = series(SCENARIOS / "backtest_2025.yaml", 6)
    written = open_run(folder).series(["shortfall_t", "demand_t"]).sort_values(["replication", "month"])
    np.testing.assert_array_equal(frame["shortfall_t"].to_numpy(), written["shortfall_t"].to_numpy())
    assert (frame["month"].to_numpy() == written["month"].to_numpy()).all() and frame.attrs["units"]["demand_t"]


def test_loads_are_cached_per_file_version_and_never_shared_between_callers(tmp_path):
    import shutil
    import time

    shutil.copytree(SCENARIOS.parent / "seeds", tmp_path / "seeds")
    shutil.copytree(SCENARIOS.parent / "posteriors", tmp_path / "posteriors")
    (tmp_path / "scenarios").mkdir()
    shutil.copy(SCENARIOS / "baseline.yaml", tmp_path / "scenarios" / "baseline.yaml")
    child = tmp_path / "scenarios" / "child.yaml"
    child.write_text("extends: baseline.yaml\nname: child\nreplications: 7\n")
    assert load(child).scenario.replications == 7
    assert load(child, {"replications": 9}).scenario.replications == 9
    assert load(child).scenario.replications == 7  # an override never reaches the cached document
    time.sleep(0.01)
    child.write_text("extends: baseline.yaml\nname: child\nreplications: 8\n")
    assert load(child).scenario.replications == 8  # an edited file is read again
    base = tmp_path / "scenarios" / "baseline.yaml"
    base.write_text(base.read_text().replace("horizon_months: 72", "horizon_months: 60"))
    assert load(child).scenario.horizon_months == 60  # so is an edited file it extends
    seeds = tmp_path / "seeds" / "assumptions.yaml"
    seeds.write_text(seeds.read_text().replace("{id: deferred_share, value: 0.3,",  # (not a fitted prior)
                                               "{id: deferred_share, value: 0.4,"))
    assert load(child).figures["deferred_share"].value == 0.4  # and an edited seed file


@pytest.mark.slow
def test_sweeps_comparisons_and_analyses_open_as_dataframes(tmp_path):
    from resim.results.api import open_comparison, open_run, open_sensitivity, open_sweep

    ends = str(SCENARIOS / "pause_ends.yaml")
    sweep = cli.invoke(app, ["sweep", ends, "--vary", "demand.inventory_cover_weeks=2,4", "-n", "2", "-w", "1",
                             "--json", "--results", str(tmp_path)])
    folder = json.loads(sweep.stdout)["results"]
    points = open_sweep(folder).table()
    assert list(points["point"]) == [0, 1] and "param.demand.inventory_cover_weeks" in points
    runs = [json.loads(run_cli("run", SCENARIOS / f"{n}.yaml", "-n", "2", "-w", "1", "--json", "--results",
                               tmp_path).stdout)["results"] for n in ("pause_ends", "stockpile_90d")]
    compared = json.loads(run_cli("compare", *runs, "--json", "--results", tmp_path).stdout)
    comparison = open_comparison(compared["results"])
    assert set(comparison.tables) == {"comparison", "monthly_difference"}
    assert comparison.table().attrs["units"]["cumulative_shortfall_t"] == "t NdFeB"
    analysis = cli.invoke(app, ["sensitivity", str(SCENARIOS / "oracles" / "outage_vs_stock.yaml"), "--n", "8",
                                "--json", "--results", str(tmp_path)])
    indices = open_sensitivity(json.loads(analysis.stdout)["results"]).table()
    assert {"factor", "S1", "ST", "period"} <= set(indices.columns)
    res = run_cli("validate", SCENARIOS / "pause_ends.yaml")
    assert res.exit_code == 0
    with pytest.raises(Exception, match="not a finished resim sweep"):
        open_sweep(tmp_path)
    # every table of every folder carries its units, in the Parquet fields and in a Frictionless
    # Data Package descriptor that a generic tool validates; dates open as dates
    from frictionless import validate

    folders = [Path(f) for f in (folder, *runs, compared["results"], json.loads(analysis.stdout)["results"])]
    for f in folders:
        versions = json.loads((f / "manifest.json").read_text())["versions"]
        assert {"resim", "pandas", "xarray", "dask", "distributed"} <= set(versions)
        described = json.loads((f / "datapackage.json").read_text())
        tables = sorted(p.name for p in (*f.glob("*.parquet"), *f.glob("*.csv")))
        assert sorted(r["path"] for r in described["resources"]) == tables
        report = validate(str(f / "datapackage.json"))
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
        for resource in described["resources"]:
            units = {x["name"]: x.get("unit") for x in resource["schema"]["fields"]}
            assert all(units[c] for c in units if c.endswith(("_t", "_t_low", "_t_high", "_months")))
            if resource["format"] == "parquet":
                schema = pq.read_schema(f / resource["path"])
                assert {x.name: (x.metadata or {}).get(b"unit", b"").decode() or None for x in schema} == units
    assert points.attrs["units"]["mean_cumulative_shortfall_t"] == "t NdFeB"
    assert points.attrs["units"]["param.demand.inventory_cover_weeks"] == "weeks"
    assert points.attrs["units"]["p_any_shortfall"] == "probability"
    replications = open_run(runs[0]).replications()
    assert str(replications["first_short_month"].dtype).startswith("datetime64")
    assert replications.attrs["units"]["cumulative_shortfall_t"] == "t NdFeB"
    monthly = comparison.table("monthly_difference")
    assert str(monthly["month"].dtype).startswith("datetime64") and monthly.attrs["units"]["mean_diff_t"] == "t NdFeB"


def test_json_documents_keep_json_types_and_have_no_nan():
    # a script testing `passed is False` must see a failing oracle; NaN is not JSON
    import datetime as dt

    from resim.folders import json_text

    doc = json.loads(json_text({"passed": np.bool_(False), "n": np.int64(3), "x": np.float64(1.5),
                                "missing": float("nan"), "far": np.inf, "when": dt.date(2026, 12, 1),
                                "rows": [np.array([1.0, np.nan])]}), parse_constant=lambda c: pytest.fail(c))
    assert doc == {"passed": False, "n": 3, "x": 1.5, "missing": None, "far": None, "when": "2026-12-01",
                   "rows": [[1.0, None]]}
    assert doc["passed"] is False and isinstance(doc["n"], int)


def test_run_json_is_strict_json_with_numbers_as_numbers(tmp_path):
    res = cli.invoke(app, ["run", str(SCENARIOS / "backtest_2025.yaml"), "-n", "2", "-w", "1", "--json",
                           "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout, parse_constant=lambda c: pytest.fail(f"{c} in --json output"))
    assert isinstance(doc["replications"], int) and isinstance(doc["run_summary"]["p_any_shortfall"], float)


def test_python_callers_get_progress_on_a_ready_bar_and_caveats_as_warnings(tmp_path):
    # a notebook passes its tqdm bar as it is; a caveat the CLI prints reaches Python as a warning
    import io
    import threading
    import warnings

    from tqdm import tqdm

    from resim import pipeline
    from resim.cli import views
    from resim.errors import ResimWarning

    bar = tqdm(file=io.StringIO())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline.run_scenario(SCENARIOS / "oracles" / "outage_vs_stock.yaml", replications=8, workers=1,
                              results=tmp_path, precision=pipeline.Precision(1e-4, max_replications=16),
                              on_progress=bar)
    assert bar.n == bar.total == 16
    assert [str(w.message) for w in caught if w.category is ResimWarning][0].endswith(
        "not reached within 16 replications (see the manifest's precision)")
    # the CLI's bars refresh without a thread: worker pools fork while they show
    before = threading.active_count()
    with views.progress("work") as progress:
        task = progress.add_task("work", total=3)
        progress.advance(task)
        assert threading.active_count() == before
