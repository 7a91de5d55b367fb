"""Licence coverage: the share of a month in which a group could ship Dy/Tb-grade magnets from
China without a new licence, because China does not license them then, a licence of its own is
valid, or its suppliers' general licence names it. Computed exactly at each month's end from the
dated rules and the group's licence spans; nothing in the story reads it (an output only)."""

from __future__ import annotations

from typing import Final

from resim.model.licensing import Applicant
from resim.model.market import PRODUCT as PRODUCTS
from resim.model.regime import Regime
from resim.model.stock import DYTB

PRODUCT: Final = PRODUCTS[DYTB]  # what China's rules call the Dy/Tb grade (model/market.py names them)


def covered_days(first: float, last: float, regime: Regime, applicants: list[Applicant],
                 general_from_day: float) -> list[float]:
    """Days of [first, last) in which each of `applicants` could ship Dy/Tb-grade magnets without a new licence."""
    inside = [d for d in regime.days if first < d < last]  # rule changes within the month
    if first < general_from_day < last:
        inside.append(general_from_day)
    cuts = sorted({first, last, *inside}) if inside else [first, last]
    covered = []
    for applicant in applicants:  # speed: a float per firm, not boxed sums in a list, no zip: -2.0% (217.3M -> 212.9M)
        named, spans = applicant.general_customer, applicant.licence_spans.get(PRODUCT)
        days = 0.0
        for i in range(len(cuts) - 1):
            a, b = cuts[i], cuts[i + 1]
            rules = regime.rules_at(a)
            if PRODUCT in rules.banned:
                continue
            if PRODUCT not in rules.licensed or (named and a >= general_from_day):
                days += b - a
            elif spans is not None:
                days += _licensed_days(spans, a, b)
        covered.append(days)
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
