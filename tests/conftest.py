"""Shared helpers: the repository's paths and a minimal, fully deterministic scenario to vary."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from resim.analysis.oracles import MINIMAL_SCENARIO

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"

MINIMAL = MINIMAL_SCENARIO  # the known-answer scenario (one place owns it: resim.analysis.oracles)


def set_path(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *head, last = dotted.split(".")
    for key in head:
        doc = doc[key]
    doc[last] = value


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write MINIMAL with dotted overrides to a file; return its path."""

    def write(overrides: dict[str, Any] | None = None, name: str = "scenario.yaml") -> Path:
        doc = copy.deepcopy(MINIMAL)
        for dotted, value in (overrides or {}).items():
            set_path(doc, dotted, value)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    return write
