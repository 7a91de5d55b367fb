"""EV makers, one aggregate per segment: monthly demand, grade mix, inventory, orders, production.

Story: at each month's start a maker plans the month's vehicles (demand grown from the base
year), splits them into ferrite/magnet-free, light-REE and Dy/Tb-grade designs, and orders each
magnet grade up to `need rate x (cover + month + planning lead time)` counting stock, firm
orders, and pending licences weighted by their chance of approval. At the month's end it
builds the vehicles its magnets allow: Dy/Tb grades may stand in for light grades, never the
reverse. Unmet demand is lost, not carried forward.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np

from resim.model.clock import Months
from resim.model.licensing import Buyer
from resim.scenario import Segment

GRADES = ("dytb", "light")
PRODUCT = {"dytb": "dytb_magnet", "light": "light_magnet"}


class Plan(NamedTuple):
    """One month's plan: vehicles, their ferrite/magnet-free share and Dy/Tb-grade share, and the
    NdFeB needed by grade (t)."""

    units: float
    ferrite_share: float
    dytb_share: float
    need_t: dict[str, float]


class Output(NamedTuple):
    """What one month's production did, in vehicles and tonnes of NdFeB (the order of the totals'
    columns in the monthly series)."""

    units: float
    built_units: float
    not_built: float
    ferrite_units: float
    need_t: float
    used_t: float
    shortfall_t: float


class Maker:
    def __init__(self, name: str, segment: Segment, months: Months, redesign_done_day: float | None,
                 cover_days: float, planning_lead_days: float):
        self.name, self.segment = name, segment
        self.redesign_done_day = redesign_done_day
        self.cover_days, self.planning_lead_days = cover_days, planning_lead_days
        self.kg_t = float(segment.ndfeb_kg_per_vehicle) / 1000.0  # type: ignore[arg-type]
        self.stock = dict.fromkeys(GRADES, 0.0)
        self.on_order = dict.fromkeys(GRADES, 0.0)  # firm: shipped or confirmed, t
        self.licence_pending_t = dict.fromkeys(GRADES, 0.0)  # filed with China, undecided
        self.received_t = 0.0  # cumulative, for the conservation check
        self.received_before_t = 0.0  # cumulative at the last month end (for monthly deliveries)
        self.used_t = 0.0
        self.opening_stock_t = 0.0
        # per grade: what to do on arrival, on a licence granted or abandoned (built once)
        self.buyers = {g: Buyer(partial(self.receive, g), partial(self.licence_granted, g),
                                partial(self.licence_abandoned, g)) for g in GRADES}
        self.plans = self._plans(months)  # demand and design mix are functions of time only
        self.plan = self.plans[0]

    # --- planning -------------------------------------------------------------------------
    def _plans(self, months: Months) -> list[Plan]:
        """Each month's vehicles (demand grown from the base date to mid-month), ferrite share
        (linear from start to target date) and Dy/Tb-grade share (falls once redesign qualifies)."""
        seg, f = self.segment, float
        years = ((months.start - seg.base_date).days + months.mid_day) / 365.25
        units = f(seg.units_per_year) * (1 + f(seg.growth_per_year)) ** years * months.days / 365.25  # type: ignore[arg-type]
        s0, s1 = f(seg.ferrite_share_start), f(seg.ferrite_share_target)  # type: ignore[arg-type]
        if seg.ferrite_target_date is None:
            ferrite = np.full_like(units, s0)
        else:
            target_day = (seg.ferrite_target_date - months.start).days
            progress = np.ones_like(units) if target_day <= 0 else np.clip(months.first_day / target_day, 0.0, 1.0)
            ferrite = s0 + (s1 - s0) * progress
        dytb = np.full_like(units, f(seg.dytb_grade_share))  # type: ignore[arg-type]
        if self.redesign_done_day is not None:
            redesigned = months.first_day >= self.redesign_done_day
            dytb[redesigned] = np.minimum(dytb[redesigned], f(seg.min_dytb_grade_share))  # type: ignore[arg-type]
        magnet_t = units * (1 - ferrite) * self.kg_t
        return [Plan(u, fe, d, {"dytb": mt * d, "light": mt * (1 - d)}) for u, fe, d, mt in
                zip(units.tolist(), ferrite.tolist(), dytb.tolist(), magnet_t.tolist(), strict=True)]

    def plan_month(self, m: int) -> Plan:
        self.plan = self.plans[m]
        return self.plan

    def order_quantities(self, days: int, approval_probability: float) -> dict[str, float]:
        """Order-up-to: the target position covers the cover, this month and the planning lead
        time; the position counts stock, firm orders, and pending licences at their chance of
        approval (a maker does not wait on a licence it expects to be refused)."""
        horizon = self.cover_days + days + self.planning_lead_days
        out = {}
        for g in GRADES:
            target = self.plan.need_t[g] / days * horizon
            position = self.stock[g] + self.on_order[g] + approval_probability * self.licence_pending_t[g]
            out[g] = max(0.0, target - position)
        return out

    # --- material -------------------------------------------------------------------------
    def open_with(self, grade: str, tonnes: float) -> None:
        self.stock[grade] += tonnes
        self.opening_stock_t += tonnes

    def receive(self, grade: str, tonnes: float, ordered: bool = True) -> None:
        self.stock[grade] += tonnes
        self.received_t += tonnes
        if ordered:
            self.on_order[grade] -= tonnes

    def licence_granted(self, grade: str, tonnes: float) -> None:
        """A licensed order becomes a firm order (it ships now)."""
        self.licence_pending_t[grade] -= tonnes
        self.on_order[grade] += tonnes

    def licence_abandoned(self, grade: str, tonnes: float) -> None:
        self.licence_pending_t[grade] -= tonnes

    def produce(self) -> Output:
        plan, stock, kg = self.plan, self.stock, self.kg_t
        use_dytb = min(stock["dytb"], plan.need_t["dytb"])
        use_light = min(stock["light"], plan.need_t["light"])
        stand_in = min(stock["dytb"] - use_dytb, plan.need_t["light"] - use_light)
        stock["dytb"] -= use_dytb + stand_in
        stock["light"] -= use_light
        used = use_dytb + use_light + stand_in
        self.used_t += used
        ferrite_units = plan.units * plan.ferrite_share
        magnet_units = plan.units - ferrite_units
        built = min(ferrite_units + (used / kg if kg > 0 else magnet_units), plan.units)
        need = plan.need_t["dytb"] + plan.need_t["light"]
        return Output(plan.units, built, plan.units - built, ferrite_units, need, used, need - used)

    def imbalance_t(self) -> float:
        """Opening stock + received - used - stock now: zero if no magnet was created or lost."""
        return self.opening_stock_t + self.received_t - self.used_t - sum(self.stock.values())
