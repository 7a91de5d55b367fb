"""Where each resolved parameter came from: one row per parameter, for `resim sources`, the run
manifest and reports (so a report can be rebuilt from a results folder alone)."""

from __future__ import annotations

from resim.loader import Loaded
from resim.params import Fixed, _Spec
from resim.tree import is_per_event, iter_specs

UNIT_SUFFIXES = [
    ("_t_per_year", "t/yr"), ("units_per_year", "vehicles/yr"), ("growth_per_year", "1/yr"),
    ("_kg_per_vehicle", "kg/vehicle"), ("_t_per_t_magnet", "t/t magnet"), ("_t_per_month", "t/month"),
    ("_days", "days"), ("_months", "months"), ("_weeks", "weeks"), ("_share", "fraction"),
    ("_probability", "probability"),
]


def unit_of(path: str) -> str:
    """The unit a field's name declares (units live in names: `capacity_t_per_year`)."""
    name = path.rsplit(".", 1)[-1]
    return next((unit for suffix, unit in UNIT_SUFFIXES if name.endswith(suffix)), "")


def parameter_rows(loaded: Loaded) -> list[dict[str, str]]:
    """Every parameter: value or distribution, p5-p95, unit, when drawn, source, and where set."""
    return [{
        "parameter": path,
        "value": spec.describe(),
        "p5_p95": _spread(spec),
        "unit": unit_of(path),
        "drawn": "per event" if is_per_event(field) else "per replication",
        "source": _source_text(loaded, spec),
        "set_in": loaded.where(path),
    } for path, spec, field in iter_specs(loaded.scenario)]


def _spread(spec: _Spec) -> str:
    if spec.is_fixed:
        return ""
    return f"{spec.ppf(0.05):.3g} - {spec.ppf(0.95):.3g}"


def _source_text(loaded: Loaded, spec: _Spec) -> str:
    if not spec.source:
        return "zero (not used)" if isinstance(spec, Fixed) and spec.value == 0 else ""
    ids = [s.strip() for s in spec.source.split(",")]
    known = [loaded.figures[i] for i in ids if i in loaded.figures]
    return "; ".join(f.citation for f in known) if known else spec.source
