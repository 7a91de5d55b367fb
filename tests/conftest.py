"""Shared helpers: the repository's paths and a minimal, fully deterministic scenario to vary."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"

# One segment needing exactly 1 t of light-REE NdFeB per day (1,000 vehicles x 1 kg), China
# banned throughout, one non-China supplier, no domestic plants, no stocks: every figure fixed.
MINIMAL: dict[str, Any] = {
    "name": "minimal",
    "question": "Known-answer case for tests.",
    "start": "2026-01-01",
    "horizon_months": 12,
    "replications": 3,
    "seed": 7,
    "china": {
        "rule_sets": {"ban": {"banned": ["dytb_magnet", "light_magnet", "dytb_oxide", "ndpr_oxide"]},
                      "open": {}},
        "regimes": [{"from": "2020-01-01", "rules": "ban"}],
        "licensing": {"approval_probability": 0.5, "decision_delay_days": 30, "refile_delay_days": 10,
                      "max_refilings": 0},
        "lead_time_days": 20,
    },
    "demand": {
        "inventory_cover_weeks": 0, "planning_lead_time_days": 0, "redesign_to_light_ree_months": 0,
        "non_china_min_share": 0,
        "segments": {"seg": {"units_per_year": 365_250, "base_date": "2026-01-01", "growth_per_year": 0,
                             "ndfeb_kg_per_vehicle": 1.0, "dytb_grade_share": 0, "min_dytb_grade_share": 0}},
    },
    "suppliers": {"alt": {"capacity_t_per_year": 182.625, "lead_time_days": 0}},
    "domestic": {
        "ev_share": 1, "plants": 0,
        "plant": {"capacity_t_per_year": 0, "award_delay_months": 0, "commissioning_months": 0,
                  "ramp_months": 0, "utilisation": 1},
        "tender_date": "2026-01-01", "dytb_output_share": 0, "ndpr_oxide_t_per_t_magnet": 0.4,
        "dytb_content_share": 0.05, "irel_ndpr_oxide_start_t_per_year": 0,
        "irel_ndpr_oxide_target_t_per_year": 0, "irel_ramp_start": "2026-01-01", "irel_ramp_months": 0,
        "non_china_ndpr_oxide_t_per_year": 0, "lead_time_days": 10,
    },
    "heavy_ree": {"alt_dytb_t_per_year": 0, "domestic_dytb_t_per_year": 0},
}


def set_path(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *head, last = dotted.split(".")
    for key in head:
        doc = doc[key]
    doc[last] = value


@pytest.fixture
def write_scenario(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write MINIMAL with dotted overrides to a file; return its path."""

    def write(overrides: dict[str, Any] | None = None, name: str = "scenario.yaml") -> Path:
        doc = copy.deepcopy(MINIMAL)
        for dotted, value in (overrides or {}).items():
            set_path(doc, dotted, value)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    return write
