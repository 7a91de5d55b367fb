"""How a buyer's order is split among sources, by contracts and price.

Contracts: each group buys outside China only what its own contracts hold, a share of each
supplier's output for India (and of the non-China Dy/Tb) in proportion to its planned need
(`Contracts` in model/supply.py), never what another group left uncalled. At each month's start,
groups with access call `non_china_min_share` of the month's need from non-China suppliers, China
open or not; each supplier delivers a month's contracts as one consignment. Orders at a review
then take sources cheapest first: China at its export price when it can ship to this buyer without
a new licence; domestic plants' warehouse and non-China suppliers at their premiums; China last
when its shipment would need a licence the buyer lacks (a gamble on the licence), and not at all
when the product is banned. A group buys the domestic plants' warehouse first, at their premium,
when its own cover of a grade is gone (its lines run on the chain's stock, or stop: the plants are
the soonest source) or when more waits unsold there than the plants keep. When China needs a
licence, tonnes the buyer has waiting at the Chinese port are replaced by what the other sources
can deliver (the file is cut by as much), so no contracted capacity outside China is left unused
while a licence is awaited.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from resim.model.licensing import CHINA, CHINA_MOTOR, DOMESTIC, NON_CHINA, RECYCLING, Applicant, Shipment
from resim.model.luck import Keyed
from resim.model.regime import Regime
from resim.model.stock import DYTB, GRADES, LIGHT, MOTOR, ORDER_EPS_T
from resim.model.supply import ChinaExporter, DytbPool, MonthOf, Supplier

if TYPE_CHECKING:
    from resim.model.domestic import DomesticPlants
    from resim.model.makers import MakerGroup

PRODUCT: Final[tuple[str, ...]] = ("dytb_magnet", "light_magnet", "motor")  # what China's rules call each grade
INR_PER_T: Final = 1000.0  # prices are INR per kg


class PlannedDays:
    """Days a buyer plans on for each leg of a route: export processing, China's shipping, a licence
    decision, non-China suppliers' lead time. One instance holds the means; another the margins
    (each leg's service-level quantile minus its mean) that safety stock covers."""

    __slots__ = ("processing", "china", "licence", "non_china")

    def __init__(self, processing: float, china: float, licence: float, non_china: float):
        self.processing, self.china, self.licence, self.non_china = processing, china, licence, non_china


class Market:
    def __init__(self, regime: Regime, china: ChinaExporter, suppliers: list[Supplier], pool: DytbPool,
                 domestic: DomesticPlants, domestic_lead: Keyed, month_of: MonthOf, non_china_min_share: float,
                 china_inr_per_kg: tuple[float, float], domestic_premium: float, mean_days: PlannedDays,
                 margin_days: PlannedDays):
        self.regime, self.china, self.pool, self.domestic = regime, china, pool, domestic
        self.suppliers = sorted(suppliers, key=lambda s: s.premium)
        self.domestic_lead, self.month_of = domestic_lead, month_of
        self.non_china_min_share, self.domestic_premium = non_china_min_share, domestic_premium
        self.china_inr_per_t = [p * INR_PER_T for p in china_inr_per_kg]
        self.mean_days, self.margin_days = mean_days, margin_days

    def expected_lead_days(self, group: MakerGroup, day: float) -> tuple[list[float], list[float]]:
        """What a buyer plans on for an order of each grade (dytb, light, motor) placed now, as (mean
        lead days, safety margin days): China's route (with a licence decision if one is needed, mixed
        with the non-China suppliers' lead time for the share of its orders needing a licence filled
        outside China, `MakerGroup.plan_outside`), else the non-China suppliers' lead time when
        China's product is banned. A route's margin is the root sum of squares of its legs' margins
        (their spreads add as variances)."""
        rules = self.regime.rules_at(day)
        mean, margin = self.mean_days, self.margin_days
        # under today's rules (makers do not foresee rule changes), a licence held now counts only if
        # it still covers the next order's border crossing
        next_border = day + mean.processing + 2 * group.half_cycle_days
        leads, margins = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
        for grade, product in enumerate(PRODUCT):
            if product in rules.banned:
                if grade != MOTOR:
                    leads[grade], margins[grade] = mean.non_china, margin.non_china
                continue
            lead = mean.processing + mean.china + (group.motor_extra_lead_days if grade == MOTOR else 0.0)
            spread = margin.processing * margin.processing + margin.china * margin.china
            leads[grade], margins[grade] = lead, math.sqrt(spread)
            if product not in rules.licensed:
                continue
            covered = 0
            for a in group.applicants:
                if self.china.covered(a, product, day, next_border + mean.licence):
                    covered += 1
            if covered == len(group.applicants):
                continue
            # the share of its firms without a licence waits for one, or buys outside China
            lead += mean.licence
            spread += margin.licence * margin.licence
            if grade != MOTOR:  # what it gets outside China comes on the suppliers' lead time
                outside = group.outside_share[grade]
                waiting_lead = outside * mean.non_china + (1 - outside) * lead
                waiting_margin = outside * margin.non_china + (1 - outside) * math.sqrt(spread)
            else:
                waiting_lead, waiting_margin = lead, math.sqrt(spread)
            if covered == 0:
                leads[grade], margins[grade] = waiting_lead, waiting_margin
            else:
                free = covered / len(group.applicants)
                leads[grade] = free * leads[grade] + (1 - free) * waiting_lead
                margins[grade] = free * margins[grade] + (1 - free) * waiting_margin
        return leads, margins

    def opening_lot(self, group: MakerGroup, grade: int, tonnes: float) -> Shipment:
        """A lot of the pipeline on order at the start: from China at its price (whole motors with
        their premium), or from the cheapest non-China supplier where China's rules ban the product."""
        product = PRODUCT[grade]
        price = self.china_inr_per_t[DYTB if grade == MOTOR else grade]
        if product in self.regime.rules_at(0.0).banned and grade != MOTOR:
            premium = price * (self.suppliers[0].premium if self.suppliers else 0.0)
            return Shipment(group, grade, tonnes, product, NON_CHINA, price + premium, premium)
        if grade == MOTOR:
            premium = group.motor_premium_inr_per_t
            return Shipment(group, grade, tonnes, product, CHINA_MOTOR, price + premium, premium)
        return Shipment(group, grade, tonnes, product, CHINA, price, 0.0)

    def buy(self, group: MakerGroup, wanted: list[float], day: float) -> None:
        """Place a review's order for `group` on `day`: `wanted` tonnes by grade (dytb, light, motor).
        What each source supplies travels together: one consignment per source (China: one order per
        firm, judged lot by lot at the border). A grade's China tonnes are its firms' in equal parts:
        the part of firms that may ship freely goes as one lot, the rest waits on each firm's licence."""
        rules = self.regime.rules_at(day)
        m = self.month_of.index(day)
        exposed = rules.non_china_exposed_share
        dytb_secured = rules.dytb_secured
        china: dict[Applicant, list[Shipment]] = {}
        domestic: list[Shipment] = []
        by_supplier: dict[Supplier, list[Shipment]] = {}
        firms = len(group.applicants)
        for grade, tonnes in enumerate(wanted):
            if tonnes <= 0:
                continue
            product = PRODUCT[grade]
            if product in rules.banned:
                free, waiting = [], group.applicants
            elif product not in rules.licensed:
                free, waiting = group.applicants, []
            else:  # a licence held now counts only if it still covers the order's (expected) border crossing
                until = day + self.mean_days.processing
                free, waiting = [], []
                for a in group.applicants:
                    (free if self.china.may_ship(a, product, day, rules, until) else waiting).append(a)
            waiting_t = tonnes * len(waiting) / firms  # what would wait at the port for a licence
            bought = 0.0
            if grade != MOTOR:  # motors come only from China
                bought = self._elsewhere(group, grade, tonnes, waiting_t, not waiting, day, m, exposed, dytb_secured,
                                         domestic, by_supplier)
            if product in rules.banned:
                continue
            if waiting:  # what was bought elsewhere replaces what would wait first
                self._from_china(group, grade, tonnes - waiting_t, max(0.0, waiting_t - bought), free, waiting, day,
                                 china)
            else:
                self._from_china(group, grade, tonnes - bought, 0.0, free, waiting, day, china)
        if domestic:
            self.domestic.shipping.consign(domestic, day, self.domestic_lead.at(day))
        for supplier, lots in by_supplier.items():
            self.china.shipping.consign(lots, day, supplier.lead_time.at(day))
        for applicant, lots in china.items():
            self.china.order(applicant, lots, day)

    def _elsewhere(self, group: MakerGroup, grade: int, tonnes: float, waiting_t: float, china_free: bool, day: float,
                   m: int, exposed: float, dytb_secured: bool, domestic: list[Shipment],
                   by_supplier: dict[Supplier, list[Shipment]]) -> float:
        """Buy magnets of `grade` outside China, cheapest first: the domestic warehouse when China
        needs a licence or the group's own cover is gone; non-China suppliers when China needs a
        licence, for what would wait for one (`waiting_t` of `tonnes`) and what already waits at the
        port (which is cut by as much). Returns the tonnes bought."""
        name = GRADES[grade]
        china_price = self.china_inr_per_t[grade]
        want = tonnes if china_free else waiting_t + group.at_port[grade]
        bought = 0.0
        if self.domestic_premium < 0 or not china_free or group.stock.level[grade] <= group.stock.chain[grade] \
                or self.domestic.pressing(day):
            take = self.domestic.sell(name, want, day)
            if take > 0:
                premium = china_price * self.domestic_premium
                domestic.append(self._lot(group, grade, take, DOMESTIC, china_price + premium, premium))
                bought += take
        if not china_free and group.non_china_access > 0:
            for supplier, lot in self._non_china(group, grade, name, want - bought, m, exposed, dytb_secured):
                by_supplier.setdefault(supplier, []).append(lot)
                bought += lot.tonnes
        group.plan_outside(grade, waiting_t, bought, china_free)
        if not china_free and bought > waiting_t:
            group.withdraw(grade, bought - waiting_t)
        return bought

    def _from_china(self, group: MakerGroup, grade: int, free_t: float, waiting_t: float, free: list[Applicant],
                    waiting: list[Applicant], day: float, china: dict[Applicant, list[Shipment]]) -> None:
        """Add a grade's China lots to the firms' orders: `free_t` as one lot of the first firm that
        may ship freely, `waiting_t` in equal lots of the firms that need a licence. A firm whose file
        was abandoned at this instant orders nothing (no re-filing in the same instant)."""
        product = PRODUCT[grade]
        price = self.china_inr_per_t[DYTB if grade == MOTOR else grade]
        premium = group.motor_premium_inr_per_t if grade == MOTOR else 0.0
        source = CHINA_MOTOR if grade == MOTOR else CHINA
        if free_t > 0:
            for a in free:
                if not a.refused_on(product, day):
                    china.setdefault(a, []).append(self._lot(group, grade, free_t, source, price + premium, premium))
                    break
        if waiting_t > 0:
            each = waiting_t / len(waiting)
            for a in waiting:
                if not a.refused_on(product, day):
                    china.setdefault(a, []).append(self._lot(group, grade, each, source, price + premium, premium))

    @staticmethod
    def _lot(group: MakerGroup, grade: int, tonnes: float, source: int, inr_per_t: float, premium: float) -> Shipment:
        group.ordered(grade, tonnes)
        return Shipment(group, grade, tonnes, PRODUCT[grade], source, inr_per_t, premium)

    def _non_china(self, group: MakerGroup, grade: int, name: str, tonnes: float, m: int, exposed: float,
                   dytb_secured: bool) -> list[tuple[Supplier, Shipment]]:
        """Up to `tonnes` of `grade` from non-China suppliers, cheapest first: (supplier, lot) pairs."""
        got, lots = 0.0, []
        for supplier in self.suppliers:
            if got >= tonnes:
                break
            cap = supplier.available_t(name, group.index, m, exposed, dytb_secured)
            if grade == DYTB and supplier.kind == "import":
                cap = min(cap, self.pool.left_t(group.index, m))
            take = min(cap, tonnes - got)
            if take <= ORDER_EPS_T:
                continue
            supplier.take(name, group.index, m, take)
            if grade == DYTB and supplier.kind == "import":
                self.pool.take(group.index, m, take)
            premium = self.china_inr_per_t[grade] * supplier.premium
            source = RECYCLING if supplier.kind == "recycling" else NON_CHINA
            lots.append((supplier, self._lot(group, grade, take, source, self.china_inr_per_t[grade] + premium,
                                             premium)))
            got += take
        return lots

    def contract_month(self, groups: list[MakerGroup], m: int, day: float, days: float) -> None:
        """Month m's contract deliveries: `non_china_min_share` of each group's need for the month."""
        if self.non_china_min_share <= 0:
            return
        rules = self.regime.rules_at(day)
        exposed = rules.non_china_exposed_share
        dytb_secured = rules.dytb_secured
        by_supplier: dict[str, list[Shipment]] = {}
        for group in groups:
            if group.non_china_access <= 0:
                continue
            for grade in (DYTB, LIGHT):
                want = group.stock.rate[grade] * days * self.non_china_min_share
                for supplier, lot in self._non_china(group, grade, GRADES[grade], want, m, exposed, dytb_secured):
                    by_supplier.setdefault(supplier.name, []).append(lot)
        for supplier in self.suppliers:
            if supplier.name in by_supplier:
                self.china.shipping.consign(by_supplier[supplier.name], day, supplier.lead_time.at(day))
