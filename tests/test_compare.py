"""Comparisons and reports: paired differences under common random numbers, and their outputs."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from tests.conftest import SCENARIOS
from typer.testing import CliRunner

from resim.analysis.compare import compare, load_run
from resim.cli import app

cli = CliRunner()
N = 40


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("results")
    folders = {}
    for key, name, seed in [("ends", "pause_ends", "20261110"), ("returns", "october_returns", "20261110"),
                            ("stockpile", "stockpile_90d", "20261110"), ("ends_other_seed", "pause_ends", "99"),
                            ("backtest", "backtest_2025", "20261110")]:
        out = root / key
        res = cli.invoke(app, ["run", str(SCENARIOS / f"{name}.yaml"), "-n", str(N), "--seed", seed,
                               "--results", str(out)])
        assert res.exit_code == 0, res.output
        folders[key] = next(p for p in out.glob("*/*") if p.is_dir())
    return folders


@pytest.mark.slow
def test_a_run_compared_with_itself_differs_by_nothing(runs):
    run = load_run(runs["ends"])
    c = compare(run, run)
    assert c.paired
    for o in c.outcomes:
        assert o.mean_diff == 0 and o.mean_diff_ci == (0.0, 0.0) and o.median_diff == 0
        assert o.p_b_worse == 0
    assert not c.monthly.differs.any()


def test_a_lever_that_helps_is_paired_replication_by_replication(runs):
    # The stockpile helps on average, and compare's P(B worse) is the share of paired replications
    # (same index) in which B's cumulative shortfall exceeds A's by more than the 1 t tolerance,
    # recomputed here from the two runs' replication tables. (Never worse at all holds without
    # deferred vehicles: test_model checks that replication by replication.)
    c = compare(load_run(runs["ends"]), load_run(runs["stockpile"]))
    cumulative = next(o for o in c.outcomes if o.outcome == "cumulative_shortfall_t")
    assert c.paired and cumulative.mean_diff < 0  # (its interval, from 40 replications, may reach past 0)
    a, b = (pq.read_table(runs[k] / "replications.parquet").to_pydict() for k in ("ends", "stockpile"))
    assert a["replication"] == b["replication"]
    worse = np.array(b["cumulative_shortfall_t"]) > np.array(a["cumulative_shortfall_t"]) + 1.0
    assert cumulative.p_b_worse == pytest.approx(worse.mean())
    assert cumulative.p_b_worse <= 0.05


def test_paired_intervals_are_narrower_than_unpaired_on_the_shipped_example(runs):
    # a lever against its own base: both draw the same world and luck in each replication, so the
    # paired differences are tighter (pause_ends against october_returns share little since Model v3:
    # which world follows the pause, drawn in pause_ends alone, dominates their variance)
    a, b = load_run(runs["ends"]), load_run(runs["stockpile"])
    paired, unpaired = compare(a, b), compare(a, b, paired=False)
    for op, ou in zip(paired.outcomes, unpaired.outcomes, strict=True):
        assert op.mean_diff == pytest.approx(ou.mean_diff)  # same point estimate, sharper interval
        width_p = op.mean_diff_ci[1] - op.mean_diff_ci[0]
        width_u = ou.mean_diff_ci[1] - ou.mean_diff_ci[0]
        assert width_p < width_u, op.outcome
    narrower = (paired.monthly.ci_high - paired.monthly.ci_low) <= (unpaired.monthly.ci_high - unpaired.monthly.ci_low)
    assert narrower.mean() > 0.9


def test_different_seeds_fall_back_to_unpaired_and_say_so(runs, tmp_path):
    res = cli.invoke(app, ["compare", str(runs["ends"]), str(runs["ends_other_seed"]), "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "UNPAIRED" in res.output
    table = pq.read_table(next(tmp_path.glob("comparisons/*/*")) / "comparison.parquet").to_pydict()
    assert not any(table["paired"])


def test_compare_cli_writes_tables_and_chart(runs, tmp_path):
    res = cli.invoke(app, ["compare", str(runs["ends"]), str(runs["returns"]), str(runs["stockpile"]),
                           "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "B = october_returns against A = pause_ends" in res.output and "P(B worse)" in res.output
    folder = next(tmp_path.glob("comparisons/*/*"))
    assert folder.parent.name == "pause_ends__vs__october_returns+stockpile_90d"
    outcomes = pq.read_table(folder / "comparison.parquet").to_pydict()
    assert set(outcomes["other"]) == {"october_returns", "stockpile_90d"}
    monthly = pq.read_table(folder / "monthly_difference.parquet").to_pydict()
    assert len(monthly["month"]) == 2 * 49 and "diff_p95_t" in monthly
    assert (folder / "comparison.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_compare_runs_scenario_files_first_with_one_seed(tmp_path):
    res = cli.invoke(app, ["compare", str(SCENARIOS / "pause_ends.yaml"), str(SCENARIOS / "full_ban.yaml"),
                           "-n", "12", "--results", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "paired: same seed 20261110 and 12 replications" in res.output
    assert len([p for p in tmp_path.glob("*/*") if p.is_dir() and p.parent.name != "comparisons"]) == 2


def test_runs_on_different_calendars_cannot_be_compared(runs, tmp_path):
    res = cli.invoke(app, ["compare", str(runs["ends"]), str(runs["backtest"]), "--results", str(tmp_path)])
    assert res.exit_code == 2
    assert "cannot be compared" in res.output and "start" in res.output and "horizon_months" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "comparisons").exists()
    res = cli.invoke(app, ["compare", str(runs["ends"]), str(tmp_path / "nothing-here")])
    assert res.exit_code == 2 and "not found" in res.output


@pytest.mark.slow
def test_report_is_self_contained_valid_html_rebuilt_from_parquet_and_manifest(runs, tmp_path):
    # Keep only what a run's Parquet and manifest hold: the report must not need anything else.
    copies = []
    for key in ("ends", "stockpile"):
        copy = tmp_path / key
        shutil.copytree(runs[key], copy)
        for p in copy.iterdir():
            if p.name not in ("manifest.json", "series.parquet"):
                p.unlink()
        copies.append(copy)
    out = tmp_path / "report.html"
    res = cli.invoke(app, ["report", *map(str, copies), "--out", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    root = ET.fromstring(text.removeprefix("<!DOCTYPE html>\n"))  # well-formed: every tag closed
    images = [img.get("src") for img in root.iter("img")]
    assert len(images) == 3 and all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.findall(r'(?:src|href)="(?!data:)', text)  # no network, no files beside it
    ends, stockpile = "The pause ends: the December 2026 outlook", "The pause ends, with a 90-day stockpile"
    for needle in ("pause_ends", "stockpile_90d", "Key assumptions", "licence_approval_rate_2025h2",
                   f"Comparison with {ends}", f"P({stockpile} worse)", "By drawn world", "snapback_nov2026",
                   '<meta name="viewport" content="width=device-width, initial-scale=1"/>', "(Wilson)"):
        assert needle in text, needle
    single = cli.invoke(app, ["report", str(copies[0])])
    assert single.exit_code == 0 and (copies[0] / "report.html").is_file()
    # a brief: the answer, the comparison and the caveats before the detail, in words, rounded
    brief, comparison, detail = (text.index(h) for h in (f"The answer: {ends}", f"Comparison with {ends}",
                                                          f"<h2>{ends}"))  # human names as headings
    assert brief < comparison < detail and text.index("Caveats") < comparison
    assert f"{stockpile}</b> against {ends} saves" in text and "cumulative shortfall" in text
    words = re.sub(r'src="data:[^"]*"', "", text)  # the page's text, images left out
    assert not re.search(r"\d,\d{3}\.\d", words)  # every table rounded: no "573,997.7 vehicles"
    assert not re.search(r"\de[+-]\d", words)  # plain numbers: no "1.23e+03"
    saving = re.search(r"saves ([\d,.]+) t of cumulative shortfall on average([^<;]*)", text)
    assert saving and "-" not in saving.group(2)  # a saving with positive bounds, or told as "t more"
    assert "Chance that one decision is an approval: " in text[brief:comparison]  # assumptions in words
    assert "china.licensing.approval_probability:" not in text[brief:comparison]


def test_figures_are_rounded_to_what_their_interval_supports():
    from resim.results.statistics import rounded

    assert rounded(424.3, 27) == "420"  # +-27: tens
    assert rounded(424.3, 14) == "424"  # +-14: leading 1, so two digits
    assert rounded(2_172_376.8, 50_000) == "2,170,000"
    assert rounded(0.03123, 0.004) == "0.031"
    assert rounded(1234.0, 0) == "1,234"  # no interval: the figure as it is


def test_monthly_difference_quantiles_are_ordered(runs):
    c = compare(load_run(runs["returns"]), load_run(runs["ends"]))
    q = c.monthly.quantiles
    assert np.all(q[5] <= q[50]) and np.all(q[50] <= q[95])


def test_a_paired_replication_is_worse_only_by_more_than_the_tolerance_with_a_wilson_interval():
    from resim.analysis.compare import compare_outcome
    from resim.results.statistics import proportion_ci

    a = np.zeros(10)
    b = np.array([0.5] * 5 + [2.0] * 5)
    tonnes = compare_outcome("cumulative_shortfall_t", a, b, paired=True, tolerance_t=1.0)
    assert tonnes.p_b_worse == 0.5 and tonnes.p_b_worse_ci == proportion_ci(5, 10)
    assert compare_outcome("cumulative_shortfall_t", a, b, paired=True, tolerance_t=0.0).p_b_worse == 1.0
    vehicles = compare_outcome("vehicles_not_built", a, b, paired=True, tolerance_t=1.0)
    assert vehicles.p_b_worse == 1.0  # not in tonnes: any excess counts
    none = compare_outcome("cumulative_shortfall_t", a, a, paired=True)
    assert none.p_b_worse == 0.0 and none.p_b_worse_ci[1] > 0.2  # no collapsed [0, 0] from 10 replications


@pytest.mark.slow
def test_the_report_reads_on_a_phone_in_a_headless_browser(runs, tmp_path):
    # Chromium from the system packages, driven by Playwright (which downloads no browser here)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium); the report's phone "
                    "layout is not checked")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    out = tmp_path / "report.html"
    assert cli.invoke(app, ["report", str(runs["ends"]), str(runs["stockpile"]), "--out", str(out)]).exit_code == 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1)
        page.goto(out.as_uri())
        width = page.evaluate("document.documentElement.scrollWidth")
        headline = page.locator(".headline").bounding_box()
        images = page.evaluate("[...document.images].map(i => [i.naturalWidth > 0, i.getBoundingClientRect().right])")
        browser.close()
    assert width <= 390, width  # nothing wider than the phone: tables scroll inside their box
    assert headline is not None and headline["x"] >= 0 and headline["x"] + headline["width"] <= 390
    assert images and all(loaded and right <= 390 for loaded, right in images)
