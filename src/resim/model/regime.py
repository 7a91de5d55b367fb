"""China's export regime: a dated timeline of rule sets, looked up by day.

The regime is a pure function of time for a given replication (its uncertain changes were drawn
with the world), so licence decisions and orders ask `rules_at(day)` and no event is needed when
the rules change.
"""

from __future__ import annotations

import bisect

from resim.scenario import RuleSet

OPEN = RuleSet()  # before the first dated entry: no controls


class Regime:
    def __init__(self, timeline: list[tuple[float, RuleSet]], default_approval: float):
        self.days = [day for day, _ in timeline]
        self.rules = [rules for _, rules in timeline]
        self.default_approval = default_approval

    def rules_at(self, day: float) -> RuleSet:
        i = bisect.bisect_right(self.days, day) - 1
        return self.rules[i] if i >= 0 else OPEN

    def approval_probability(self, day: float) -> float:
        override = self.rules_at(day).approval_probability
        return self.default_approval if override is None else float(override)  # type: ignore[arg-type]

    def first_restriction_day(self, product: str) -> float | None:
        """The first day (possibly before the start) on which `product` needs a licence or is banned."""
        for day, rules in zip(self.days, self.rules, strict=True):
            if product in rules.licensed or product in rules.banned:
                return day
        return None
