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
        self.approvals = [default_approval if r.approval_probability is None else float(r.approval_probability)  # type: ignore[arg-type]
                          for r in self.rules]

    def rules_at(self, day: float) -> RuleSet:
        i = bisect.bisect_right(self.days, day) - 1
        return self.rules[i] if i >= 0 else OPEN

    def approval_probability(self, day: float) -> float:
        """The chance that a licence application decided on `day` is approved."""
        i = bisect.bisect_right(self.days, day) - 1
        return self.approvals[i] if i >= 0 else self.default_approval

    def first_restriction_day(self, product: str) -> float | None:
        """The first day (possibly before the start) on which `product` needs a licence or is banned."""
        for day, rules in zip(self.days, self.rules, strict=True):
            if product in rules.licensed or product in rules.banned:
                return day
        return None
