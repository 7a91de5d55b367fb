"""Licence coverage: the share of a month in which a group could ship Dy/Tb-grade magnets from
China without a new licence, because China does not license them then, a licence of its own is
valid, or its suppliers' general licence names it. Computed exactly at each month's end from the
dated rules and the group's licence spans; nothing in the story reads it (an output only)."""

from __future__ import annotations

from resim.model.licensing import Applicant
from resim.model.market import PRODUCT as PRODUCTS
from resim.model.regime import Regime
from resim.model.stock import DYTB

PRODUCT = PRODUCTS[DYTB]  # what China's rules call the Dy/Tb grade (model/market.py names them)


def covered_days(first: float, last: float, regime: Regime, applicants: list[Applicant],
                 general_from_day: float) -> list[float]:
    """Days of [first, last) in which each of `applicants` could ship Dy/Tb-grade magnets without a new licence."""
    inside = [d for d in regime.days if first < d < last]  # rule changes within the month
    if first < general_from_day < last:
        inside.append(general_from_day)
    cuts = sorted({first, last, *inside}) if inside else [first, last]
    covered = [0.0] * len(applicants)
    for a, b in zip(cuts, cuts[1:], strict=False):
        rules = regime.rules_at(a)
        if PRODUCT in rules.banned:
            continue
        free = PRODUCT not in rules.licensed
        for k, applicant in enumerate(applicants):
            if free or (applicant.general_customer and a >= general_from_day):
                covered[k] += b - a
            else:
                covered[k] += _licensed_days(applicant.licence_spans.get(PRODUCT, []), a, b)
    return covered


def _licensed_days(spans: list[tuple[float, float]], a: float, b: float) -> float:
    """Days of [a, b) inside the union of `spans` ((granted, valid until), in order of grant, their
    ends never falling: a later approval only extends a licence). Read from the latest back to the
    first that ended before `a` (speed: a group's spans pile up over a run; a month needs the last few)."""
    first = len(spans)
    while first > 0 and spans[first - 1][1] > a:
        first -= 1
    days, reached = 0.0, a
    for k in range(first, len(spans)):
        start, end = spans[k]
        lo, hi = max(start, reached), min(end, b)
        if hi > lo:
            days += hi - lo
            reached = hi
    return days
