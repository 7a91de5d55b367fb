"""One replication's world: everything uncertain about it, drawn once (montecarlo/worlds.py draws it)."""

from __future__ import annotations

from dataclasses import dataclass

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
