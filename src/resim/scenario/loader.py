"""Load a scenario file: YAML with line numbers, `extends:` chains, dotted overrides, validation,
and resolution of `{ref: id}` parameters against `seeds/`.

Every failure becomes an `InputError` naming the file, line, field path and what is allowed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resim.scenario import bundled
from resim.scenario.explain import validate
from resim.scenario.resolve import (
    check_dates,
    check_group_shares,
    check_key_assumptions,
    check_renewal_lead,
    check_rule_names,
    check_spans,
    check_uncertain_products,
    resolve_posterior,
    resolve_refs,
)
from resim.scenario.schema import Scenario
from resim.scenario.seeds import ASSUMPTION_FILES, Figure, find_seeds_dir, load_figures
from resim.scenario.yamlfile import Marks, find_mark, key_of, load_chain, plain, set_in

OVERRIDE = Path("<override>")  # where a problem with an override (--set, a sweep point, Python) is said to be


@dataclass
class Loaded:
    """A validated, resolved scenario and where each of its fields was set."""

    scenario: Scenario
    path: Path
    files: list[Path]  # the extends chain, this file first
    marks: Marks
    figures: dict[str, Figure]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    def where(self, dotted: str) -> str:
        mark = find_mark(self.marks, tuple(key_of(p) for p in dotted.split(".")))
        return f"{mark[0].name}:{mark[1]}" if mark else "schema default"


@dataclass(frozen=True)
class Document:
    """A scenario's files as parsed: the merged `extends` chain, the marks of its keys and the seed
    figures it may cite. Everything `load` needs after reading files, so it can be shipped to a
    cluster worker that has none of them (a `posterior:` folder is still read where it is used)."""

    path: Path
    raw: dict[str, Any]
    marks: Marks
    files: list[Path]
    figures: dict[str, Figure]

    def load(self, overrides: dict[str, Any] | None = None) -> Loaded:
        """Validate and resolve with `overrides` set on dotted fields first (as a child file would),
        so a sweep point passes the same checks as a file."""
        path, marks = self.path, dict(self.marks)
        raw = copy.deepcopy(self.raw)
        raw.pop("extends", None)
        for dotted, value in (overrides or {}).items():
            keys = [key_of(p) for p in dotted.split(".")]
            set_in(raw, keys, plain(value))
            marks[tuple(keys)] = (OVERRIDE, 0)  # a problem with an override is the override's, not the file's
        scenario = validate(raw, marks, path)
        check_rule_names(scenario, marks, path)
        scenario = resolve_refs(scenario, self.figures, marks, path)
        check_dates(scenario, marks, path)
        check_spans(scenario, marks, path)
        check_group_shares(scenario, marks, path)
        check_uncertain_products(scenario, marks, path)
        check_key_assumptions(scenario, marks, path)
        check_renewal_lead(scenario, marks, path)
        scenario = resolve_posterior(scenario, marks, path)
        return Loaded(scenario, path, self.files, marks, self.figures, raw)


def read_document(path: Path | str) -> Document:
    """Read a scenario file, the files it extends and the seeds it may cite (each file parsed once
    per version: see _read_chain)."""
    path = Path(path)
    raw, marks, files = _read_chain(path)
    seeds_dir = next((d for f in files if (d := find_seeds_dir(f.parent.resolve()))), None) or bundled.seeds_dir()
    return Document(path, raw, marks, files, _read_figures(seeds_dir) if seeds_dir else {})


def load(path: Path | str, overrides: dict[str, Any] | None = None) -> Loaded:
    """Load, validate and resolve a scenario file, with `overrides` on dotted fields."""
    return read_document(path).load(overrides)


_Stamp = tuple[Path, int, int]  # resolved path, modification time (ns), size: a file's version


_CHAINS: dict[Path, tuple[list[_Stamp], dict[str, Any], Marks, list[Path]]] = {}


_FIGURES: dict[Path, tuple[list[_Stamp], dict[str, Figure]]] = {}


def _stamp(path: Path) -> _Stamp:
    st = path.stat()
    return path.resolve(), st.st_mtime_ns, st.st_size


def _current(stamps: list[_Stamp]) -> bool:
    try:
        return all(_stamp(stamp[0]) == stamp for stamp in stamps)
    except OSError:
        return False


def _read_chain(path: Path) -> tuple[dict[str, Any], Marks, list[Path]]:
    """`load_chain`, parsed once per version of its files (measured: 43 -> 13 ms per load of
    pause_ends); callers copy the document before they edit it."""
    hit = _CHAINS.get(path.resolve())
    if hit is None or not _current(hit[0]):
        raw, marks, files = load_chain(path, [])
        hit = _CHAINS[path.resolve()] = ([_stamp(f) for f in files], raw, marks, files)
    return hit[1], hit[2], hit[3]


def _read_figures(seeds_dir: Path) -> dict[str, Figure]:
    """`load_figures`, read once per version of the seed files."""
    files = [f for f in (seeds_dir / "seed_figures.yaml", *(seeds_dir / n for n in ASSUMPTION_FILES)) if f.is_file()]
    hit = _FIGURES.get(seeds_dir.resolve())
    if hit is None or not _current(hit[0]) or len(hit[0]) != len(files):
        hit = _FIGURES[seeds_dir.resolve()] = ([_stamp(f) for f in files], load_figures(seeds_dir))
    return dict(hit[1])
