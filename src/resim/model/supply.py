"""Where magnets come from: China's exporters (under the regime), non-China suppliers and
recycling (capacity-limited), and the shipping that carries them; plus the monthly order book
that splits each maker's order among sources.

Allocation of an order, in this order: domestic plants' stock, then recycling, then non-China
suppliers cheapest first (all of the order if China restricts the grade, else only the
dual-sourcing share), then China (shipped if open; under licence, a general-licence share ships
and the rest is filed as one consolidated application per product and month, granted to the
makers pro rata; dropped if banned). Scarce supply is shared pro rata.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from functools import partial

import simpy

from resim.model.clock import after
from resim.model.licensing import Application, Buyer, LicenceOffice
from resim.model.makers import GRADES, PRODUCT, Maker
from resim.model.regime import Regime
from resim.sampling import EventSampler
from resim.scenario import RuleSet
from resim.scenario import Supplier as SupplierSpec

Parts = list[tuple[Callable[[float], None], float]]  # (on arrival, tonnes) of one consignment


class Shipping:
    """Material between dispatch and arrival, with cumulative and monthly tallies by source."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.in_transit_t = 0.0
        self.shipped_t: dict[str, float] = defaultdict(float)  # cumulative, by source
        self.arrived_month_t: dict[str, float] = defaultdict(float)  # this month, by source

    def send(self, tonnes: float, source: str, delay: float, on_arrival: Callable[[float], None]) -> None:
        self.consign([(on_arrival, tonnes)], source, delay)

    def consign(self, parts: list[tuple[Callable[[float], None], float]], source: str, delay: float) -> None:
        """Ship several consignees' parts together (one event): each callback gets its tonnes."""
        parts = [(receive, t) for receive, t in parts if t > 0]
        if not parts:
            return
        tonnes = sum(t for _, t in parts)
        self.in_transit_t += tonnes
        self.shipped_t[source] += tonnes
        after(self.env, delay, self._arrive, parts, tonnes, source)

    def _arrive(self, parts: list[tuple[Callable[[float], None], float]], tonnes: float, source: str) -> None:
        self.in_transit_t -= tonnes
        self.arrived_month_t[source] += tonnes
        for receive, t in parts:
            receive(t)


class ChinaExporter:
    """Chinese exporters: unlimited capacity, gated by the regime in force on the order day."""

    def __init__(self, env: simpy.Environment, regime: Regime, office: LicenceOffice,
                 lead_time: EventSampler, general_share: float, general_from_day: float):
        self.env, self.regime, self.office, self.lead_time = env, regime, office, lead_time
        self.general_share, self.general_from_day = general_share, general_from_day

    def order(self, product: str, requests: list[tuple[Buyer, float]], consignment: Parts,
              shipping: Shipping) -> tuple[float, float]:
        """Order `product` for several buyers at once, as one consolidated file if it needs a
        licence. Returns the shares of each request (shipped now, filed); what ships now joins
        `consignment` (the month's shipment from China), what is licensed later goes by `shipping`.
        A banned product returns (0, 0)."""
        requests = [(buyer, t) for buyer, t in requests if t > 0]
        if not requests:
            return 0.0, 0.0
        day = self.env.now
        rules = self.regime.rules_at(day)
        if product in rules.banned:
            return 0.0, 0.0
        if product not in rules.licensed:
            consignment.extend((buyer.receive, t) for buyer, t in requests)
            return 1.0, 0.0
        general = self.general_share if day >= self.general_from_day else 0.0
        if general > 0:
            consignment.extend((buyer.receive, t * general) for buyer, t in requests)
        if general < 1:
            self.office.file(Application(product, [(buyer, t * (1 - general)) for buyer, t in requests],
                                         on_approved=partial(self._ship_licensed, shipping),
                                         on_abandoned=self._abandoned))
        return general, 1 - general

    def _ship_licensed(self, shipping: Shipping, app: Application) -> None:
        for buyer, t in app.parts:
            buyer.granted(t)
        shipping.consign([(buyer.receive, t) for buyer, t in app.parts], "china", self.lead_time())

    @staticmethod
    def _abandoned(app: Application) -> None:
        for buyer, t in app.parts:
            buyer.abandoned(t)


class Supplier:
    """A non-China magnet maker (or recycler) with monthly capacity available to India."""

    def __init__(self, name: str, spec: SupplierSpec, start: dt.date, lead_time: EventSampler):
        self.name, self.spec, self.lead_time = name, spec, lead_time
        self.kind = spec.kind
        self.capacity_t_per_day = float(spec.capacity_t_per_year) / 365.25  # type: ignore[arg-type]
        self.from_day = (spec.available_from - start).days if spec.available_from else float("-inf")
        self.ramp_days = float(spec.ramp_months) * 30.4375  # type: ignore[arg-type]
        self.premium = float(spec.premium_share)  # type: ignore[arg-type]

    def capacity_t(self, day: float, days: int, rules: RuleSet, dytb_inputs_restricted: bool) -> dict[str, float]:
        """This month's capacity by grade (the dytb figure is a cap within the shared total)."""
        mid = day + days / 2
        if mid < self.from_day:
            ramp = 0.0
        elif self.ramp_days <= 0:
            ramp = 1.0
        else:
            ramp = min(1.0, (mid - self.from_day) / self.ramp_days)
        total = self.capacity_t_per_day * days * ramp
        if self.kind == "import":
            total *= 1 - float(rules.non_china_exposed_share)  # type: ignore[arg-type]
        dytb = total if "dytb" in self.spec.grades else 0.0
        if dytb_inputs_restricted:
            dytb *= float(self.spec.dytb_secured_share)  # type: ignore[arg-type]
        return {"dytb": dytb, "light": total if "light" in self.spec.grades else 0.0, "total": total}


def pro_rata(requests: list[float], available: float) -> list[float]:
    """Share `available` among `requests` in proportion, never giving more than asked."""
    total = sum(requests)
    if total <= available:
        return list(requests)
    if total <= 0 or available <= 0:
        return [0.0] * len(requests)
    factor = available / total
    return [r * factor for r in requests]


class OrderBook:
    """Each month, takes every maker's order by grade and places it with the sources."""

    def __init__(self, regime: Regime, china: ChinaExporter, suppliers: list[Supplier],
                 warehouse: dict[str, float], domestic_lead: EventSampler, shipping: Shipping,
                 non_china_min_share: float):
        self.regime, self.china, self.shipping = regime, china, shipping
        self.recyclers = [s for s in suppliers if s.kind == "recycling"]
        self.importers = sorted((s for s in suppliers if s.kind == "import"), key=lambda s: s.premium)
        self.warehouse, self.domestic_lead = warehouse, domestic_lead
        self.non_china_min_share = non_china_min_share

    def place(self, makers: list[Maker], orders: list[dict[str, float]], day: float, days: int) -> None:
        """Allocate the month's orders; each source ships its month's parts as one consignment.
        (Lead times are drawn every month, even for an empty consignment, so that each stream's
        draws stay aligned between scenarios: common random numbers.)"""
        rules = self.regime.rules_at(day)
        left = [dict(o) for o in orders]
        parts: Parts = []
        for grade in GRADES:
            self.warehouse[grade] -= _allocate(makers, left, grade, [o[grade] for o in left],
                                               self.warehouse[grade], parts)
        self.shipping.consign(parts, "domestic", self.domestic_lead())
        restricted = {g: PRODUCT[g] in rules.licensed or PRODUCT[g] in rules.banned for g in GRADES}
        dytb_inputs_restricted = "dytb_oxide" in rules.licensed or "dytb_oxide" in rules.banned
        for supplier in self.recyclers + self.importers:
            cap = supplier.capacity_t(day, days, rules, dytb_inputs_restricted)
            parts = []
            for grade in GRADES:  # dytb first: it is the scarcer grade
                if supplier.kind == "recycling" or restricted[grade]:
                    want = [o[grade] for o in left]
                else:  # China is open: only the dual-sourcing share of the order goes elsewhere
                    share = self.non_china_min_share
                    want = [min(o[grade], share * orig[grade]) for o, orig in zip(left, orders, strict=True)]
                cap["total"] -= _allocate(makers, left, grade, want, min(cap[grade], cap["total"]), parts)
            self.shipping.consign(parts, "recycling" if supplier.kind == "recycling" else "non_china",
                                  supplier.lead_time())
        parts = []
        for grade in GRADES:
            shipped, filed = self.china.order(PRODUCT[grade], [(m.buyers[grade], o[grade]) for m, o in
                                                               zip(makers, left, strict=True)], parts, self.shipping)
            for maker, o in zip(makers, left, strict=True):
                maker.on_order[grade] += o[grade] * shipped
                maker.licence_pending_t[grade] += o[grade] * filed
        self.shipping.consign(parts, "china", self.china.lead_time())


def _allocate(makers: list[Maker], left: list[dict[str, float]], grade: str, want: list[float],
              available: float, parts: Parts) -> float:
    """Give each maker its pro-rata part of `available` t of `grade` (never more than it wants):
    the part goes on order and into the consignment `parts`. Returns the tonnes given."""
    total = sum(want)
    if total <= 0 or available <= 0:
        return 0.0
    factor = 1.0 if total <= available else available / total
    for maker, o, w in zip(makers, left, want, strict=True):
        if w > 0:
            t = w * factor
            o[grade] -= t
            maker.on_order[grade] += t
            parts.append((maker.buyers[grade].receive, t))
    return total * factor
