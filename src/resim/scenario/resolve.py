"""After validation: `{ref: id}` parameters resolved against the seeds, a `posterior:` folder found,
and the checks that span fields (rule names, dates in the horizon, spans, group shares)."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from resim.errors import InputError, Problem
from resim.scenario import bundled
from resim.scenario.explain import problems_of
from resim.scenario.params import Fixed, Pert, Ref, Triangular, Uniform
from resim.scenario.schema import Scenario
from resim.scenario.seeds import Figure
from resim.scenario.walk import iter_specs, map_specs
from resim.scenario.yamlfile import Key, Marks, find_mark, key_of


def resolve_refs(scenario: Scenario, figures: dict[str, Figure], marks: Marks, path: Path) -> Scenario:
    problems: list[Problem] = []

    def resolve(spec: Any, where: str, _field: Any) -> Any:
        if not isinstance(spec, Ref):
            return spec
        mark = find_mark(marks, tuple(key_of(p) for p in where.split(".")))
        file, line = mark if mark else (path, None)
        figure = figures.get(spec.ref)
        if figure is None:
            near = difflib.get_close_matches(spec.ref, figures, n=3)
            hint = (f"; did you mean {', '.join(near)}?" if near else "; see seeds/*.yaml for ids"
                    if figures else "; no seeds/ folder (with assumptions.yaml) was found above the file")
            problems.append(Problem(file, line, where, f"unknown seed or assumption id {spec.ref!r}{hint}"))
            return spec
        if not isinstance(figure.value, int | float):
            problems.append(Problem(file, line, where, f"{spec.ref!r} is not a number ({figure.unit})"))
            return spec
        return _spec_from_figure(figure, spec, problems, file, line, where)

    resolved = map_specs(scenario, resolve)
    if problems:
        raise InputError(problems)
    try:  # re-validate so that bounds are checked on the resolved values
        return Scenario.model_validate(resolved.model_dump(by_alias=True))
    except ValidationError as exc:
        raise InputError(problems_of(exc, resolved.model_dump(by_alias=True), marks, path)) from None


def _spec_from_figure(figure: Figure, ref: Ref, problems: list[Problem], file: Path, line: int | None,
                      where: str) -> Any:
    value = float(figure.value) * ref.scale  # type: ignore[arg-type]  # a number: the schema refuses a date here
    source = figure.id
    if ref.over_range is None:
        return Fixed(value=value, source=source)
    if figure.low is None or figure.high is None or figure.low == figure.high:
        problems.append(Problem(file, line, where, f"{figure.id!r} has no range to sample over_range"))
        return Fixed(value=value, source=source)
    low, high = figure.low * ref.scale, figure.high * ref.scale
    if ref.over_range == "uniform":
        return Uniform(dist="uniform", low=low, high=high, source=source)
    cls = Triangular if ref.over_range == "triangular" else Pert
    return cls(dist=ref.over_range, low=low, mode=value, high=high, source=source)


def check_key_assumptions(scenario: Scenario, marks: Marks, path: Path) -> None:
    """Each key assumption must name a parameter of the scenario."""
    known = [p for p, _, _ in iter_specs(scenario)]
    problems = []
    for i, name in enumerate(scenario.key_assumptions):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            mark = find_mark(marks, ("key_assumptions", i))
            problems.append(Problem(mark[0] if mark else path, mark[1] if mark else None, f"key_assumptions.{i}",
                                    f"unknown parameter {name!r}; {hint}allowed: a dotted path that "
                                    "`resim sources` lists"))
    if problems:
        raise InputError(problems)


def check_rule_names(scenario: Scenario, marks: Marks, path: Path) -> None:
    """Each regime change must name rule sets that exist."""
    china, problems = scenario.china, []
    allowed = ", ".join(sorted(china.rule_sets))
    for i, change in enumerate(china.regimes):
        named = [("rules", change.rules)] if change.rules else \
            [(f"outcomes.{j}.rules", o.rules) for j, o in enumerate(change.outcomes or [])]
        for where, name in named:
            if name not in china.rule_sets:
                key = ("china", "regimes", i, *(key_of(p) for p in where.split(".")))
                mark = find_mark(marks, key)
                problems.append(Problem(mark[0] if mark else path, mark[1] if mark else None,
                                        ".".join(map(str, key)), f"unknown rule set {name!r}; allowed: {allowed}"))
    if problems:
        raise InputError(problems)


SPANS_IN_DAYS = {"china.licensing.validity_days": 1.0, "suppliers.*.qualification_months": 365.25 / 12}


def check_group_shares(scenario: Scenario, marks: Marks, path: Path) -> None:
    """A segment's maker groups must share out all of its vehicles (the mark: a share set by this file
    if one is, else the first found)."""
    problems: list[Problem] = []
    for seg_name, seg in scenario.demand.segments.items():
        total = sum(g.share for g in seg.groups.values())
        if abs(total - 1) <= 1e-9:
            continue
        found = [m for g in seg.groups if (m := find_mark(marks, ("demand", "segments", seg_name, "groups", g,
                                                                    "share")))]
        file, line = next((m for m in found if m[0] == path), found[0] if found else (path, None))
        shares = ", ".join(f"{g} {spec.share:g}" for g, spec in seg.groups.items())
        problems.append(Problem(file, line, f"demand.segments.{seg_name}.groups",
                                f"group shares must sum to 1 (got {total:g}: {shares}); allowed: shares in [0, 1] "
                                f"summing to 1"))
    if problems:
        raise InputError(problems)


def resolve_posterior(scenario: Scenario, marks: Marks, path: Path) -> Scenario:
    """`posterior:` is a folder relative to the file that sets it (or, as with seeds, a shipped one of
    that name when there is none: a scenario copied away from the repository still runs); it must
    be a finished calibration fitted on this scenario's distributions."""
    if scenario.posterior is None:
        return scenario
    from resim.scenario.posterior import check_posterior_fits  # reads Parquet: only when a scenario asks for it

    file, line = marks.get(("posterior",), (path, None))
    folder = (file.parent / scenario.posterior).resolve()
    shipped = bundled.root() / "posteriors" / folder.name
    if not folder.exists() and shipped.is_dir():
        folder = shipped
    check_posterior_fits(str(folder), scenario, file, line)
    return scenario.model_copy(update={"posterior": str(folder)})


def check_uncertain_products(scenario: Scenario, marks: Marks, path: Path) -> None:
    """A product a rule set may license (with a probability) cannot also be licensed or banned outright."""
    problems: list[Problem] = []
    for name, rules in scenario.china.rule_sets.items():
        for product in sorted(set(rules.may_license) & (set(rules.licensed) | set(rules.banned))):
            where = f"china.rule_sets.{name}.may_license.{product}"
            mark = find_mark(marks, tuple(key_of(p) for p in where.split(".")))
            problems.append(Problem(mark[0] if mark else path, mark[1] if mark else None, where,
                                    f"{product} is also licensed or banned outright by {name}; allowed: each product "
                                    "in at most one of licensed, banned and may_license"))
    if problems:
        raise InputError(problems)


def check_spans(scenario: Scenario, marks: Marks, path: Path) -> None:
    """A licence validity or a qualification lag longer than the horizon is a slip, not a scenario."""
    horizon_days = (scenario.end - scenario.start).days
    problems: list[Problem] = []
    for where, spec, _ in iter_specs(scenario):
        pattern = ".".join("*" if where.startswith("suppliers.") and i == 1 else p
                           for i, p in enumerate(where.split(".")))
        if pattern not in SPANS_IN_DAYS:
            continue
        longest = spec.support()[1] * SPANS_IN_DAYS[pattern]
        if longest > horizon_days:
            mark = find_mark(marks, tuple(key_of(p) for p in where.split(".")))
            problems.append(Problem(mark[0] if mark else path, mark[1] if mark else None, where,
                                    f"reaches {longest:g} days, longer than the horizon of {horizon_days} days; "
                                    f"allowed: at most {horizon_days} days"))
    if problems:
        raise InputError(problems)


def check_renewal_lead(scenario: Scenario, marks: Marks, path: Path) -> None:
    """A licence cannot be renewed earlier than it was granted: the renewal lead must be shorter
    than the shortest validity."""
    lic = scenario.china.licensing
    if lic.renewal_lead_days is None:
        return
    lead, validity = lic.renewal_lead_days.support()[1], lic.validity_days.support()[0]  # type: ignore[union-attr]
    if validity > 0 and lead >= validity:
        key = ("china", "licensing", "renewal_lead_days")
        mark = find_mark(marks, key)
        raise InputError([Problem(mark[0] if mark else path, mark[1] if mark else None, ".".join(key),
                                  f"reaches {lead:g} days, not shorter than a licence's validity ({validity:g} days "
                                  f"at least); allowed: fewer than {validity:g} days, or null (the mean decision "
                                  "delay)")])


def check_dates(scenario: Scenario, marks: Marks, path: Path) -> None:
    """Dates written in the file itself must fall before the end of its horizon (inherited dates
    may lie beyond a shortened horizon: they simply take no effect)."""
    end = scenario.end
    problems: list[Problem] = []

    def walk(obj: Any, key: Key) -> None:
        if isinstance(obj, BaseModel):
            for name, info in type(obj).model_fields.items():
                walk(getattr(obj, name), key + (info.alias or name,))
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, key + (k,))
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                walk(v, key + (i,))
        elif isinstance(obj, dt.date) and obj >= end and key != ("start",):
            mark = find_mark(marks, key)
            if mark is None or mark[0] != path:
                return
            problems.append(Problem(mark[0], mark[1],
                                    ".".join(map(str, key)),
                                    f"date {obj} is outside the horizon: allowed dates are before "
                                    f"{end} (start {scenario.start} + {scenario.horizon_months} months)"))

    walk(scenario, ())
    if problems:
        raise InputError(problems)
