"""A non-editable install: the wheel carries the seeds, scenarios and sweeps, and runs them from
another directory with no repository around."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_wheel_installed_elsewhere_runs_its_shipped_scenarios(tmp_path):  # type: ignore[no-untyped-def]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(tmp_path / "dist")],
                   check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("resim-*.whl"))
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}  # the installed copy comes first; the source tree is not used

    def resim(*args: str, cwd: Path = elsewhere) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "resim", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=300)

    where = subprocess.run([sys.executable, "-c", "import resim; print(resim.__file__)"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site)), where
    # a scenario copied away from any seeds/ folder still finds the shipped seeds
    alone = elsewhere / "mine.yaml"
    shutil.copy(REPO / "scenarios" / "baseline.yaml", alone)
    checked = resim("validate", str(alone))
    assert checked.returncode == 0, checked.stderr
    # resim init writes the shipped files out; they run from there
    assert resim("init", "work").returncode == 0
    assert sorted(p.name for p in (elsewhere / "work").iterdir()) == sorted(
        ["seeds", "scenarios", "sweeps", "observations", "posteriors", "schema"])
    ran = resim("run", "scenarios/pause_ends.yaml", "-n", "2", "-w", "1", "--results", "r", cwd=elsewhere / "work")
    assert ran.returncode == 0, ran.stderr
    assert next((elsewhere / "work" / "r" / "pause_ends").iterdir()).joinpath("series.parquet").is_file()
