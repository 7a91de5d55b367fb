"""Seed figures and documented assumptions, loaded from `seeds/*.yaml` into one table by id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from resim.errors import InputError
from resim.scenario.yamlfile import read_yaml


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
    seed_doc = read_yaml(seed_file, dotted_keys=False)[0]  # the same guards as a scenario file
    with _rows_of(seed_file, "figures: a list of {id, value, unit, source}"):
        sources = seed_doc.get("sources") or {}
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
        doc = read_yaml(assumption_file, dotted_keys=False)[0]
        with _rows_of(assumption_file, "assumptions: a list of {id, value, low, high, unit, source}"):
            for row in doc["assumptions"]:
                _add(figures, assumption_file, Figure(
                    row["id"], "assumption", row.get("value"), row["unit"], row["source"],
                    row.get("low"), row.get("high"), row.get("rationale", ""),
                ))
    return figures


@contextmanager
def _rows_of(path: Path, allowed: str) -> Iterator[None]:
    """A seed file whose rows lack a key or are not mappings is one input error naming the file."""
    try:
        yield
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError.one(path, f"not a seed file ({type(exc).__name__}: {exc}); allowed: {allowed}") from None


def _add(figures: dict[str, Figure], file: Path, figure: Figure) -> None:
    if figure.id in figures:
        raise InputError.one(file, f"duplicate id {figure.id!r}", field="id")
    figures[figure.id] = figure
