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

from resim.params import _Spec
from resim.scenario import Plant, RuleSet, Scenario
from resim.tree import is_per_event, map_specs

WORLD, EVENTS = 0, 1
_U53 = 2.0**-53


def seed_sequence(seed: int, replication: int, group: int, name: str) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(replication, group, zlib.crc32(name.encode())))


def uniform(seed: int, replication: int, name: str) -> float:
    """One uniform draw in (0, 1) for the world parameter `name` in replication `replication`."""
    word = seed_sequence(seed, replication, WORLD, name).generate_state(1, np.uint64)[0]
    return (float(word >> np.uint64(11)) + 0.5) * _U53


def event_rng(seed: int, replication: int, component: str) -> np.random.Generator:
    """The random stream of one stochastic component (e.g. 'licensing.approval')."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, replication, EVENTS, component)))


class MonthlyDraws:
    """Per-event draws keyed by calendar month (and a slot, e.g. a licence file's attempt), not by
    the order in which events happen: the event of month m in slot k gets the same draw in every
    scenario run with the same seed, whatever else happened before it (common random numbers that
    survive one scenario filing or shipping more than another). Drawn in one vectorised call per
    replication; `spec=None` gives plain uniforms (for yes/no decisions)."""

    def __init__(self, spec: _Spec | None, seed: int, replication: int, component: str, months: int,
                 slots: int = 1):
        self.spec, self.stream, self.shape = spec, (seed, replication, component), (months, slots)
        self.values: list[list[float]] | None = None  # drawn on first use: unused streams cost nothing
        if spec is not None and spec.is_fixed:
            self.values = [[spec.support()[0]] * slots] * months

    def __call__(self, month: int, slot: int = 0) -> float:
        values = self.values
        if values is None:
            u = event_rng(*self.stream).random(self.shape)
            values = self.values = (u if self.spec is None else self.spec.ppf(u)).tolist()
        return values[month][slot]


@dataclass(frozen=True)
class World:
    """One replication's draw of everything uncertain about the world.

    `scenario` has every once-per-replication parameter replaced by a float; per-event ones stay
    specs. `timeline` is the regime in force from each day (days since start, may be negative).
    """

    scenario: Scenario
    plants: list[Plant]
    timeline: list[tuple[float, RuleSet]]
    outcomes: dict[str, str]  # regime change index -> chosen outcome name
    draws: dict[str, float]  # parameter path -> drawn value (for the replication table)


def sample_world(scenario: Scenario, seed: int, replication: int) -> World:
    draws: dict[str, float] = {}

    def draw(spec: Any, path: str, field: Any) -> Any:
        if is_per_event(field) or not isinstance(spec, _Spec) or _is_plant_template(path):
            return spec
        value = spec.support()[0] if spec.is_fixed else spec.ppf(uniform(seed, replication, path))
        if not spec.is_fixed:
            draws[path] = value
        return value

    sampled = map_specs(scenario, draw)
    plants = [
        map_specs(scenario.domestic.plant, draw, f"domestic.plant.{i}")
        for i in range(scenario.domestic.plants)
    ]
    timeline, outcomes = _timeline(sampled, seed, replication)
    return World(sampled, plants, timeline, outcomes, draws)


def _is_plant_template(path: str) -> bool:
    """`domestic.plant.x` is the shared template; each plant draws its own `domestic.plant.<i>.x`."""
    return path.startswith("domestic.plant.") and path.count(".") == 2


def _timeline(scenario: Scenario, seed: int, replication: int) -> tuple[list[tuple[float, RuleSet]], dict[str, str]]:
    china = scenario.china
    changes: list[tuple[float, RuleSet]] = []
    outcomes: dict[str, str] = {}
    for i, change in enumerate(china.regimes):
        day = float(days_between(scenario.start, change.from_)) + float(change.delay_days)  # type: ignore[arg-type]
        if change.outcomes is None:
            assert change.rules is not None
            changes.append((day, china.rule_sets[change.rules]))
            continue
        u = uniform(seed, replication, f"china.regimes.{i}")
        edges = np.cumsum([o.probability for o in change.outcomes])
        chosen = change.outcomes[min(int(np.searchsorted(edges, u, side="right")), len(edges) - 1)]
        outcomes[f"regime_{i}"] = chosen.name
        changes.append((day + chosen.shift_days, china.rule_sets[chosen.rules]))
    changes.sort(key=lambda c: c[0])  # stable: same-day entries keep file order, later wins
    return changes, outcomes


def days_between(start: dt.date, date: dt.date) -> int:
    return (date - start).days
