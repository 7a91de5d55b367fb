"""The JSON Schemas shipped in schema/ (for editors): current, valid for every shipped scenario with a
standard validator, and holding the loader's bounds."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jsonschema
import pytest
import yaml
from tests.conftest import REPO, SCENARIOS

from resim.scenario.schema import json_schema
from resim.scenario.yamlfile import YAML_LOADER


def _as_json(node: Any) -> Any:
    """A YAML document as an editor's validator sees it (dates are ISO strings)."""
    if isinstance(node, dict):
        return {str(k): _as_json(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_as_json(v) for v in node]
    return node.isoformat() if isinstance(node, dt.date) else node


def _validator(overlay: bool) -> jsonschema.Draft202012Validator:
    name = "overlay" if overlay else "scenario"
    schema = json.loads((REPO / "schema" / f"{name}.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def test_the_shipped_schemas_are_current():
    for overlay, name in ((False, "scenario"), (True, "overlay")):
        declared = json_schema(overlay)
        assert declared["$schema"] == "https://json-schema.org/draft/2020-12/schema"  # which draft, for editors
        assert declared["$id"] == f"urn:resim:schema:{name}"
        jsonschema.Draft202012Validator.check_schema(declared)
        assert json.loads((REPO / "schema" / f"{name}.schema.json").read_text()) == json_schema(overlay), \
            f"regenerate: resim schema {'--overlay ' if overlay else ''}> schema/{name}.schema.json"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_validates_against_its_schema(path):
    doc = _as_json(yaml.load(path.read_text(), Loader=YAML_LOADER))
    errors = [e.message for e in _validator("extends" in doc).iter_errors(doc)]
    assert not errors, errors[:3]


@pytest.mark.parametrize(("change", "overlay"), [
    ({"china": {"licensing": {"approval_probability": 1.7}}}, True),
    ({"suppliers": {"japan": {"capacity_t_per_year": -400}}}, True),
    ({"demand": {"deferred_share": {"dist": "uniform", "low": 0.2, "high": 1.4, "source": "x"}}}, True),
    ({"horizon_months": 0}, True),
    ({"no_such_field": 1}, True),
    # dotted keys are paths into the scenario, checked like nested ones (six of nine shipped overlays use them)
    ({"china.licensing.approval_probability": 1.7}, True),
    ({"china.licensing.aproval_probability": 0.2}, True),
    ({"demand": {"segments.e2w.groups.fast_redesign.share": 2}}, True),
    ({"suppliers.japan.capacity_t_per_yearx": 400}, True),
    ({"china.regimes+": [{"from": "2027-01-10", "rule": "october_2025"}]}, True),
])
def test_out_of_range_values_and_unknown_fields_are_rejected(change, overlay):
    doc = {"extends": "baseline.yaml", **change}
    assert list(_validator(overlay).iter_errors(doc))
    base = _as_json(yaml.load((SCENARIOS / "baseline.yaml").read_text(), Loader=YAML_LOADER))
    assert not list(_validator(False).iter_errors(base))


def test_dotted_keys_that_name_a_field_are_accepted_at_any_level():
    validator = _validator(True)
    for change in ({"china.licensing.approval_probability": 0.3},
                   {"demand": {"segments.e2w.groups.fast_redesign.share": 0.5}},
                   {"china.rule_sets.open": {"note": "nothing controlled", "source": "x"}},
                   {"china.regimes+": [{"from": "2027-01-10", "rules": "october_2025"}]},
                   {"prices.china_inr_per_kg.dytb": {"ref": "china_price_dytb_inr_per_kg"}}):
        errors = [e.message for e in validator.iter_errors({"extends": "baseline.yaml", **change})]
        assert not errors, (change, errors[:2])
