"""Where magnets come from: China's exporters (under the regime), non-China suppliers and
recycling (capacity-limited), and the shipping that carries them; plus the monthly order book
that splits each maker's order among sources.

Allocation of an order, in this order: domestic plants' stock, then recycling, then non-China
suppliers cheapest first (all of the order if China restricts the grade, else only the
dual-sourcing share of the month's order, in all), then China (shipped if open; under licence,
a general-licence share ships and the rest is filed as one consolidated application per product
and month, granted to the makers pro rata; dropped if banned). Scarce supply is shared pro rata.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from functools import partial

import simpy

from resim.model.clock import DAYS_PER_MONTH, Months, after, ramp
from resim.model.licensing import Application, LicenceOffice, Split
from resim.model.makers import GRADES, PRODUCT, Maker
from resim.model.regime import Regime
from resim.sampling import MonthlyDraws
from resim.scenario import RuleSet
from resim.scenario import Supplier as SupplierSpec

Receivers = list[tuple[Callable[[float], None], float]]  # who gets which share of a lot
Parts = list[tuple[Receivers, float]]  # one consignment: lots of (receivers, tonnes)


def receivers(split: Split) -> Receivers:
    """What a lot shared by `split` calls on arrival: each buyer's receive, with its share."""
    return [(buyer.receive, share) for buyer, share in split]


class Shipping:
    """Material between dispatch and arrival, with cumulative and monthly tallies by source."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.in_transit_t = 0.0
        self.shipped_t: dict[str, float] = defaultdict(float)  # cumulative, by source
        self.arrived_month_t: dict[str, float] = defaultdict(float)  # this month, by source

    def send(self, tonnes: float, source: str, delay: float, on_arrival: Callable[[float], None]) -> None:
        self.consign([([(on_arrival, 1.0)], tonnes)], source, delay)

    def consign(self, parts: Parts, source: str, delay: float) -> None:
        """Ship several lots together (one event); each lot is shared among its receivers on arrival."""
        tonnes = sum([t for _, t in parts])
        if tonnes <= 0:
            return
        self.in_transit_t += tonnes
        self.shipped_t[source] += tonnes
        after(self.env, delay, self._arrive, parts, tonnes, source)

    def _arrive(self, parts: Parts, tonnes: float, source: str) -> None:
        self.in_transit_t -= tonnes
        self.arrived_month_t[source] += tonnes
        for lot, t in parts:
            for receive, share in lot:
                receive(t * share)


class ChinaExporter:
    """Chinese exporters: unlimited capacity, gated by the regime in force on the order day."""

    def __init__(self, env: simpy.Environment, regime: Regime, office: LicenceOffice,
                 general_share: float, general_from_day: float):
        self.env, self.regime, self.office = env, regime, office
        self.general_share, self.general_from_day = general_share, general_from_day

    def order(self, product: str, split: Split, tonnes: float, consignment: Parts, shipping: Shipping,
              month: int) -> tuple[float, float]:
        """Order `tonnes` of `product`, shared by several buyers, as one consolidated file if it needs
        a licence. Returns the shares of the order (shipped now, filed); what ships now joins
        `consignment` (the month's shipment from China), what is licensed later goes by `shipping`.
        A banned product returns (0, 0)."""
        if tonnes <= 0 or not split:
            return 0.0, 0.0
        day = self.env.now
        rules = self.regime.rules_at(day)
        if product in rules.banned:
            return 0.0, 0.0
        if product not in rules.licensed:
            consignment.append((receivers(split), tonnes))
            return 1.0, 0.0
        general = self.general_share if day >= self.general_from_day else 0.0
        if general > 0:
            consignment.append((receivers(split), tonnes * general))
        if general < 1:
            self.office.file(Application(product, month, split, tonnes * (1 - general),
                                         on_approved=partial(self._ship_licensed, shipping),
                                         on_abandoned=self._abandoned))
        return general, 1 - general

    def _ship_licensed(self, shipping: Shipping, app: Application) -> None:
        for buyer, share in app.split:
            buyer.granted(app.tonnes * share)
        lead_time = self.office.draws[app.product].shipping_days(app.month, app.rejections)
        shipping.consign([(receivers(app.split), app.tonnes)], "china", lead_time)

    @staticmethod
    def _abandoned(app: Application) -> None:
        for buyer, share in app.split:
            buyer.abandoned(app.tonnes * share)


class Supplier:
    """A non-China magnet maker (or recycler) with monthly capacity available to India."""

    def __init__(self, name: str, spec: SupplierSpec, months: Months, lead_time: MonthlyDraws):
        self.name, self.spec, self.lead_time = name, spec, lead_time
        self.kind = spec.kind
        self.premium = float(spec.premium_share)  # type: ignore[arg-type]
        from_day = (spec.available_from - months.start).days if spec.available_from else -math.inf
        per_day = float(spec.capacity_t_per_year) / 365.25  # type: ignore[arg-type]
        ramp_days = float(spec.ramp_months) * DAYS_PER_MONTH  # type: ignore[arg-type]
        self.base_t = (per_day * months.days * ramp(months.mid_day, from_day, ramp_days)).tolist()

    def capacity_t(self, m: int, rules: RuleSet, dytb_inputs_restricted: bool) -> dict[str, float]:
        """Month m's capacity by grade under `rules` (each grade's figure is a cap within the total)."""
        total = self.base_t[m]
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
                 warehouse: dict[str, float], domestic_lead: MonthlyDraws, china_lead: MonthlyDraws,
                 shipping: Shipping, non_china_min_share: float):
        self.regime, self.china, self.shipping = regime, china, shipping
        self.recyclers = [s for s in suppliers if s.kind == "recycling"]
        self.importers = sorted((s for s in suppliers if s.kind == "import"), key=lambda s: s.premium)
        self.warehouse, self.domestic_lead, self.china_lead = warehouse, domestic_lead, china_lead
        self.non_china_min_share = non_china_min_share

    def place(self, makers: list[Maker], orders: list[dict[str, float]], m: int, day: float) -> None:
        """Allocate the month's orders; each source ships its month's lots as one consignment.

        Every step shares pro rata, so each maker's part of every source's delivery equals its
        share of the month's order for that grade: sources are allocated totals per grade, and
        every lot of that grade is split by the same shares. (Each source's lead time is keyed by
        month, so the same month's shipment has the same luck in every scenario.)"""
        rules = self.regime.rules_at(day)
        ordered, split, lots = {}, {}, {}
        for g in GRADES:
            ordered[g] = total = sum([o[g] for o in orders])
            split[g] = [(maker.buyers[g], o[g] / total) for maker, o in zip(makers, orders, strict=True) if o[g] > 0]
            lots[g] = receivers(split[g])
        left, firm = dict(ordered), dict.fromkeys(GRADES, 0.0)

        def ship(given: dict[str, float], source: str, lead_time_days: float) -> None:
            parts: Parts = []
            for g in GRADES:
                if given[g] > 0:
                    left[g] -= given[g]
                    firm[g] += given[g]
                    parts.append((lots[g], given[g]))
            self.shipping.consign(parts, source, lead_time_days)

        domestic = {g: min(left[g], self.warehouse[g]) for g in GRADES}
        for g in GRADES:
            self.warehouse[g] -= domestic[g]
        ship(domestic, "domestic", self.domestic_lead(m))

        restricted = {g: PRODUCT[g] in rules.licensed or PRODUCT[g] in rules.banned for g in GRADES}
        dytb_inputs_restricted = "dytb_oxide" in rules.licensed or "dytb_oxide" in rules.banned
        outside_china = dict.fromkeys(GRADES, 0.0)
        for supplier in self.recyclers + self.importers:
            if left["dytb"] <= 0 and left["light"] <= 0:
                break
            cap = supplier.capacity_t(m, rules, dytb_inputs_restricted)
            if cap["total"] <= 0:
                continue
            given = {}
            for g in GRADES:  # dytb first: it is the scarcer grade
                wanted = left[g]
                if supplier.kind == "import" and not restricted[g]:  # China open: dual sourcing only
                    wanted = min(wanted, self.non_china_min_share * ordered[g] - outside_china[g])
                given[g] = max(0.0, min(wanted, cap[g], cap["total"]))
                cap["total"] -= given[g]
                if supplier.kind == "import":
                    outside_china[g] += given[g]
            ship(given, "recycling" if supplier.kind == "recycling" else "non_china", supplier.lead_time(m))

        parts: Parts = []
        for g in GRADES:
            shipped, filed = self.china.order(PRODUCT[g], split[g], left[g], parts, self.shipping, m)
            firm[g] += left[g] * shipped
            for maker, o in zip(makers, orders, strict=True):
                if o[g] > 0:
                    share = o[g] / ordered[g]
                    maker.on_order[g] += firm[g] * share
                    maker.licence_pending_t[g] += left[g] * filed * share
        self.shipping.consign(parts, "china", self.china_lead(m))
