"""China's export regime: a dated timeline of rule sets, looked up by day.

The regime is a pure function of time for a given replication (its uncertain changes were drawn
with the world). It is consulted when a shipment reaches the border and when a licence is
decided; the simulation also schedules a review by every buyer on each change day.
"""

from __future__ import annotations

import bisect
import math

from resim.model.world import drawn
from resim.scenario.schema import RuleSet


class Rules:
    """A rule set as the model consults it, thousands of times a run: sets of product names, and
    the figures as floats (a scenario's RuleSet holds lists and specs)."""

    __slots__ = ("licensed", "banned", "non_china_exposed_share", "approval_probability",
                 "class_approval_probability", "dytb_secured")

    def __init__(self, rules: RuleSet):
        self.licensed, self.banned = frozenset(rules.licensed), frozenset(rules.banned)
        self.non_china_exposed_share = drawn(rules.non_china_exposed_share)
        self.approval_probability = None if rules.approval_probability is None else drawn(
            rules.approval_probability)
        self.class_approval_probability = {k: drawn(v) for k, v in rules.class_approval_probability.items()}
        self.dytb_secured = "dytb_oxide" not in self.licensed and "dytb_oxide" not in self.banned  # Dy/Tb flows freely


OPEN = Rules(RuleSet())  # before the first dated entry: no controls


class Regime:
    def __init__(self, timeline: list[tuple[float, RuleSet]], default_approval: float,
                 class_approval: dict[str, float]):
        self.days = [day for day, _ in timeline]
        self.rules = [Rules(rules) for _, rules in timeline]
        self.default_approval, self.class_approval = default_approval, class_approval
        self._from, self._until, self._current = math.inf, -math.inf, OPEN  # the last lookup's span

    def rules_at(self, day: float) -> Rules:
        """The rules in force on `day`. Most lookups fall in the span of the one before, which is
        remembered (a bisection per lookup was 1-2% of a replication)."""
        if not self._from <= day < self._until:
            i = bisect.bisect_right(self.days, day) - 1
            self._current = self.rules[i] if i >= 0 else OPEN
            self._from = self.days[i] if i >= 0 else -math.inf
            self._until = self.days[i + 1] if i + 1 < len(self.days) else math.inf
        return self._current

    def approval_probability(self, day: float, applicant_class: str) -> float:
        """The chance that a licence application of `applicant_class` decided on `day` is approved:
        the rule set's figure for the class, else its figure for all, else the licensing default."""
        rules = self.rules_at(day)
        if applicant_class in rules.class_approval_probability:
            return rules.class_approval_probability[applicant_class]
        if rules.approval_probability is not None:
            return rules.approval_probability
        return self.class_approval.get(applicant_class, self.default_approval)

    @property
    def spans(self) -> int:
        """Spans of constant rules: before the first dated entry, then one from each entry."""
        return len(self.days) + 1

    def span_at(self, day: float) -> int:
        """Which span of constant rules `day` falls in (0 before the first dated entry)."""
        return bisect.bisect_right(self.days, day)

    def restricts(self, product: str, day: float) -> bool:
        rules = self.rules_at(day)
        return product in rules.licensed or product in rules.banned

    def first_restriction_day(self, product: str) -> float | None:
        """The first day (possibly before the start) on which `product` needs a licence or is banned."""
        for day, rules in zip(self.days, self.rules, strict=True):
            if product in rules.licensed or product in rules.banned:
                return day
        return None

    def change_days(self, horizon_days: float) -> list[float]:
        """Days within [0, horizon) on which the rules change."""
        return sorted({d for d in self.days if 0 < d < horizon_days})
