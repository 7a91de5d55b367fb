"""Where magnets come from, and how they travel: China's exporters (the regime acts at the
border), non-China magnet makers and recyclers (capacity for India, contracts, Dy/Tb), and the
shipping between dispatch and arrival.

An order with China leaves after an export processing time; the rules in force when it reaches the
border decide: it ships, it waits at the port for its applicant's licence (unless the applicant
holds a valid licence or is a named customer of a general-licence holder), or it is stopped and
goes back to the buyer's books as cancelled.
"""

from __future__ import annotations

import bisect
import math
from typing import Final

import numpy as np
import simpy

from resim.model.clock import DAYS_PER_MONTH, Months, after, clock_now, ramp
from resim.model.floats import floats
from resim.model.licensing import SOURCES, Applicant, LicenceFile, LicenceOffice, Shipment
from resim.model.luck import Keyed
from resim.model.regime import Regime, Rules
from resim.model.world import drawn
from resim.scenario.schema import HeavyRee
from resim.scenario.schema import Supplier as SupplierSpec

ROUTE: Final = {"dytb_magnet": "magnets", "light_magnet": "magnets", "motor": "motor",  # what travels together
         "ndpr_oxide": "oxides", "dytb_oxide": "oxides"}


class Shipping:
    """Material between dispatch and arrival, with cumulative and monthly tallies by source.

    Lots that land at the same instant (the buyers of one review, on one route in one week) land as
    one consignment: one arrival event, however many lots (measured: 5,000 -> 1,400 arrival events per
    replication of pause_ends over 120 months)."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.in_transit_t = floats([0.0] * len(SOURCES))  # now, by source (in the order of SOURCES)
        self.shipped_t = floats([0.0] * len(SOURCES))  # cumulative, by source
        self.arrived_month_t = floats([0.0] * len(SOURCES))  # this month, by source
        self.landing: dict[float, list[Shipment]] = {}  # consignments on their way, by the instant they land

    def send(self, shipment: Shipment, now: float, delay: float) -> None:
        self.consign([shipment], now, delay)

    def consign(self, shipments: list[Shipment], now: float, delay: float) -> None:
        """Ship lots (of one or several buyers) at `now`, the clock's time, to land `delay` days later."""
        # speed: callers pass `now` on rather than each reading SimPy's clock (docs/performance.md)
        lots = [s for s in shipments if s.tonnes > 0]
        if not lots:
            return
        for s in lots:
            self.in_transit_t[s.source] += s.tonnes
            self.shipped_t[s.source] += s.tonnes
        lands = now + max(delay, 0.0)
        consignment = self.landing.get(lands)
        if consignment is None:
            self.landing[lands] = lots
            after(self.env, lands - now, self._arrive, lands)
        else:
            consignment.extend(lots)

    def _arrive(self, lands: float) -> None:
        """The consignment lands: each buyer receives its lots together."""
        now = clock_now(self.env)
        deliveries: list[list[Shipment]] = []  # each buyer's lots, in order of its first lot
        for s in self.landing.pop(lands):
            self.in_transit_t[s.source] -= s.tonnes
            self.arrived_month_t[s.source] += s.tonnes
            for lots in deliveries:  # speed: a scan of a few buyers, not a dict by buyer (docs/performance.md)
                if lots[0].buyer is s.buyer:
                    lots.append(s)
                    break
            else:
                deliveries.append([s])
        for lots in deliveries:
            lots[0].buyer.receive(lots, now)


class MonthOf:
    """The reporting month a day falls in."""

    def __init__(self, months: Months):
        self.first: list[float] = months.first_day.tolist()
        self._from, self._until, self._month = math.inf, -math.inf, 0  # the last lookup's month and span

    def index(self, day: float) -> int:
        """Month `day` falls in (the first or last month beyond the run); the last answer's span is
        remembered, as most lookups fall in it."""
        if not self._from <= day < self._until:
            last = len(self.first) - 1
            m = self._month = max(0, min(last, bisect.bisect_right(self.first, day) - 1))
            self._from = -math.inf if m == 0 else self.first[m]
            self._until = math.inf if m == last else self.first[m + 1]
        return self._month


class ChinaExporter:
    """Chinese exporters: unlimited capacity, gated at the border by the regime then in force."""

    def __init__(self, env: simpy.Environment, regime: Regime, office: LicenceOffice, shipping: Shipping,
                 processing: dict[str, Keyed], lead: dict[str, Keyed], extra_lead_days: dict[str, float],
                 general_from_day: float):
        self.env, self.regime, self.office, self.shipping = env, regime, office, shipping
        self.processing, self.lead, self.extra_lead_days = processing, lead, extra_lead_days
        self.general_from_day = general_from_day
        self.reaching_border: dict[float, list[tuple[Applicant, list[Shipment]]]] = {}  # orders, by when they do

    def may_ship(self, applicant: Applicant, product: str, day: float, rules: Rules | None = None,
                 licence_until: float | None = None) -> bool:
        """Would `product` pass the border under `rules` (those of `day`, unless the caller looked them
        up) for `applicant` without a new licence, a licence it holds being valid through
        `licence_until` (default `day`; a buyer ordering now passes its order's expected border crossing)?"""
        rules = self.regime.rules_at(day) if rules is None else rules
        if product in rules.banned:
            return False
        return product not in rules.licensed or self.covered(applicant, product, day,
                                                             day if licence_until is None else licence_until)

    def covered(self, applicant: Applicant, product: str, day: float, until: float) -> bool:
        """Does `applicant` hold a licence for `product` valid through `until`, or ship under a
        general licence (in force on `day`)?"""
        return applicant.holds_licence(product, until) or (applicant.general_customer and day >= self.general_from_day)

    def order(self, applicant: Applicant, lots: list[Shipment], now: float) -> None:
        """An order placed at `now` of one or more lots of one route; each lot meets the border's
        rules. Orders that reach the border at the same instant (one review's buyers) are checked
        there together."""
        at = now + self.processing[ROUTE[lots[0].product]].at(now)
        batch = self.reaching_border.get(at)
        if batch is None:
            batch = self.reaching_border[at] = []
            after(self.env, at - now, self._at_border, at)
        batch.append((applicant, lots))

    def _at_border(self, at: float) -> None:
        now = clock_now(self.env)
        rules = self.regime.rules_at(now)
        banned = rules.banned
        passing: dict[str, list[Shipment]] = {}
        for applicant, lots in self.reaching_border.pop(at):
            for shipment in lots:
                if shipment.product in banned:
                    shipment.buyer.cancelled(shipment)
                elif self.may_ship(applicant, shipment.product, now, rules):
                    passing.setdefault(ROUTE[shipment.product], []).append(shipment)
                else:
                    shipment.buyer.held(shipment)
                    self.office.hold(applicant, shipment)
        for route, shipments in passing.items():
            self._ship(route, shipments, now)

    def _ship(self, route: str, shipments: list[Shipment], now: float) -> None:
        delay = self.lead[route].at(now) + self.extra_lead_days.get(route, 0.0)
        self.shipping.consign(shipments, now, delay)

    def release_covered(self) -> None:
        """The rules changed, or general licences came into force: goods held at the port for a
        file ship now if nothing stops them any more (a file with nothing left waits for its verdict)."""
        now = clock_now(self.env)
        rules = self.regime.rules_at(now)
        for file in list(self.office.pending):
            if file.shipments and self.may_ship(file.applicant, file.product, now, rules):
                for shipment in file.shipments:
                    shipment.buyer.released(shipment)
                self._ship(ROUTE[file.product], file.shipments, now)
                file.shipments = []

    def decided(self, file: LicenceFile, approved: bool) -> None:
        """A file is settled: its waiting shipments ship, or go back; then the applicant reviews."""
        now = clock_now(self.env)
        for shipment in file.shipments:
            shipment.buyer.released(shipment)
            if not approved:
                shipment.buyer.cancelled(shipment)
        if approved:  # one product, so one route: one consignment (-1.2% instructions, 224.0M -> 221.4M)
            self._ship(ROUTE[file.product], file.shipments, now)
        file.applicant.buyer.licence_outcome(approved)


class Contracts:
    """Capacity contracted to each maker group, month by month: group g is entitled to `shares[g][m]`
    of month m's capacity, and its calls in any `carry_months + 1` consecutive months never exceed
    what those months entitle it to (call-offs can slip a little; volumes do not keep). No group can
    call another's volumes (a supplier qualifies each customer's magnets), so how one group's
    licences go never changes what another can buy outside China."""

    def __init__(self, capacity_t: list[float], shares: list[list[float]], carry_months: int):
        self.capacity_t, self.carry_months = floats(capacity_t), carry_months
        self.shares = [floats(share) for share in shares]  # [group][month]
        self.called_t = [floats([0.0] * len(capacity_t)) for _ in shares]  # [group][month]

    def left_t(self, group: int, m: int, scale: float = 1.0) -> float:
        """What `group` may still call in month m, with `scale` of the contracted capacity on offer."""
        share, called = self.shares[group], self.called_t[group]
        left = 0.0
        for k in range(max(0, m - self.carry_months), m + 1):
            left += self.capacity_t[k] * share[k] * scale - called[k]
        return max(0.0, left)

    def call(self, group: int, m: int, tonnes: float) -> None:
        self.called_t[group][m] += tonnes


class Supplier:
    """A non-China magnet maker (or recycler): monthly capacity Indian buyers can get, by grade,
    contracted to the maker groups (`shares` of all of it, `dytb_shares` of its Dy/Tb-grade output)."""

    def __init__(self, name: str, spec: SupplierSpec, months: Months, lead_time: Keyed,
                 first_control_day: float | None, shares: list[list[float]], dytb_shares: list[list[float]],
                 carry_months: int):
        self.name, self.spec, self.lead_time, self.kind = name, spec, lead_time, spec.kind
        self.premium = drawn(spec.premium_share)
        self.grades = frozenset(spec.grades)  # read at every order: plain attributes, not the scenario model's
        from_day = (spec.available_from - months.start).days if spec.available_from else -math.inf
        per_day = drawn(spec.capacity_t_per_year) / 365.25
        share = np.ones_like(months.mid_day)
        if first_control_day is not None:  # contracts qualify some time after the first control
            contracts_day = first_control_day + drawn(spec.qualification_months) * DAYS_PER_MONTH
            share = np.where(months.mid_day < contracts_day, drawn(spec.share_before_contracts), 1.0)
        if spec.exposed_from is not None:
            exposed = months.mid_day >= (spec.exposed_from - months.start).days
            share = share * np.where(exposed, 1 - drawn(spec.china_exposure_share), 1.0)
        ramp_days = drawn(spec.ramp_months) * DAYS_PER_MONTH
        base_t: list[float] = (per_day * months.days * ramp(months.mid_day, from_day, ramp_days) * share).tolist()
        self.all = Contracts(base_t, shares, carry_months)  # all grades
        dytb_secured_share = drawn(spec.dytb_secured_share)
        self.dytb = Contracts([t * dytb_secured_share for t in base_t], dytb_shares, carry_months)

    def available_t(self, grade: str, group: int, m: int, exposed_share: float, dytb_secured: bool) -> float:
        """What `group` may still buy of `grade` in month m, under the rules at the order."""
        if grade not in self.grades:
            return 0.0
        total = self.all.left_t(group, m, 1 - exposed_share if self.kind == "import" else 1.0)
        if grade == "dytb" and not dytb_secured:
            total = min(total, self.dytb.left_t(group, m))
        return total

    def take(self, grade: str, group: int, m: int, tonnes: float) -> None:
        self.all.call(group, m, tonnes)
        if grade == "dytb":
            self.dytb.call(group, m, tonnes)


class DytbPool:
    """Dy/Tb-grade magnets non-China makers can make for India each month, limited by the world's
    non-China Dy+Tb and contracted to the groups like a supplier's Dy/Tb-grade output (null in the
    scenario: no limit)."""

    def __init__(self, heavy: HeavyRee, months: Months, shares: list[list[float]], carry_months: int):
        content = drawn(heavy.magnet_dytb_content_share)
        self.limited = heavy.non_china_magnet_dytb_t_per_year is not None and content > 0
        per_year = np.full_like(months.mid_day, drawn(heavy.non_china_magnet_dytb_t_per_year or 0.0))
        if heavy.non_china_magnet_dytb_added_from is not None:
            added = months.mid_day >= (heavy.non_china_magnet_dytb_added_from - months.start).days
            per_year = per_year + np.where(added, drawn(heavy.non_china_magnet_dytb_added_t_per_year), 0.0)
        self.contracts = Contracts((per_year / 365.25 * months.days / max(content, 1e-12)).tolist(), shares,
                                   carry_months)

    def left_t(self, group: int, m: int) -> float:
        return self.contracts.left_t(group, m) if self.limited else math.inf

    def take(self, group: int, m: int, tonnes: float) -> None:
        if self.limited:
            self.contracts.call(group, m, tonnes)
