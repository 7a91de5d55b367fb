"""Where each resolved parameter came from: one row per parameter, for `resim sources`, the run
manifest and reports (so a report can be rebuilt from a results folder alone)."""

from __future__ import annotations

from typing import Any

from resim.scenario.loader import Loaded
from resim.scenario.params import Fixed, _Spec, plain
from resim.scenario.posterior import read_posterior
from resim.scenario.schema import rule_sets_in_force
from resim.scenario.walk import is_per_event, iter_specs

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


QUANTILES = (("p5", 0.05), ("median", 0.5), ("p95", 0.95))


def parameter_rows(loaded: Loaded) -> list[dict[str, Any]]:
    """Every parameter: value or distribution, p5-p95 (as text, and its median, p5 and p95 as
    numbers), unit, its meaning in words, when drawn, source, and where set. A parameter the
    scenario's posterior fitted (and the scenario does not set) shows the posterior's spread."""
    posterior = read_posterior(loaded.scenario.posterior) if loaded.scenario.posterior is not None else None
    rows = []
    for path, spec, field in iter_specs(loaded.scenario):
        row = {
            "parameter": path,
            "meaning": (field.description or "") if field else "",
            "value": spec.describe(),
            "p5_p95": _spread(spec),
            **{name: float(spec.ppf(q)) for name, q in QUANTILES},
            "unit": unit_of(path),
            "drawn": "per event" if is_per_event(field) else "per replication",
            "source": _source_text(loaded, spec),
            "set_in": loaded.where(path),
        }
        if posterior is not None and path in posterior.parameters and not spec.is_fixed:
            fitted = {name: posterior.quantile(path, q) for name, q in QUANTILES}
            row.update(fitted, value=f"fitted; prior {spec.describe()}",
                       p5_p95=f"{plain(fitted['p5'], 3)} - {plain(fitted['p95'], 3)}",
                       drawn="per replication, with the posterior's pick",
                       source=f"posterior of calibration {posterior.calibration} ({posterior.folder}); prior: "
                              f"{row['source']}")
        rows.append(row)
    return rows


def _spread(spec: _Spec) -> str:
    if spec.is_fixed:
        return ""
    return f"{plain(spec.ppf(0.05), 3)} - {plain(spec.ppf(0.95), 3)}"


def _source_text(loaded: Loaded, spec: _Spec) -> str:
    if not spec.source:
        return "zero (not used)" if isinstance(spec, Fixed) and spec.value == 0 else ""
    ids = [s.strip() for s in spec.source.split(",")]
    known = [loaded.figures[i] for i in ids if i in loaded.figures]
    return "; ".join(f.citation for f in known) if known else spec.source


def structural_rows(loaded: Loaded) -> list[dict[str, str]]:
    """The structural choices: each rule set a regime change can bring into force (what it licenses,
    may license, bans and holds back, and on what basis), each dated change and its outcomes, and
    how non-China capacity is shared among the groups."""
    china = loaded.scenario.china
    rows = []
    for name in rule_sets_in_force(loaded.scenario):
        rules = china.rule_sets[name]
        maybe = ", ".join(f"{p} (p {_spec(spec).describe()})" for p, spec in rules.may_license.items())
        hold = _spec(rules.non_china_exposed_share)
        rows.append({
            "choice": f"rule set {name}",
            "what": "; ".join(part for part in (
                f"licensed: {', '.join(rules.licensed) or 'nothing'}",
                f"may license: {maybe}" if maybe else "",
                f"banned: {', '.join(rules.banned)}" if rules.banned else "",
                "" if hold.is_fixed and hold.support()[0] == 0 else f"holds back non-China output: {hold.describe()}",
            ) if part),
            "basis": _basis(loaded, rules.source) or rules.note,
            "set_in": loaded.where(f"china.rule_sets.{name}"),
        })
    for i, change in enumerate(china.regimes):
        if change.outcomes is None:
            what = f"{change.rules}"
        else:
            what = "; ".join(f"{o.name}: {o.rules} (p {o.probability:g}"
                             + (f", {o.shift_days:+d} days" if o.shift_days else "") + ")" for o in change.outcomes)
        rows.append({"choice": f"from {change.from_}", "what": what, "basis": change.note,
                     "set_in": loaded.where(f"china.regimes.{i}")})
    firms = loaded.scenario.demand.licence_applicants_per_group
    rows.append({"choice": "licence applicants",
                 "what": f"each maker group is {firms} firm(s) applying for China's licences on their own; its "
                         "orders for China are theirs in equal parts",
                 "basis": _basis(loaded, "licence_applicants_per_group"),
                 "set_in": loaded.where("demand.licence_applicants_per_group")})
    carry = loaded.scenario.demand.non_china_carry_months
    rows.append({"choice": "non-China contracts",
                 "what": "each group buys only its own share of each supplier's output for India (planned need x "
                         f"access); what it leaves uncalled stays callable {carry} more month(s)",
                 "basis": _basis(loaded, "non_china_carry_months"),
                 "set_in": loaded.where("demand.non_china_carry_months")})
    return rows


def _basis(loaded: Loaded, source: str) -> str:
    ids = [s.strip() for s in source.split(",") if s.strip()]
    known = [loaded.figures[i] for i in ids if i in loaded.figures]
    return "; ".join(f.citation for f in known) if known else source


def _spec(value: Any) -> _Spec:
    """A resolved scenario's parameter: every number and reference is a spec by now."""
    assert isinstance(value, _Spec), value
    return value
