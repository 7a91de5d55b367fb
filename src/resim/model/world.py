"""One replication's world: everything uncertain about it, drawn once (montecarlo/worlds.py draws it)."""

from __future__ import annotations

from dataclasses import dataclass

from resim.scenario.params import _Spec
from resim.scenario.schema import Plant, RuleSet, Scenario


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


def drawn(param: object) -> float:
    """A once-per-replication parameter of the world's scenario, as the float it was drawn as.

    The schema types such a field as a spec (a distribution, a reference); `montecarlo/worlds` has
    replaced every one of them by its draw, and this says so to the type checker, and checks it."""
    if not isinstance(param, float | int) or isinstance(param, bool):
        raise TypeError(f"a world parameter was not drawn: {param!r}")
    return float(param)


def per_event(param: object) -> _Spec:
    """A per-event parameter of the world's scenario: still its spec, drawn afresh for every event."""
    if not isinstance(param, _Spec):
        raise TypeError(f"a per-event parameter is not a spec: {param!r}")
    return param
