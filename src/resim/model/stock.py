"""Magnets on hand, used continuously at the build rate.

Between two events every need rate is constant, so each grade's level falls linearly until it is
empty; `advance(now)` computes exactly what was used and what was short since the last event (no
daily ticks). Dy/Tb-grade magnets stand in for light-REE ones once those run out (never the
reverse); magnets inside imported motors serve only the vehicles built on them; magnets released
from the strategic stockpile (the reserve, Dy/Tb grade) are a last resort for any magnet design,
used only once the buyer's own magnets for that design are gone. A level that empties is set to
exactly zero, so no float dust appears as a negative stock or a tiny shortfall.

Part of each grade's stock is held along the supply chain (tier-1 motor makers, sub-assemblies in
transit): the bottom `chain` tonnes of its level, so the chain's stock is what keeps lines running
once the makers' own cover is gone, and arrivals refill it first. Which layer is used first changes
no shortfall (only the total on hand does); it makes what the chain supplied exact: the fall of the
chain's layer while stock is used.
"""

from __future__ import annotations

from typing import Final

from resim.model.floats import floats

# motor: magnets inside imported motors; reserve: the stockpile's
GRADES: Final[tuple[str, ...]] = ("dytb", "light", "motor", "reserve")  # speed: tuple[str, ...] (docs)
DYTB: Final = 0  # speed: Final constants are inlined
LIGHT: Final = 1
MOTOR: Final = 2
RESERVE: Final = 3
OWN: Final[tuple[int, ...]] = (DYTB, LIGHT, MOTOR)  # what a buyer orders and counts in its position
# Lots smaller than this (t) are neither ordered nor taken from a supplier: a take too small to
# change what a contract has called would be offered again at once, for ever when it lands at once.
ORDER_EPS_T: Final = 1e-9


class OnHand:
    """One buyer's stock by grade, its need rates (t/day), and what was used, short and held
    (t x days, for mean cover) since the month's tallies were last reset."""

    __slots__ = ("level", "rate", "chain", "since", "used", "short", "stock_days", "used_total", "chain_used",
                 "draw")

    def __init__(self, now: float = 0.0):
        self.level = floats([0.0, 0.0, 0.0, 0.0])
        self.rate = floats([0.0, 0.0, 0.0])  # need by design grade (dytb, light, motor), t/day
        self.chain = floats([0.0, 0.0, 0.0])  # the chain's full stock of each grade (t): the bottom of its level
        self.since = now
        self.used = floats([0.0, 0.0, 0.0, 0.0])  # this month, by the grade of the magnet used
        self.short = 0.0  # this month, t
        self.stock_days = 0.0  # integral of the total level over time this month, t x days
        self.used_total = 0.0  # cumulative, for the books
        self.chain_used = 0.0  # this month, t used from the chain's layer
        self.draw = floats([0.0, 0.0, 0.0, 0.0])  # scratch for `advance`: what each stock is drawn at

    def advance(self, now: float) -> None:
        """Use magnets at the current rates from `since` to `now`: in at most four linear pieces,
        each ending when a grade in use empties (then its need falls on the stand-in, or is short)."""
        span = now - self.since
        if span <= 0:
            return
        self.since = now
        level, rate, chain = self.level, self.rate, self.chain
        # the chain's layer is read only when a grade may fall into it (no grade empties otherwise, so
        # none stands in): speed, plain build 161 -> 144 ms a replication of pause_ends over 120 months
        watch = level[DYTB] - rate[DYTB] * span < chain[DYTB] or level[LIGHT] - rate[LIGHT] * span < chain[LIGHT] \
            or level[MOTOR] - rate[MOTOR] * span < chain[MOTOR]
        held = self.chain_held() if watch else 0.0
        need = rate[DYTB] + rate[LIGHT] + rate[MOTOR]
        d, light, motor = rate[DYTB] * span, rate[LIGHT] * span, rate[MOTOR] * span
        if (d == 0 or level[DYTB] > d) and (light == 0 or level[LIGHT] > light) and \
                (motor == 0 or level[MOTOR] > motor):
            # nothing in use empties before `now` (the common case): one linear piece, each design on its own
            # grade (measured: 158 -> 97 ms per replication of pause_ends)
            self.stock_days += span * (level[DYTB] + level[LIGHT] + level[MOTOR] + level[RESERVE] - 0.5 * need * span)
            level[DYTB] -= d
            level[LIGHT] -= light
            level[MOTOR] -= motor
            used = self.used
            used[DYTB] += d
            used[LIGHT] += light
            used[MOTOR] += motor
            self.used_total += d + light + motor
            if watch:
                self.chain_used += held - self.chain_held()  # levels only fall here: never negative
            return
        while span > 0:
            draw = self.draw  # what each stock is drawn at, given which are empty
            draw[DYTB] = draw[LIGHT] = draw[MOTOR] = draw[RESERVE] = 0.0
            dytb_from = DYTB if level[DYTB] > 0 else RESERVE if level[RESERVE] > 0 else -1
            light_from = LIGHT if level[LIGHT] > 0 else dytb_from
            if dytb_from >= 0:
                draw[dytb_from] += rate[DYTB]
            if light_from >= 0:
                draw[light_from] += rate[LIGHT]
            if level[MOTOR] > 0:
                draw[MOTOR] = rate[MOTOR]
            step, empties = span, -1
            for g in range(4):
                if draw[g] > 0 and level[g] < draw[g] * step:
                    step, empties = level[g] / draw[g], g
            served = draw[DYTB] + draw[LIGHT] + draw[MOTOR] + draw[RESERVE]
            self.stock_days += step * (level[DYTB] + level[LIGHT] + level[MOTOR] + level[RESERVE] - 0.5 * step * served)
            for g in range(4):
                if draw[g] > 0:
                    take = level[g] if g == empties else draw[g] * step
                    level[g] = 0.0 if g == empties else level[g] - take
                    self.used[g] += take
                    self.used_total += take
            if served < need:
                self.short += (need - served) * step
            span -= step
            if empties < 0:
                break
        if watch:
            self.chain_used += held - self.chain_held()

    def chain_held(self) -> float:
        """Tonnes the chain holds now: the part of each grade's level within its chain layer."""
        level, chain = self.level, self.chain
        return min(level[DYTB], chain[DYTB]) + min(level[LIGHT], chain[LIGHT]) + min(level[MOTOR], chain[MOTOR])

    def total(self) -> float:
        """Everything on hand, the reserve included."""
        return self.level[DYTB] + self.level[LIGHT] + self.level[MOTOR] + self.level[RESERVE]

    def reset_month(self) -> tuple[float, float, float, float]:
        """This month's (used, short, stock-days, used from the chain), and zero the tallies."""
        used = self.used
        out = (used[DYTB] + used[LIGHT] + used[MOTOR] + used[RESERVE], self.short, self.stock_days, self.chain_used)
        used[DYTB] = used[LIGHT] = used[MOTOR] = used[RESERVE] = 0.0
        self.short = self.stock_days = self.chain_used = 0.0
        return out
