"""Random streams and the per-replication draw of the world.

Streams: one master seed; replication i's stream for component c is
`SeedSequence(seed, spawn_key=(i, group, crc32(c)))`, exactly the child that
`SeedSequence(seed).spawn(...)` would give at that position, but keyed by name, so adding a
component or parameter never shifts the luck of the others. Two scenarios run with the same seed
thus share, replication by replication, every draw where they do not differ (common random
numbers). World parameters are drawn once per replication by inverse CDF of one uniform each.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from resim.scenario.params import _Spec
from resim.scenario.posterior import read_posterior
from resim.scenario.schema import Plant, RuleSet, Scenario
from resim.scenario.walk import is_per_event, map_specs

WORLD, EVENTS = 0, 1
_U53 = 2.0**-53


def seed_sequence(seed: int, replication: int, group: int, name: str) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(replication, group, zlib.crc32(name.encode())))


def uniforms(seed: int, replication: int, crcs: np.ndarray) -> np.ndarray:
    """One uniform in (0, 1) per world parameter (given by the crc32 of its name): the top 53 bits of
    `seed_sequence(seed, replication, WORLD, name).generate_state(1, np.uint64)`."""
    words = seed_words(seed, (replication, WORLD), crcs, 2).astype(np.uint64)
    return (((words[:, 0] | words[:, 1] << np.uint64(32)) >> np.uint64(11)).astype(float) + 0.5) * _U53


# numpy's SeedSequence hash (numpy/random/bit_generator.pyx), vectorised over the last spawn-key word
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _MASK, _POOL = 0xCA01F9DD, 0x4973F715, 0xFFFFFFFF, 4


def seed_words(seed: int, key: tuple[int, ...], last: np.ndarray, n_words: int) -> np.ndarray:
    """`SeedSequence(seed, spawn_key=(*key, k)).generate_state(n_words)` for every k in `last`, in one
    pass: a replication needs ~70 such streams, and building them one by one cost 4% of its time.
    Bit-identical to numpy (tested), so the documented streams stay exactly SeedSequence children."""
    h = _INIT_A

    def hashmix(v: Any) -> Any:  # v: int or uint64 array; h is the same for every stream
        nonlocal h
        v = v ^ h
        h = (h * _MULT_A) & _MASK
        v = (v * h) & _MASK
        return v ^ (v >> 16)

    def mix(x: Any, y: Any) -> Any:
        r = (_MIX_L * x - _MIX_R * y) & _MASK
        return r ^ (r >> 16)

    entropy = _words(seed)
    entropy += [0] * (_POOL - len(entropy)) + [w for k in key for w in _words(k)]
    pool: list[Any] = [hashmix(e) for e in entropy[:_POOL]]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for e in [*entropy[_POOL:], np.asarray(last, dtype=np.uint64)]:
        for dst in range(_POOL):
            pool[dst] = mix(pool[dst], hashmix(e))
    h = _INIT_B
    out = []
    for i in range(n_words):
        v = pool[i % _POOL] ^ h
        h = (h * _MULT_B) & _MASK
        v = (v * h) & _MASK
        out.append(v ^ (v >> 16))
    return np.stack(out, axis=1).astype(np.uint32)


def _words(n: int) -> list[int]:
    """An int as SeedSequence reads it: 32-bit words, least significant first ([0] for 0)."""
    out = [n & _MASK]
    while n := n >> 32:
        out.append(n & _MASK)
    return out


def event_rng(seed: int, replication: int, component: str) -> np.random.Generator:
    """The random stream of one stochastic component (e.g. 'licensing.approval')."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, replication, EVENTS, component)))


@dataclass(frozen=True)
class World:
    """One replication's draw of everything uncertain about the world.

    `scenario` has every once-per-replication parameter replaced by a float; per-event ones stay
    specs. `timeline` is the regime in force from each day (days since start, may be negative).
    """

    scenario: Scenario
    plants: list[Plant]
    timeline: list[tuple[float, RuleSet]]
    outcomes: dict[str, str]  # regime change (regime_<i>) or rule-set choice (<rules>.<product>) -> outcome
    draws: dict[str, float]  # parameter path -> drawn value (for the replication table)


def world_uniforms(scenario: Scenario) -> list[str]:
    """The name of every uniform a replication draws for its world, in a fixed order: each uncertain
    parameter's path, each uncertain regime change (`china.regimes.<i>`), each rule-set choice and
    the posterior pick. These are the world's factors for a global sensitivity analysis."""
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
        names: list[str] = []  # of which those that are uncertain: each takes a uniform

        def visit(spec: Any, path: str, field: Any) -> Any:
            if _drawn(spec, path, field):
                paths.append(path)
                if not spec.is_fixed:
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
        if path in fitted:  # an accepted set of the calibration (the other draws keep their streams)
            draws[path] = fitted[path]
            return fitted[path]
        if spec.is_fixed:
            return spec.support()[0]
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


def rule_sets_in_force(scenario: Scenario) -> list[str]:
    """The rule sets some regime change can bring into force, in file order."""
    used = {change.rules for change in scenario.china.regimes if change.rules is not None}
    used |= {o.rules for change in scenario.china.regimes for o in change.outcomes or []}
    return [name for name in scenario.china.rule_sets if name in used]


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
            yes = u[_choice_key(name, product)] < float(probability)  # type: ignore[arg-type]
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
        day = float(days_between(scenario.start, change.from_)) + float(change.delay_days)  # type: ignore[arg-type]
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
