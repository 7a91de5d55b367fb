"""Where magnets come from: China's exporters (under the regime), non-China suppliers and
recycling (capacity-limited), and the shipping that carries them; plus the monthly order book
that splits each maker's order among sources.

Allocation of an order, in this order: domestic plants' stock, then recycling, then non-China
suppliers cheapest first (all of the order if China restricts the grade, else only the
dual-sourcing share), then China (shipped if open; under licence, a general-licence share ships
and the rest is filed as an application; dropped if banned). Scarce supply is shared pro rata.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

import simpy

from resim.model.clock import after
from resim.model.licensing import Application, LicenceOffice
from resim.model.makers import GRADES, PRODUCT, Maker
from resim.model.regime import Regime
from resim.sampling import EventSampler
from resim.scenario import Supplier as SupplierSpec


class Shipping:
    """Material between dispatch and arrival, with cumulative and monthly tallies by source."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.in_transit_t = 0.0
        self.shipped_t: dict[str, float] = defaultdict(float)  # cumulative, by source
        self.arrived_month_t: dict[str, float] = defaultdict(float)  # this month, by source

    def send(self, tonnes: float, source: str, delay: float, on_arrival: Callable[[float], None]) -> None:
        if tonnes <= 0:
            return
        self.in_transit_t += tonnes
        self.shipped_t[source] += tonnes
        after(self.env, delay, self._arrive, tonnes, source, on_arrival)

    def _arrive(self, tonnes: float, source: str, on_arrival: Callable[[float], None]) -> None:
        self.in_transit_t -= tonnes
        self.arrived_month_t[source] += tonnes
        on_arrival(tonnes)


class ChinaExporter:
    """Chinese exporters: unlimited capacity, gated by the regime in force on the order day."""

    def __init__(self, env: simpy.Environment, regime: Regime, office: LicenceOffice,
                 lead_time: EventSampler, general_share: float, general_from_day: float):
        self.env, self.regime, self.office, self.lead_time = env, regime, office, lead_time
        self.general_share, self.general_from_day = general_share, general_from_day

    def order(self, product: str, tonnes: float, shipping: Shipping, on_arrival: Callable[[float], None],
              on_approved: Callable[[float], None], on_abandon: Callable[[float], None]) -> tuple[float, float]:
        """Place an order; return (tonnes shipped now, tonnes filed for a licence). A banned
        product returns (0, 0); `on_approved` runs when a filed licence is granted and shipped."""
        if tonnes <= 0:
            return 0.0, 0.0
        day = self.env.now
        rules = self.regime.rules_at(day)
        if product in rules.banned:
            return 0.0, 0.0
        if product not in rules.licensed:
            shipping.send(tonnes, "china", self.lead_time(), on_arrival)
            return tonnes, 0.0
        general = tonnes * self.general_share if day >= self.general_from_day else 0.0
        shipping.send(general, "china", self.lead_time(), on_arrival)
        filed = tonnes - general
        if filed > 0:
            self.office.file(Application(product, filed, on_approved=lambda app: self._ship_licensed(
                app, shipping, on_arrival, on_approved), on_abandoned=lambda app: on_abandon(app.tonnes)))
        return general, max(filed, 0.0)

    def _ship_licensed(self, app: Application, shipping: Shipping, on_arrival: Callable[[float], None],
                       on_approved: Callable[[float], None]) -> None:
        on_approved(app.tonnes)
        shipping.send(app.tonnes, "china", self.lead_time(), on_arrival)


class Supplier:
    """A non-China magnet maker (or recycler) with monthly capacity available to India."""

    def __init__(self, name: str, spec: SupplierSpec, start: dt.date, lead_time: EventSampler):
        self.name, self.spec, self.lead_time = name, spec, lead_time
        self.kind = spec.kind
        self.capacity_t_per_day = float(spec.capacity_t_per_year) / 365.25  # type: ignore[arg-type]
        self.from_day = (spec.available_from - start).days if spec.available_from else float("-inf")
        self.ramp_days = float(spec.ramp_months) * 30.4375  # type: ignore[arg-type]
        self.premium = float(spec.premium_share)  # type: ignore[arg-type]

    def capacity_t(self, day: float, days: int, regime: Regime) -> dict[str, float]:
        """This month's capacity by grade (the dytb figure is a cap within the shared total)."""
        mid = day + days / 2
        if mid < self.from_day:
            ramp = 0.0
        elif self.ramp_days <= 0:
            ramp = 1.0
        else:
            ramp = min(1.0, (mid - self.from_day) / self.ramp_days)
        rules = regime.rules_at(day)
        total = self.capacity_t_per_day * days * ramp
        if self.kind == "import":
            total *= 1 - float(rules.non_china_exposed_share)  # type: ignore[arg-type]
        dytb = total if "dytb" in self.spec.grades else 0.0
        if regime.restricts("dytb_oxide", day):
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
        left = [dict(o) for o in orders]
        for grade in GRADES:
            want = [o[grade] for o in left]
            got = pro_rata(want, self.warehouse[grade])
            for maker, o, t in zip(makers, left, got, strict=True):
                self.warehouse[grade] -= t
                self._ship(maker, grade, t, "domestic", self.domestic_lead)
                o[grade] -= t
        capacity = {s.name: s.capacity_t(day, days, self.regime) for s in self.recyclers + self.importers}
        for supplier in self.recyclers:
            self._from_supplier(supplier, capacity[supplier.name], makers, left, dict.fromkeys(GRADES, 1.0))
        open_share = {g: (1.0 if self.regime.restricts(PRODUCT[g], day) else self.non_china_min_share)
                      for g in GRADES}
        for supplier in self.importers:
            self._from_supplier(supplier, capacity[supplier.name], makers, left, open_share, orders)
        for maker, o in zip(makers, left, strict=True):
            for grade in GRADES:
                self._from_china(maker, grade, o[grade])

    def _from_supplier(self, supplier: Supplier, cap: dict[str, float], makers: list[Maker],
                       left: list[dict[str, float]], share: dict[str, float],
                       original: list[dict[str, float]] | None = None) -> None:
        for grade in GRADES:  # dytb first: it is the scarcer grade
            if original is None:
                want = [o[grade] for o in left]
            else:  # at most `share` of the original order goes outside China
                want = [min(o[grade], share[grade] * orig[grade]) for o, orig in zip(left, original, strict=True)]
            available = min(cap[grade], cap["total"])
            got = pro_rata(want, available)
            cap["total"] -= sum(got)
            if grade == "dytb":
                cap["light"] = min(cap["light"], cap["total"])
            for maker, o, t in zip(makers, left, got, strict=True):
                self._ship(maker, grade, t, supplier.kind if supplier.kind == "recycling" else "non_china",
                           supplier.lead_time)
                o[grade] -= t

    def _from_china(self, maker: Maker, grade: str, tonnes: float) -> None:
        shipped, filed = self.china.order(
            PRODUCT[grade], tonnes, self.shipping,
            on_arrival=lambda t: maker.receive(grade, t),
            on_approved=lambda t: maker.licence_granted(grade, t),
            on_abandon=lambda t: maker.licence_abandoned(grade, t),
        )
        maker.on_order[grade] += shipped
        maker.licence_pending_t[grade] += filed

    def _ship(self, maker: Maker, grade: str, tonnes: float, source: str, lead: EventSampler) -> None:
        if tonnes > 0:
            maker.on_order[grade] += tonnes
            self.shipping.send(tonnes, source, lead(), lambda t: maker.receive(grade, t))
