"""Seed figures and documented assumptions, loaded from `seeds/*.yaml` into one table by id."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from resim.errors import InputError


class YAML_LOADER(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml: ~10x faster
    """PyYAML's safe loader, reading numbers as YAML 1.2 does: `1e9` and `1.0e9` are floats (YAML 1.1
    wants a dot and a signed exponent, so PyYAML reads them as strings)."""


YAML_LOADER.add_implicit_resolver(  # checked after PyYAML's own int and float resolvers
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


@dataclass(frozen=True)
class Figure:
    """One seed figure or assumption: a value (number, date or None), its range, unit and source."""

    id: str
    kind: str  # "seed" or "assumption"
    value: float | dt.date | None
    unit: str
    source: str
    low: float | None = None
    high: float | None = None
    note: str = ""

    @property
    def citation(self) -> str:
        return f"{self.kind} {self.id}: {self.source}"


def find_seeds_dir(start: Path) -> Path | None:
    """The nearest `seeds/` folder at or above `start` (scenarios live beside seeds/ in the repo)."""
    for folder in [start, *start.parents]:
        if (folder / "seeds" / "assumptions.yaml").is_file():
            return folder / "seeds"
    return None


ASSUMPTION_FILES = ("assumptions.yaml", "world_2026.yaml", "record_2025.yaml")


def load_figures(seeds_dir: Path) -> dict[str, Figure]:
    """Read seed_figures.yaml, then the assumption files (assumptions.yaml, and where present the
    world through November 2026 and the 2025 record); ids must be unique across all."""
    figures: dict[str, Figure] = {}
    seed_file = seeds_dir / "seed_figures.yaml"
    seed_doc = yaml.load(seed_file.read_text(), Loader=YAML_LOADER)
    sources = seed_doc.get("sources", {})
    for row in seed_doc["figures"]:
        src = ", ".join(
            f"{sources[s.strip()]['title']} ({sources[s.strip()]['date']})" if s.strip() in sources else s
            for s in str(row["source"]).split(",")
        )
        _add(figures, seed_file, Figure(row["id"], "seed", row.get("value"), row["unit"], src,
                                        note=row.get("note", "")))
    for assumption_file in [seeds_dir / name for name in ASSUMPTION_FILES]:
        if not assumption_file.is_file():
            continue
        for row in yaml.load(assumption_file.read_text(), Loader=YAML_LOADER)["assumptions"]:
            _add(figures, assumption_file, Figure(
                row["id"], "assumption", row.get("value"), row["unit"], row["source"],
                row.get("low"), row.get("high"), row.get("rationale", ""),
            ))
    return figures


def _add(figures: dict[str, Figure], file: Path, figure: Figure) -> None:
    if figure.id in figures:
        raise InputError.one(file, f"duplicate id {figure.id!r}", field="id")
    figures[figure.id] = figure
