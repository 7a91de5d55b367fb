"""The per-replication draw of the world: each uncertain parameter once, by inverse CDF of one
uniform from the replication's keyed world stream (model/streams.py), and the regime timeline."""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from resim.model.streams import uniforms
from resim.model.world import World, drawn
from resim.scenario.params import _Spec
from resim.scenario.posterior import read_posterior
from resim.scenario.schema import Plant, RuleSet, Scenario, rule_sets_in_force
from resim.scenario.walk import is_per_event, map_specs


def world_uniforms(scenario: Scenario) -> list[str]:
    """The name of every uniform a replication draws for its world, in a fixed order: each uncertain
    parameter's path (but those a posterior fitted), each uncertain regime change
    (`china.regimes.<i>`), each rule-set choice and the posterior pick, which draws the fitted
    parameters jointly. These are the world's factors for a global sensitivity analysis."""
    return list(_plan_of(scenario).names)


@dataclass(frozen=True)
class _Plan:
    """What every replication of a scenario draws, found by one walk over it: the uniforms' names
    (`world_uniforms`) with their crc32s, and the paths that lead to a drawn parameter (the walk that
    draws a world goes only there: 1.5 -> 0.6 ms a world of pause_ends)."""

    scenario: Scenario
    names: list[str]
    crcs: np.ndarray
    within: frozenset[str]


_plan: _Plan | None = None  # the last scenario's (a run asks once per replication)


def _plan_of(scenario: Scenario) -> _Plan:
    global _plan
    if _plan is None or _plan.scenario is not scenario:
        paths: list[str] = []  # every parameter drawn once per replication
        names: list[str] = []  # of which those that are uncertain and not fitted: each takes a uniform
        fitted = read_posterior(scenario.posterior).parameters if scenario.posterior is not None else {}

        def visit(spec: Any, path: str, field: Any) -> Any:
            if _drawn(spec, path, field):
                paths.append(path)
                if not spec.is_fixed and path not in fitted:  # fitted ones come jointly, with the posterior pick
                    names.append(path)
            return spec

        _map_world(scenario, visit)
        names += [f"china.regimes.{i}" for i, change in enumerate(scenario.china.regimes)
                  if change.outcomes is not None]
        names += [_choice_key(name, product) for name in rule_sets_in_force(scenario)
                  for product in scenario.china.rule_sets[name].may_license]
        if scenario.posterior is not None:
            names.append("posterior")
        within = {""} | {p[:i] for p in paths for i in range(len(p) + 1) if i == len(p) or p[i] == "."}
        _plan = _Plan(scenario, names, np.array([zlib.crc32(n.encode()) for n in names], dtype=np.uint64),
                      frozenset(within))
    return _plan


def sample_world(scenario: Scenario, seed: int, replication: int, given: dict[str, float] | None = None) -> World:
    """Replication `replication`'s world; `given` sets some of its uniforms (by the names of
    `world_uniforms`) instead of drawing them, as a sensitivity design does."""
    plan = _plan_of(scenario)
    u = dict(zip(plan.names, uniforms(seed, replication, plan.crcs).tolist(), strict=True))
    if given:
        u.update(given)
    draws: dict[str, float] = {}
    fitted = read_posterior(scenario.posterior).pick(u["posterior"]) if scenario.posterior is not None else {}

    def draw(spec: Any, path: str, field: Any) -> Any:  # the walk reaches only drawn parameters (plan.within)
        if spec.is_fixed:  # a value the scenario or a lever sets wins over the fit
            return spec.support()[0]
        if path in fitted:  # an accepted set of the calibration (the other draws keep their streams)
            draws[path] = fitted[path]
            return fitted[path]
        draws[path] = value = spec.ppf(u[path])
        return value

    sampled, plants = _map_world(scenario, draw, plan.within)
    timeline, outcomes = _timeline(sampled, u)
    return World(sampled, plants, timeline, outcomes, draws)


def _map_world(scenario: Scenario, fn: Any, within: frozenset[str] | None = None) -> tuple[Scenario, list[Plant]]:
    """The scenario and each domestic plant (from the shared template) with fn applied to every spec
    (with `within`, to the specs at those paths)."""
    plants = [map_specs(scenario.domestic.plant, fn, f"domestic.plant.{i}", within=within)
              for i in range(scenario.domestic.plants)]
    return map_specs(scenario, fn, within=within), plants


def _drawn(spec: Any, path: str, field: Any) -> bool:
    """A parameter drawn once per replication (not per event; each plant draws its own)."""
    return isinstance(spec, _Spec) and not is_per_event(field) and not _is_plant_template(path)


def _is_plant_template(path: str) -> bool:
    """`domestic.plant.x` is the shared template; each plant draws its own `domestic.plant.<i>.x`."""
    return path.startswith("domestic.plant.") and path.count(".") == 2


def _choice_key(rule_set: str, product: str) -> str:
    return f"china.rule_sets.{rule_set}.may_license.{product}.decided"


def _decided_rule_sets(scenario: Scenario, u: dict[str, float], outcomes: dict[str, str]) -> dict[str, RuleSet]:
    """Each rule set in force with its uncertain products decided for this replication: licensed with
    the probability given (`may_license`), else left open."""
    out = dict(scenario.china.rule_sets)
    for name in rule_sets_in_force(scenario):
        rules = out[name]
        if not rules.may_license:
            continue
        licensed = list(rules.licensed)
        for product, probability in rules.may_license.items():
            yes = u[_choice_key(name, product)] < drawn(probability)
            outcomes[f"{name}.{product}"] = "licensed" if yes else "open"
            if yes:
                licensed.append(product)
        out[name] = rules.model_copy(update={"licensed": licensed, "may_license": {}})
    return out


def _timeline(scenario: Scenario, u: dict[str, float]) -> tuple[list[tuple[float, RuleSet]], dict[str, str]]:
    china = scenario.china
    changes: list[tuple[float, RuleSet]] = []
    outcomes: dict[str, str] = {}
    rule_sets = _decided_rule_sets(scenario, u, outcomes)
    for i, change in enumerate(china.regimes):
        day = float(days_between(scenario.start, change.from_)) + drawn(change.delay_days)
        if change.outcomes is None:
            assert change.rules is not None
            changes.append((day, rule_sets[change.rules]))
            continue
        edges = np.cumsum([o.probability for o in change.outcomes])
        chosen = change.outcomes[min(int(np.searchsorted(edges, u[f"china.regimes.{i}"], side="right")),
                                     len(edges) - 1)]
        outcomes[f"regime_{i}"] = chosen.name
        changes.append((day + chosen.shift_days, rule_sets[chosen.rules]))
    changes.sort(key=lambda c: c[0])  # stable: same-day entries keep file order, later wins
    return changes, outcomes


def days_between(start: dt.date, date: dt.date) -> int:
    return (date - start).days
