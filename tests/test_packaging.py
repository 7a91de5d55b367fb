"""A non-editable install in a fresh virtual environment: the wheel carries the seeds, scenarios
and sweeps, and runs them from another directory with no repository around. The environment
borrows this one's dependencies, every one but resim itself, through a folder of links named in a
path file (the README installs resim non-editable, so this environment's site-packages holds a copy
that pip would otherwise take for the wheel's), so the test needs no downloads and the resim it
imports is the wheel's. The wheel is built plain (RESIM_COMPILE=0): what it carries is the same."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_wheel_installed_elsewhere_runs_its_shipped_scenarios(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(tmp_path / "dist")],
                   check=True, capture_output=True, env={**os.environ, "RESIM_COMPILE": "0"})
    wheel = next((tmp_path / "dist").glob("resim-*.whl"))
    with zipfile.ZipFile(wheel) as archive:  # typed for checkers, licensed by an SPDX expression
        assert "resim/py.typed" in archive.namelist()
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        assert "License-Expression: MIT" in metadata
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    borrowed = tmp_path / "borrowed"
    borrowed.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(("resim", "__editable__.resim")):
            (borrowed / entry.name).symlink_to(entry)
    (site / "borrowed_dependencies.pth").write_text(f"{borrowed}\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def resim(*args: str, cwd: Path = elsewhere) -> subprocess.CompletedProcess[str]:
        return subprocess.run([python, "-m", "resim", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=300)

    where = subprocess.run([python, "-c", "import resim; print(resim.__file__)"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site)), where  # the wheel's copy, not the source tree
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
