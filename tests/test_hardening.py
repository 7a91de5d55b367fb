"""Hostile input and faults: results never land outside the results folder, bad input is one
clear screen with exit code 2 and nothing written, no traceback for any bytes, workers die with
their parent, stale staging is cleaned, an edited sweep is not resumed, simultaneous runs do not
collide."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import MINIMAL, SCENARIOS
from typer.testing import CliRunner, Result

from resim.cli import app

cli = CliRunner()
BASE = f"extends: {SCENARIOS / 'baseline.yaml'}\n"
NAMED = BASE + "name: bad\n"


def _minimal_text(**top: object) -> str:
    doc = {**MINIMAL, **top}
    return yaml.safe_dump(doc, sort_keys=False)


BOMB = "".join(f"{k}: &{k} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
               for p, k in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True))

# (scenario text, fragments the message must contain); each must exit 2, name the file, write nothing
BAD_FILES = [
    # Model v3's new fields out of range
    (NAMED + "demand.service_level: 1.0\n", ["demand.service_level", "[0.5, 0.999]"]),
    (NAMED + "china.licensing.renewal_lead_days: 400\n", ["china.licensing.renewal_lead_days", "validity"]),
    (NAMED + "demand.licence_applicants_per_group: 0\n", ["demand.licence_applicants_per_group", "1"]),
    (NAMED + "china.lead_time_spread: 0\n", ["china.lead_time_spread", "[0.05, 20]"]),
    # a yes/no where a count or a quantity belongs (YAML reads on/yes/true as booleans)
    (NAMED + "domestic.plants: on\n", ["domestic.plants", "not a number"]),
    (NAMED + "horizon_months: yes\n", ["horizon_months", "not a number"]),
    (NAMED + "demand.segments.e2w.groups.fast_redesign.share: true\n", ["share", "not a number"]),
    # dates beyond the calendar resim handles
    (NAMED + "start: 9999-01-01\nreport_from: null\n", ["start", "1900-2150"]),
    (NAMED + "start: 0001-01-01\nreport_from: null\n", ["start", "1900-2150"]),
    # an alias that contains itself (it was a RecursionError)
    ("x: &a [*a]\n", ["contains itself"]),
    # beyond physical bounds: refused up front, before any arithmetic can overflow
    (NAMED + "demand.segments.e2w.units_per_year: 1e308\n", ["units_per_year", "[0, 1e+09]"]),
    (NAMED + "suppliers.japan.capacity_t_per_year: 1e12\n", ["capacity_t_per_year", "[0, 1e+06]"]),
    (NAMED + "demand.segments.ebus.ndfeb_kg_per_vehicle: 1000\n", ["ndfeb_kg_per_vehicle", "[0, 100]"]),
    (NAMED + "demand.segments.ecar.chain_cover_weeks: 1e300\n", ["chain_cover_weeks", "[0, 520]"]),
    (NAMED + "demand.segments.ecar.chain_cover_weeks: -3\n", ["chain_cover_weeks", "[0, 520]"]),
    (NAMED + "domestic.warehouse_cap_months: true\n", ["warehouse_cap_months", "expected a number"]),
    # a key assumption that names no parameter
    (NAMED + "key_assumptions: [china.licensing.aproval_probability]\n",
     ["key_assumptions.0", "did you mean 'china.licensing.approval_probability'"]),
    # names that cannot make a results folder
    (BASE + "name: ''\n", ["name", "no safe folder name"]),
    (BASE + "name: '..'\n", ["name", "no safe folder name"]),
    (BASE + "name: '///'\n", ["name", "no safe folder name"]),
    (BASE + "name: '._-'\n", ["name", "no safe folder name"]),
    # numbers that are not numbers
    (NAMED + "demand.segments.e2w.units_per_year: .nan\n", ["units_per_year", "finite number", ":3"]),
    (NAMED + "demand.segments.e2w.units_per_year: -.inf\n", ["units_per_year", "finite number", ":3"]),
    (NAMED + "demand.segments.e2w.units_per_year: .NaN\n", ["units_per_year", "finite number", ":3"]),
    (NAMED + "suppliers.japan.capacity_t_per_year: {dist: triangular, low: 0, mode: .nan, high: 5}\n",
     ["capacity_t_per_year", "finite number", ":3"]),
    (NAMED + "demand.inventory_cover_weeks: {dist: uniform, low: .nan, high: 3}\n",
     ["inventory_cover_weeks", "finite number", ":3"]),
    (NAMED + "china.lead_time_days: {dist: lognormal, median: .inf, p90: 9}\n", ["lead_time_days", ":3"]),
    (NAMED + "prices.motor_duty_share: .inf\n", ["motor_duty_share", "finite number", ":3"]),
    (NAMED + "levers.stockpile.initial_cover_days: .nan\n", ["initial_cover_days", "finite number", ":3"]),
    (NAMED + "demand.deferred_share: .nan\n", ["deferred_share", "finite number", ":3"]),
    (NAMED + "demand.segments.e2w.units_per_year: ten\n", ["units_per_year", ":3"]),
    (NAMED + "demand.segments.e2w.units_per_year: [1, 2]\n", ["units_per_year", ":3"]),
    (NAMED + "horizon_months: 12.5\n", ["horizon_months", "integer", ":3"]),
    (NAMED + "horizon_months: 0\n", ["horizon_months", ":3"]),
    (NAMED + "horizon_months: 601\n", ["horizon_months", "600", ":3"]),
    (NAMED + "replications: 0\n", ["replications", ":3"]),
    (NAMED + "replications: 1000000000\n", ["replications", "200000", ":3"]),
    (NAMED + "seed: -1\n", ["seed", ":3"]),
    # dates
    (NAMED + "start: 2026-13-01\n", ["start", ":3"]),
    (NAMED + "start: 2027-02-30\n", ["start", ":3"]),
    (NAMED + "start: 2026-01-15\n", ["start", "first day of a month"]),
    (NAMED + "start: yesterday\n", ["start", ":3"]),
    (NAMED + "china.regimes+: [{from: 2027-02-30, rules: april_2025}]\n", ["from", ":3"]),
    (NAMED + "report_from: 2024-12-01\n", ["report_from", "first day of a month", ":3"]),
    (NAMED + "levers.stockpile.ready_date: 2040-01-01\n", ["ready_date", "outside the horizon", ":3"]),
    (NAMED + "domestic.tender_date: 2099-01-01\n", ["tender_date", "outside the horizon", ":3"]),
    # structure
    (NAMED + "name: again\n", ["duplicate key 'name'", "first at line 2", ":3"]),
    (NAMED + "demand:\n  deferred_share: 0.1\n  deferred_share: 0.2\n", ["duplicate key 'deferred_share'", ":5"]),
    (NAMED + BOMB, ["expands to more than 100,000 nodes"]),
    (NAMED + "a: [" * 300 + "]" * 300 + "\n", ["bad.yaml"]),
    (NAMED + "china.regimes: 5\n", ["china.regimes", ":3"]),
    (NAMED + "china.rule_sets.april_2025.licensed: [neodymium]\n", ["licensed", "neodymium", ":3"]),
    (NAMED + "china.rule_sets.april_2025.banned: [light_magnet, unobtainium]\n", ["banned", ":3"]),
    (NAMED + "china.rule_sets.april_2025.colour: red\n", ["colour", "unknown field", ":3"]),
    (NAMED + "demand.segments.e9w: {units_per_year: 5}\n", ["e9w", ":3"]),
    (NAMED + "demand.segments.e2w.groups.incumbents: 5\n", ["incumbents", ":3"]),
    (NAMED + "demand.segments.e2w.groups.incumbents.share: -0.39\n", ["share", ":3"]),
    (NAMED + "demand.segments.e2w.groups.incumbents.priority: high\n", ["priority", ":3"]),
    (NAMED + "suppliers.japan.kind: smuggler\n", ["kind", ":3"]),
    (NAMED + "suppliers.japan.grades: [purple]\n", ["grades", ":3"]),
    (NAMED + "suppliers.japan.lead_time_days: {dist: uniform, low: 9, high: 3}\n", ["lead_time_days", ":3"]),
    (NAMED + "suppliers.japan.capacity_t_per_year: {ref: no_such_id}\n", ["unknown seed or assumption id", ":3"]),
    (NAMED + "suppliers.japan.capacity_t_per_year: {ref: supply_japan_t_per_year, over_range: zigzag}\n",
     ["over_range", ":3"]),
    (NAMED + "china.licensing.max_refilings: -1\n", ["max_refilings", ":3"]),
    (NAMED + "china.licensing.reviewers: 0\n", ["reviewers", ":3"]),
    (NAMED + "china.licensing.approval_probability: 1.7\n", ["approval_probability", "[0, 1]", ":3"]),
    (NAMED + "china.regimes+: [{from: 2027-01-01, rules: april_2025, outcomes: []}]\n", ["regimes", ":3"]),
    (NAMED + "china.regimes+: [{from: 2027-01-01, outcomes: [{name: a, probability: 0.5, rules: april_2025}]}]\n",
     ["sum to 1", ":3"]),
    (NAMED + "china.regimes+: [{from: 2027-01-01, outcomes: [{name: a, probability: 1.0, rules: nowhere}]}]\n",
     ["nowhere", ":3"]),
    (NAMED + "domestic.plants: -2\n", ["plants", ":3"]),
    (NAMED + "domestic.plant.utilisation: 1.2\n", ["utilisation", "[0, 1]", ":3"]),
    (NAMED + "heavy_ree.magnet_dytb_content_share: 2\n", ["magnet_dytb_content_share", ":3"]),
    (NAMED + "posterior: no/such/folder\n", ["posterior", "not a finished resim calibration", ":3"]),
    (NAMED + "extends: baseline.yaml\n", ["duplicate key 'extends'"]),
    (BASE + "extends: nowhere.yaml\nname: x\n", ["duplicate key 'extends'"]),
    ("extends: nowhere.yaml\nname: x\n", ["nowhere.yaml", "does not exist", ":1"]),
    ("- just\n- a list\n", ["YAML mapping", ":1"]),
    ("name: [unclosed\n", ["malformed YAML", ":2"]),
    ("name: x\n\tquestion: tab\n", ["malformed YAML"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD_FILES)
def test_bad_scenario_files_get_one_clear_screen_and_write_nothing(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    res = cli.invoke(app, ["run", str(path), "-n", "2", "--results", str(tmp_path / "results")])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert "bad.yaml" in res.output or "nowhere.yaml" in res.output
    for fragment in expected:
        assert fragment in res.output, (fragment, res.output)
    assert len(res.output.splitlines()) < 25
    assert not (tmp_path / "results").exists()


BAD_FLAGS = [  # (arguments after the scenario, fragments)
    (["-n", "1000000000"], ["--replications", "200,000"]),
    (["-w", "1000"], ["--workers", "per core"]),
    (["-n", "0"], ["replications"]),
    (["-w", "0"], ["workers"]),
    (["--seed", "-5"], ["seed"]),
]


@pytest.mark.parametrize(("args", "expected"), BAD_FLAGS)
def test_bad_flags_get_one_clear_line_and_write_nothing(tmp_path, args, expected):
    res = cli.invoke(app, ["run", str(SCENARIOS / "baseline.yaml"), *args, "--results", str(tmp_path / "r")])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    for fragment in expected:
        assert fragment in res.output, (fragment, res.output)
    assert not (tmp_path / "r").exists()


def test_bad_sweep_and_compare_input(tmp_path):
    binary = tmp_path / "sweep.yaml"
    binary.write_bytes(b"\x00\xff\xfe binary")
    cases = [
        (["sweep", str(binary)], ["sweep.yaml"]),
        (["sweep", str(SCENARIOS / "baseline.yaml"), "--vary", "demand.deferred_share=0:1", "--design", "foo"],
         ["design"]),
        (["sweep", str(SCENARIOS / "baseline.yaml"), "--vary", "nonsense"], ["--vary"]),
        (["sweep", "--resume", str(tmp_path)], ["not a sweep folder"]),
        (["compare", str(tmp_path), str(tmp_path)], ["not a finished resim run"]),
        (["calibrate", "--resume", str(tmp_path)], ["not a resim calibration folder"]),
        (["sweep", str(SCENARIOS / "baseline.yaml"), "--vary", "demand.deferred_share=0:1:2", "--dask", "notanaddress"],
         ["--dask", "cannot reach the Dask scheduler"]),
        (["calibrate", str(SCENARIOS.parent / "observations" / "record_and_sales_2025.yaml"), "--dask", "notanaddress"],
         ["--dask", "cannot reach the Dask scheduler"]),
    ]
    for args, expected in cases:
        res = cli.invoke(app, [*args, "--results", str(tmp_path / "r")] if args[0] != "compare" else args)
        assert res.exit_code == 2, (args, res.output)
        assert "Traceback" not in res.output
        for fragment in expected:
            assert fragment in res.output, (fragment, res.output)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", ["../../../escaped_run", "/tmp/absolute_run", "sub/dir", "a" * 300, "nul\x00l",
                                  "emoji 🧲 run", ".hidden"])
def test_results_always_land_inside_the_results_folder(tmp_path, name):
    path = tmp_path / "named.yaml"
    path.write_text(_minimal_text(name=name.replace("\x00", "")))
    results = tmp_path / "inside" / "results"
    res = cli.invoke(app, ["run", str(path), "-n", "2", "-w", "1", "--results", str(results)])
    assert res.exit_code == 0, res.output
    runs = [p for p in results.rglob("manifest.json")]
    assert len(runs) == 1
    folder = runs[0].parent
    assert folder.resolve().is_relative_to(results.resolve()) and folder.parent.parent == results
    assert len(folder.parent.name) <= 100 and "/" not in folder.parent.name and not folder.parent.name.startswith(".")
    assert {p.name for p in tmp_path.iterdir()} == {"named.yaml", "inside"}


def test_yaml_12_numbers_parse_as_numbers(tmp_path):
    path = tmp_path / "numbers.yaml"
    path.write_text(_minimal_text().replace("units_per_year: 365250", "units_per_year: 3.6525e5")
                    .replace("capacity_t_per_year: 182.625", "capacity_t_per_year: 1.82625E2"))
    res = cli.invoke(app, ["validate", str(path)])
    assert res.exit_code == 0, res.output


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_give_a_traceback(tmp_path, data):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    res = cli.invoke(app, ["validate", str(path)])
    assert res.exit_code in (0, 2), res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.dates(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)
SCENARIO_KEYS = st.sampled_from(["name", "question", "start", "horizon_months", "china", "demand", "suppliers",
                                 "domestic", "heavy_ree", "extends", "report_from", "posterior", "seed"])


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(SCENARIO_KEYS | st.text(max_size=12), YAML_VALUES, max_size=8))
def test_arbitrary_yaml_documents_never_give_a_traceback(tmp_path, doc):
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    res = cli.invoke(app, ["validate", str(path)])
    assert res.exit_code in (0, 2), res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)


# --- faults: processes and folders ---------------------------------------------------------------

def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_run(results: Path, replications: int = 400) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "resim.cli", "run", str(SCENARIOS / "pause_ends.yaml"),
                             "-n", str(replications), "-w", "2", "--results", str(results)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for_workers(proc: subprocess.Popen[bytes], results: Path) -> set[int]:
    for _ in range(300):
        workers = _children(proc.pid)
        if len(workers) >= 2 and list(results.glob("pause_ends/.incomplete-*")):
            return workers
        time.sleep(0.1)
    raise AssertionError("the run did not start its workers")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and PR_SET_PDEATHSIG")
def test_kill_9_of_a_run_leaves_no_worker_and_the_next_run_cleans_its_staging(tmp_path):
    results = tmp_path / "results"
    proc = _start_run(results)
    workers = _wait_for_workers(proc, results)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while any(_alive(w) for w in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
    assert list(results.glob("pause_ends/.incomplete-*"))  # kill -9 leaves its staging behind...
    res = cli.invoke(app, ["run", str(SCENARIOS / "pause_ends.yaml"), "-n", "2", "-w", "1", "--results", str(results)])
    assert res.exit_code == 0, res.output
    assert not list(results.glob("pause_ends/.incomplete-*"))  # ...and the next run removes it


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_sigterm_exits_cleanly_with_one_line_and_no_survivor(tmp_path):
    results = tmp_path / "results"
    proc = _start_run(results)
    workers = _wait_for_workers(proc, results)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"interrupted: the run was not written" in err and b"Traceback" not in err
    time.sleep(1)
    assert not any(_alive(w) for w in workers)
    assert not list(results.rglob(".incomplete-*")) and not list(results.rglob("manifest.json"))


@pytest.mark.slow
def test_two_runs_started_at_once_finish_in_distinct_folders(tmp_path):
    results = tmp_path / "results"
    procs = [_start_run(results, replications=4) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert len({p.parent for p in results.glob("pause_ends/*/manifest.json")}) == 2


def test_resume_refuses_a_sweep_whose_scenario_changed(tmp_path, monkeypatch):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(_minimal_text())
    res = cli.invoke(app, ["sweep", str(scenario), "--vary", "demand.segments.seg.growth_per_year=0:0.2:3",
                           "-n", "2", "-w", "1", "--results", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    folder = next((tmp_path / "r" / "sweeps").glob("*/*"))
    (folder / "points" / "1.parquet").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # resumable from any directory: the manifest holds absolute paths
    res = cli.invoke(app, ["sweep", "--resume", str(folder), "-w", "1"])
    assert res.exit_code == 0 and "resuming: 1 of 3 points" in res.output, res.output
    (folder / "points" / "1.parquet").unlink()
    scenario.write_text(_minimal_text().replace("growth_per_year: 0", "growth_per_year: 0.05"))
    res = cli.invoke(app, ["sweep", "--resume", str(folder)])
    assert res.exit_code == 2 and "changed since the sweep started" in res.output and "Traceback" not in res.output


def test_a_file_in_the_way_of_the_results_folder_is_a_clear_error_before_any_work(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    for args in (["run", str(SCENARIOS / "baseline.yaml"), "-n", "2"],
                 ["sweep", str(SCENARIOS / "baseline.yaml"), "--vary", "demand.deferred_share=0:1:2", "-n", "2"],
                 ["compare", str(SCENARIOS / "baseline.yaml"), str(SCENARIOS / "full_ban.yaml"), "-n", "2"]):
        res = cli.invoke(app, [*args, "--results", str(blocker / "sub")])
        assert res.exit_code == 2 and "cannot be written here" in res.output and "Traceback" not in res.output, args
        assert "replications, seed" not in res.output  # refused before the run started
    assert blocker.read_text() == "not a folder"


def test_outputs_carry_no_float_dust():
    # Stocks and shortfalls are exactly zero or clearly positive: "shortfall_t > 0" counts short months
    # the same as resim's 1 kg threshold (summary.SHORT_T) does.
    from resim.model import columns
    from resim.montecarlo.runner import run_one
    from resim.results.statistics import SHORT_T
    from resim.scenario.loader import load

    sc = load(SCENARIOS / "pause_ends.yaml").scenario
    cols = columns(sc)
    for i in range(5):
        series = run_one(sc, sc.seed, i).series
        for c in (c for c in cols if c.startswith(("shortfall_t", "maker_stock_t", "stock_t"))):
            x = series[:, cols.index(c)]
            assert (x >= 0).all() and not ((x > 0) & (x <= 1e-9)).any(), c
        short = series[:, cols.index("shortfall_t")]
        assert ((short > 0) == (short > SHORT_T)).mean() > 0.97


# A damaged or foreign results folder: (manifest text, the files beside it). Every command that reads
# a folder must refuse each with one screen, exit 2, naming the folder, and write nothing.
DAMAGED = {
    "not JSON": ("{not json", ["series.parquet"]),
    "not an object": ("[1, 2]", ["series.parquet"]),
    "empty object": ("{}", ["series.parquet"]),
    "no series beside it": ('{"scenario": "x"}', []),
    "a sweep's": ('{"spec": {}, "seed": 1, "points": [], "scenario_hash": "", "complete": true}', ["points.parquet"]),
    "a run's with its series cut short": (__import__("json").dumps(dict.fromkeys(
        ("scenario", "question", "seed", "replications", "start", "horizon_months", "report_from", "reported_months",
         "units", "outcomes", "run_summary", "yearly"), 1)), ["series.parquet"]),
}
READERS = {
    "compare": lambda d: ["compare", str(d), str(d)],
    "report": lambda d: ["report", str(d)],
    "calibrate --resume": lambda d: ["calibrate", "--resume", str(d)],
    "sweep --resume": lambda d: ["sweep", "--resume", str(d)],
    "sensitivity --resume": lambda d: ["sensitivity", "--resume", str(d)],
}


@pytest.mark.parametrize("damage", list(DAMAGED))
@pytest.mark.parametrize("command", list(READERS))
def test_a_damaged_or_foreign_folder_is_refused_by_every_reader(tmp_path: Path, damage: str, command: str) -> None:
    text, files = DAMAGED[damage]
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "manifest.json").write_text(text)
    for name in files:
        (folder / name).write_bytes(b"PAR1")  # not a whole Parquet file either
    before = sorted(p.name for p in tmp_path.rglob("*"))
    res = cli.invoke(app, [*READERS[command](folder)] + (["--results", str(tmp_path)] if command == "compare" else []))
    assert res.exit_code == 2, (command, damage, res.output)
    assert "Traceback" not in res.output and str(folder) in res.output.replace("\n", "")
    assert len(res.output.splitlines()) <= 24
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written


def test_resume_refuses_work_started_by_another_resim_version(tmp_path: Path) -> None:
    from resim.analysis.calibrate import CALIBRATION_KEYS

    folder = tmp_path / "cal"
    folder.mkdir()
    manifest = {k: None for k in CALIBRATION_KEYS} | {"resim_version": "0.0.1"}
    (folder / "manifest.json").write_text(__import__("json").dumps(manifest))
    res = cli.invoke(app, ["calibrate", "--resume", str(folder)])
    assert res.exit_code == 2 and "started with resim 0.0.1" in res.output, res.output


ENDS_FILE = str(SCENARIOS / "pause_ends.yaml")
OBSERVATIONS = str(SCENARIOS.parent / "observations" / "record_2025.yaml")
# Work with no upper bound: refused before anything is drawn or allocated, naming the limit.
UNBOUNDED = [
    (["sweep", ENDS_FILE, "--vary", "demand.inventory_cover_weeks=0:0.5:1000000"],
     "1,000,000 points; allowed: at most 100,000"),
    (["sweep", ENDS_FILE, "--vary", "demand.inventory_cover_weeks=1:5:300",
      "--vary", "china.licensing.approval_probability=0:0.5:400"], "120,000 points; allowed: at most 100,000"),
    (["sweep", ENDS_FILE, "--vary", "demand.inventory_cover_weeks=1:5", "--design", "lhs", "--points", "100000000"],
     "--points"),
    (["sweep", ENDS_FILE, "--vary", "demand.inventory_cover_weeks=1:5", "--design", "lhs", "--points", "90000",
      "-n", "1000"], "at most 10,000,000 replications in all"),
    (["calibrate", OBSERVATIONS, "--draws", "100000000"], "--draws"),
    (["calibrate", OBSERVATIONS, "-n", "1000000"], "--replications"),
    (["sensitivity", ENDS_FILE, "--n", str(2**24)], "to 65,536"),
    (["sensitivity", ENDS_FILE, "--n", str(2**30)], "to 65,536"),
]


@pytest.mark.parametrize(("args", "expected"), UNBOUNDED, ids=[" ".join(a[2:])[:40] for a, _ in UNBOUNDED])
def test_work_without_bound_is_refused_before_it_starts(tmp_path: Path, args: list[str], expected: str) -> None:
    res = cli.invoke(app, [*args, "--results", str(tmp_path / "results")])
    assert res.exit_code == 2, res.output
    assert expected in res.output.replace("\n", " ") and "Traceback" not in res.output
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*.json"))


def test_resume_never_imports_a_module_a_manifest_names(tmp_path: Path) -> None:
    # a tampered manifest saying the analysis is of a Python function must not make resim import it
    import json as json_

    from resim import __version__
    from resim.analysis.wholemodel import ANALYSIS_KEYS

    folder = tmp_path / "analysis"
    folder.mkdir()
    manifest = dict.fromkeys(ANALYSIS_KEYS, 1) | {"kind": "function", "model": "os:system",
                                                  "resim_version": __version__}
    (folder / "manifest.json").write_text(json_.dumps(manifest))
    res = cli.invoke(app, ["sensitivity", "--resume", str(folder)])
    assert res.exit_code == 2 and "of kind 'function'" in res.output, res.output


@pytest.mark.parametrize(("value", "expected"), [("[", "not valid YAML"), ("2026-13-01", "not a valid value"),
                                                  ("&a [*a]", "contains itself")])
def test_a_set_value_is_read_with_the_scenario_guards(value: str, expected: str) -> None:
    res = cli.invoke(app, ["sensitivity", str(SCENARIOS / "pause_ends.yaml"), "--set", f"horizon_months={value}",
                           "--list"])
    assert res.exit_code == 2 and expected in res.output and "Traceback" not in res.output, res.output


@pytest.mark.parametrize(("file", "text", "expected"), [
    ("assumptions.yaml", "a: [\n", "malformed YAML"),
    ("assumptions.yaml", "nothing: here\n", "not a seed file"),
    ("seed_figures.yaml", "figures: 3\n", "not a seed file"),
    ("assumptions.yaml", "x: &a [*a]\n", "contains itself"),
])
def test_a_users_damaged_seed_file_is_one_clear_error(tmp_path: Path, file: str, text: str, expected: str) -> None:
    import shutil

    shutil.copytree(SCENARIOS.parent / "seeds", tmp_path / "seeds")
    shutil.copy(SCENARIOS / "baseline.yaml", tmp_path / "baseline.yaml")
    (tmp_path / "seeds" / file).write_text(text)
    res = cli.invoke(app, ["validate", str(tmp_path / "baseline.yaml")])
    assert res.exit_code == 2 and expected in res.output and file in res.output, res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("method", ["cart", "prim"])
@pytest.mark.parametrize(("above", "which"), [(0.0, "every point"), (1e9, "no point")])
def test_discovery_with_nothing_to_separate_says_so(tmp_path: Path, method: str, above: float, which: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "sweep"
    folder.mkdir()
    pq.write_table(pa.table({"point": [0, 1, 2, 3], "param.a": [0.1, 0.2, 0.3, 0.4],
                             "mean_cumulative_shortfall_t": [5.0, 6.0, 7.0, 8.0]}), folder / "points.parquet")
    res = cli.invoke(app, ["discover", str(folder), "--above", str(above), "--method", method])
    assert res.exit_code == 2 and which in res.output and "nothing to separate" in res.output, res.output


@pytest.mark.slow
def test_dask_at_something_that_is_not_a_scheduler_is_refused_in_bounded_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a local HTTP server (loopback only) accepts the connection and never speaks Dask
    import http.server
    import threading

    from resim.montecarlo import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 3.0)  # the bound, shortened: 20 s of CI otherwise
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        res = cli.invoke(app, ["run", str(SCENARIOS / "pause_ends.yaml"), "-n", "2", "--results", str(tmp_path),
                               "--dask", f"tcp://127.0.0.1:{server.server_address[1]}"])
        assert res.exit_code == 2 and "no Dask scheduler answered" in res.output and "within 3 s" in res.output, \
            res.output
        assert time.monotonic() - started < 30 and not any(tmp_path.iterdir())
    finally:
        server.shutdown()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_a_worker_killed_mid_run_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = _start_run(results, replications=2000)
    for worker in _wait_for_workers(proc, results):  # every child: one of them might not be a pool worker
        os.kill(worker, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    text = err.decode()
    assert proc.returncode == 1, text
    assert "worker process died" in text and "not written" in text and "Traceback" not in text
    assert not any(p.is_dir() and not p.name.startswith(".") for p in (results / "pause_ends").iterdir())


def test_a_run_that_produces_a_non_finite_figure_stops_with_exit_3(tmp_path: Path, monkeypatch) -> None:
    # inputs are bounded up front (1e308 vehicles is refused), but should a figure still go
    # non-finite the run stops as a failed model check, writing nothing
    import numpy as np

    from resim.montecarlo import runner

    real = runner.simulate

    def with_a_nan(*args, **kwargs):
        series = real(*args, **kwargs)
        series[-1, 0] = np.nan
        return series

    monkeypatch.setattr(runner, "simulate", with_a_nan)
    res = cli.invoke(app, ["run", str(SCENARIOS / "pause_ends.yaml"), "-n", "2", "-w", "1",
                           "--results", str(tmp_path / "results")])
    assert res.exit_code == 3 and "non-finite" in res.output and "Traceback" not in res.output, res.output
    assert not list((tmp_path / "results").rglob("manifest.json"))


def test_staging_is_removed_only_when_its_owner_is_provably_gone(tmp_path: Path) -> None:
    # a process id alone is ambiguous across containers and hosts sharing a drive
    from resim.folders import OWNER_FILE, clean_stale, owner_id

    host, boot, namespace, _ = owner_id().split()
    dead = 2**22 + 12345  # above Linux's largest pid: no such process
    owners = {"same host, boot and namespace, dead": f"{host} {boot} {namespace} {dead}",
              "same host and boot, another PID namespace": f"{host} {boot} pid:[1] {dead}",
              "another host on a shared drive": f"elsewhere {boot} {namespace} {dead}",
              "this very process": owner_id(),
              "this host before a reboot": f"{host} 00000000-0000-0000-0000-000000000000 {namespace} {os.getpid()}"}
    for i, text in enumerate(owners.values()):
        (tmp_path / f".incomplete-{i}").mkdir()
        (tmp_path / f".incomplete-{i}" / OWNER_FILE).write_text(text)
    removed = {int(p.name.rsplit("-", 1)[1]) for p in clean_stale(tmp_path)}
    assert [name for i, name in enumerate(owners) if i in removed] == [
        "same host, boot and namespace, dead", "this host before a reboot"]


SWEEP_KEYS_FUZZ = st.sampled_from(["name", "scenario", "parameters", "design", "points", "replications", "seed"])
OBSERVATION_KEYS = st.sampled_from(["name", "scenario", "fit", "draws", "replications", "accept_share",
                                    "observations"])


def _never_a_traceback(res: Result) -> None:
    assert res.exit_code in (1, 2), res.output  # refused (2), or a failure named on one screen (1)
    assert "Traceback" not in res.output and (res.exception is None or isinstance(res.exception, SystemExit))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(SWEEP_KEYS_FUZZ | st.text(max_size=12), YAML_VALUES, max_size=7))
def test_arbitrary_sweep_files_never_give_a_traceback(tmp_path, document):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    _never_a_traceback(cli.invoke(app, ["sweep", str(path), "--results", str(tmp_path / "r")]))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(OBSERVATION_KEYS | st.text(max_size=12), YAML_VALUES, max_size=7))
def test_arbitrary_observation_files_never_give_a_traceback(tmp_path, document):
    path = tmp_path / "observations.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    _never_a_traceback(cli.invoke(app, ["calibrate", str(path), "--results", str(tmp_path / "r")]))


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_arbitrary_seed_files_never_give_a_traceback(tmp_path, data):
    import shutil

    if not (tmp_path / "seeds").exists():
        shutil.copytree(SCENARIOS.parent / "seeds", tmp_path / "seeds")
        shutil.copy(SCENARIOS / "baseline.yaml", tmp_path / "baseline.yaml")
    (tmp_path / "seeds" / "world_2026.yaml").write_bytes(data)
    res = cli.invoke(app, ["validate", str(tmp_path / "baseline.yaml")])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_set_values_never_give_a_traceback(value):
    res = cli.invoke(app, ["sensitivity", str(SCENARIOS / "pause_ends.yaml"), "--set", f"horizon_months={value}",
                           "--list"])
    assert res.exit_code in (0, 2) and "Traceback" not in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_an_override_typo_is_the_overrides_and_gets_a_did_you_mean():
    # from Python (and --set, and sweep points): not blamed on a line of the scenario file
    from resim.errors import InputError
    from resim.scenario.loader import load

    with pytest.raises(InputError) as caught:
        load(SCENARIOS / "baseline.yaml", {"china.licensing.aproval_probability": 0.2})
    (problem,) = caught.value.problems
    assert str(problem.file) == "<override>" and problem.field == "china.licensing.aproval_probability"
    assert "did you mean 'approval_probability'?" in problem.message
    with pytest.raises(InputError) as caught:
        load(SCENARIOS / "baseline.yaml", {"china.licensing.approval_probability": 1.7})
    assert str(caught.value).startswith("<override>: china.licensing.approval_probability: must lie in [0, 1]")


# The hostile-user audit of December 2026 (every command, 128 cases): the cases that were refused
# with another exit code, with a message naming neither the option nor the file, or that ran when
# they should have been refused. Each is now exit 2, one screen, the option or file named, nothing
# written. {run} and {sweep} are a finished run and sweep folder; {tmp} the test's folder.
AUDITED = [
    (["run", ENDS_FILE, "--precision", "0.1", "--max-replications", "1000000000"], ["--max-replications", "200,000"]),
    (["run", ENDS_FILE, "--seed", str(2**70)], ["--seed", "9223372036854775807"]),
    (["init", "{tmp}/a_file"], ["TARGET", "a_file"]),
    (["sweep", ENDS_FILE], ["is a scenario, not a sweep file", "--vary"]),
    (["sweep", ENDS_FILE, "--vary", "demand.deferred_share=0:1:2", "--vary", "demand.deferred_share=0:1:3"],
     ["--vary", "varied twice"]),
    (["sweep", ENDS_FILE, "--vary", "demand.deferred_share=0:1:2", "--outcome", "mean_nonsense"],
     ["--outcome", "p_any_shortfall"]),
    (["sweep", ENDS_FILE, "--vary", "demand.deferred_share=0:1:2", "--analyze", "morris"], ["--design", "levels"]),
    (["sweep", ENDS_FILE, "--vary", "demand.deferred_sharex=0:1:2"], ["--vary demand.deferred_sharex",
                                                                      "did you mean demand.deferred_share"]),
    (["sweep", ENDS_FILE, "--vary", "demand.deferred_share=0:7:2"], ["--vary demand.deferred_share", "value 7"]),
    (["sweep", ENDS_FILE, "--vary", "demand.deferred_share=0:1", "--design", "sobol", "--points", "7"],
     ["--points", "power of two", "4 or 8"]),
    (["sweep", ENDS_FILE, "--vary", "demand.deferred_share=0:1:2", "--resume", "{sweep}"], ["--resume", "not both"]),
    (["sensitivity", ENDS_FILE, "--resume", "{sweep}"], ["--resume", "not both"]),
    (["compare", "{run}", "{tmp}/bad.yaml"], ["bad.yaml", "malformed YAML"]),  # before the reference runs
    (["report", "{run}", "-o", "{tmp}"], ["--out", "is a folder"]),
    (["check", "-n", "100000000"], ["--replications", "1000"]),
    (["calibrate", "{tmp}/tiny_accept.yaml"], ["accept_share", "at least 5 accepted"]),
    # refused cleanly before the audit too; kept here so that they stay so
    (["sweep", "--resume", "{run}"], ["not a sweep folder"]),
    (["sensitivity", "--resume", "{sweep}"], ["not a", "sensitivity"]),
    (["discover", "{run}"], ["{run}"]),
    (["discover", "{sweep}", "--outcome", "nonsense"], ["--outcome", "mean_cumulative_shortfall_t"]),
    (["compare", "{run}"], ["at least two"]),
    (["compare", "{run}", "{sweep}"], ["not a finished resim run"]),
    (["check", "--scenarios", "{tmp}/no_such_folder"], ["no_such_folder"]),
    (["sensitivity", ENDS_FILE, "--group", "nonsense"], ["--group", "NAME=GLOB"]),
    (["sensitivity", ENDS_FILE, "--set", "demand.deferred_share=5"], ["deferred_share"]),
    (["sensitivity", ENDS_FILE, "-N", "100"], ["power of two"]),
]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> dict[str, Path]:
    """A finished run and a finished sweep of the known-answer scenario (seconds)."""
    root = tmp_path_factory.mktemp("finished")
    scenario = root / "minimal.yaml"
    scenario.write_text(_minimal_text())
    assert cli.invoke(app, ["run", str(scenario), "-n", "2", "-w", "1", "--results", str(root / "r")]).exit_code == 0
    res = cli.invoke(app, ["sweep", str(scenario), "--vary", "demand.deferred_share=0:0.5:2", "-n", "2", "-w", "1",
                           "--results", str(root / "s")])
    assert res.exit_code == 0, res.output
    return {"run": next((root / "r").rglob("manifest.json")).parent,
            "sweep": next((root / "s").rglob("manifest.json")).parent}


@pytest.mark.parametrize(("args", "expected"), AUDITED, ids=[" ".join(a)[:60] for a, _ in AUDITED])
def test_the_audited_cases_are_refused_with_one_clear_screen(tmp_path: Path, finished, args, expected) -> None:
    (tmp_path / "a_file").write_text("in the way")
    (tmp_path / "bad.yaml").write_text("name: [unclosed\n")
    observations = yaml.safe_load(Path(OBSERVATIONS).read_text())
    observations["scenario"] = str((Path(OBSERVATIONS).parent / observations["scenario"]).resolve())
    (tmp_path / "tiny_accept.yaml").write_text(yaml.safe_dump({**observations, "accept_share": 0.0001}))
    names = {"run": str(finished["run"]), "sweep": str(finished["sweep"]), "tmp": str(tmp_path)}
    argv = [a.format(**names) for a in args]
    results = tmp_path / "results"
    writes_results = argv[0] in ("run", "sweep", "sensitivity", "calibrate", "compare")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    res = cli.invoke(app, argv + (["--results", str(results)] if writes_results else []))
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and len(res.output.splitlines()) < 25
    flat = " ".join(res.output.split())
    for fragment in expected:
        assert fragment.format(**names) in flat, (fragment, res.output)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written
