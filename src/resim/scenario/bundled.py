"""The files shipped with resim (seeds, scenarios, sweeps, observations, posteriors, schemas). They
are package data (`src/resim/data/*` link to the repository's folders), so an installed resim finds
its seeds from any directory, and `resim init DIR` writes them all out for a user to run and edit."""

from __future__ import annotations

import shutil
from pathlib import Path

from resim.errors import InputError

FOLDERS = ("seeds", "scenarios", "sweeps", "observations", "posteriors", "schema")


def root() -> Path:
    return Path(__file__).resolve().parents[1] / "data"


def seeds_dir() -> Path | None:
    """The shipped seeds, where a scenario with no seeds/ folder above it finds its references."""
    seeds = root() / "seeds"
    return seeds if (seeds / "assumptions.yaml").is_file() else None


def init(target: Path) -> list[Path]:
    """Write the shipped folders into `target` (created if needed); refuses to overwrite any."""
    there = [target / name for name in FOLDERS if (target / name).exists()]
    if there:
        raise InputError.one(target, f"already holds {', '.join(p.name for p in there)}; allowed: a folder without "
                                     f"{', '.join(FOLDERS)} (nothing is overwritten)")
    missing = [name for name in FOLDERS if not (root() / name).is_dir()]
    if missing:
        raise InputError.one(root(), f"this installation lacks its shipped {', '.join(missing)}; allowed: reinstall "
                                     "resim")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FOLDERS:
        tmp = target / f".incomplete-{name}"
        shutil.copytree(root() / name, tmp, ignore=shutil.ignore_patterns("__pycache__"))
        tmp.rename(target / name)  # each folder whole or absent
        written.append(target / name)
    return written
