"""EV maker groups: a share of a segment's vehicles with its own designs, stock and way of buying.

Story: a group builds vehicles continuously, using magnets at its build rate (ferrite designs need
none; vehicles on motors imported whole use the magnets inside them). It reviews its position
(stock + everything ordered and not yet arrived, licences awaited included, at face value) on the
scenario's review policy and at once on every regime change and licence refused for good, and
orders each grade up to `need x (cover + expected lead time + half a review cycle)`, so that its mean stock
on hand is its cover: its own and the chain's (tier-1s and sub-assemblies in transit, the bottom
layer of its stock: model/stock.py). Its Dy/Tb-grade share falls to the redesigned share on the day light-REE
designs qualify. Vehicles it cannot build are partly deferred (a backlog retried next month that
decays) and the rest lost. It is several firms to China's licensing office, each applying on its
own; its orders for China are theirs in equal parts (model/market.py).
"""

from __future__ import annotations

import inspect
import math
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import numpy as np

from resim.model.clock import DAYS_PER_MONTH, Months, after, clock_now
from resim.model.coverage import covered_days
from resim.model.floats import floats
from resim.model.licensing import OPENING, Applicant, Buyer, Shipment
from resim.model.stock import DYTB, LIGHT, MOTOR, ORDER_EPS_T, OWN, RESERVE, OnHand

if TYPE_CHECKING:
    import simpy

    from resim.model.market import Market
    from resim.model.stockpile import Stockpile

REACHED_DAYS: Final = 1e-6  # a position within this many days of need of its reorder point has reached it


class GroupSpec(NamedTuple):
    """A group's parameters, with the segment's values where the group sets none (floats: drawn)."""

    segment: str
    name: str
    units_per_year: float
    base_date: Any
    growth_per_year: float
    kg_per_vehicle: float
    dytb_grade_share: float
    min_dytb_grade_share: float
    redesign_months: float
    cover_days: float
    chain_days: float
    ferrite_start: float
    ferrite_target: float
    ferrite_target_date: Any
    non_china_access: float
    motor_start: float
    motor_max: float
    motor_shift_per_month: float
    licence_class: str
    licence_applicants: int
    general_licence_customer: float
    priority: int
    vehicle_value_inr: float

    @property
    def key(self) -> str:
        return f"{self.segment}.{self.name}"


class MonthBooks:
    """What a group records for a month it closes: vehicles, tonnes of NdFeB, tonne-days of stock
    (for the mean cover) and rupees."""

    # speed: a class with its own __init__, not a dataclass (docs/performance.md)
    def __init__(self, demand_units: float, built_units: float, lost_units: float, backlog_units: float,
                 ferrite_units: float, need_t: float, used_t: float, shortfall_t: float, stock_days: float,
                 delivered_t: float, stock_t: float, chain_stock_t: float, from_chain_t: float, spend_inr: float,
                 premium_inr: float, licence_cover_share: float):
        self.demand_units = demand_units  # new vehicles planned
        self.built_units = built_units
        self.lost_units = lost_units  # not built, and not waiting either
        self.backlog_units = backlog_units  # not built, waiting into the next month
        self.ferrite_units = ferrite_units  # built with ferrite motors (no NdFeB)
        self.need_t = need_t  # magnets the month's attempted builds needed
        self.used_t = used_t
        self.shortfall_t = shortfall_t
        self.stock_days = stock_days  # tonne-days on hand over the month
        self.delivered_t = delivered_t
        self.stock_t = stock_t  # on hand at the month's end
        self.chain_stock_t = chain_stock_t  # of which held along the chain
        self.from_chain_t = from_chain_t  # used from the chain's stock this month
        self.spend_inr = spend_inr
        self.premium_inr = premium_inr  # paid above China's price
        self.licence_cover_share = licence_cover_share  # of the month it could ship Dy/Tb grades from China freely


MONTH_FIELDS: Final[tuple[str, ...]] = tuple(inspect.signature(MonthBooks).parameters)


class MakerGroup(Buyer):
    def __init__(self, spec: GroupSpec, index: int, applicant_indices: list[int], months: Months,
                 redesign_day: float | None,
                 motor_from_day: float | None, review_period_days: float | None, batch_days: float,
                 deferred_share: float, backlog_half_life_days: float, motor_extra_lead_days: float,
                 motor_premium_inr_per_t: float):
        super().__init__()
        self.spec, self.name, self.index = spec, spec.key, index
        # its firms, each applying for licences on its own (one file per product each): the group's
        # orders that need a licence are theirs in equal parts
        self.applicants = [Applicant(spec.key if k == 0 else f"{spec.key}#{k}", spec.licence_class, i, self)
                           for k, i in enumerate(applicant_indices)]
        self.kg_t = spec.kg_per_vehicle / 1000.0
        self.cover_days = spec.cover_days + spec.chain_days  # what its orders keep on hand: its own and the chain's
        self.batch_days = batch_days
        self.continuous = review_period_days is None
        self.half_cycle_days = ((review_period_days or 0.0) + batch_days) / 2  # mean stock is the cover
        self.non_china_access = spec.non_china_access
        self.motor_extra_lead_days = motor_extra_lead_days
        self.motor_premium_inr_per_t = motor_premium_inr_per_t  # duty and lost subsidy per t of magnet
        self.redesign_day = redesign_day
        self.deferred_share, self.backlog_half_life_days = deferred_share, backlog_half_life_days
        self.stock = OnHand()
        self.pipeline = floats([0.0, 0.0, 0.0])  # ordered, not yet arrived or cancelled
        self.at_port = floats([0.0, 0.0, 0.0])  # of which waiting at a Chinese port for a licence
        self.outside_share = floats([0.0, 0.0])  # of its orders needing a licence, filled outside China
        self.outside_t = floats([0.0, 0.0])  # since China last shipped freely: filled outside China
        self.asked_t = floats([0.0, 0.0])  # and ordered
        self.opening_t = self.received_t = 0.0
        self.delivered_month_t = self.spend_month_inr = self.premium_month_inr = 0.0
        units, ferrite, motor = self._plans(months, motor_from_day)
        self.units: list[float] = units.tolist()  # lists: read one month at a time while running
        self.ferrite: list[float] = ferrite.tolist()
        self.motor: list[float] = motor.tolist()
        self.days: list[float] = months.days.tolist()
        # each month's magnet need per day for its new vehicles (no backlog), for planning
        self.planned_need_t_per_day: np.ndarray = units / months.days * (1 - ferrite) * self.kg_t
        self.month, self.backlog_units = 0, 0.0
        self.books: list[MonthBooks] = []  # each month closed so far
        self.review_token = 0
        self.market: Market  # set by the simulation once the market exists
        self.stockpile: Stockpile | None = None
        self.env: simpy.Environment

    # --- plans: functions of time only -----------------------------------------------------------
    def _plans(self, months: Months, motor_from_day: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each month's new vehicles (grown from the base date to mid-month), ferrite share (linear
        from start to target date) and share of NdFeB vehicles on imported motors (from the start
        share, growing at the shift rate once the motor channel opens, up to the cap)."""
        s = self.spec
        years = ((months.start - s.base_date).days + months.mid_day) / 365.25
        units = s.units_per_year * (1 + s.growth_per_year) ** years * months.days / 365.25
        if s.ferrite_target_date is None:
            ferrite = np.full_like(units, s.ferrite_start)
        else:
            target_day = (s.ferrite_target_date - months.start).days
            progress = np.ones_like(units) if target_day <= 0 else np.clip(months.first_day / target_day, 0.0, 1.0)
            ferrite = s.ferrite_start + (s.ferrite_target - s.ferrite_start) * progress
        motor = np.full_like(units, s.motor_start)
        if motor_from_day is not None and s.motor_max > s.motor_start:
            shifted = s.motor_shift_per_month * np.maximum(0.0, months.first_day - motor_from_day) / DAYS_PER_MONTH
            motor = np.minimum(np.maximum(s.motor_max, s.motor_start), s.motor_start + shifted)
        return units, ferrite, motor

    def dytb_share(self, day: float) -> float:
        """Its Dy/Tb-grade share of NdFeB designs on `day`: the redesigned share once light-REE designs qualify."""
        s = self.spec
        if self.redesign_day is not None and day >= self.redesign_day:
            return min(s.dytb_grade_share, s.min_dytb_grade_share)
        return s.dytb_grade_share

    def dytb_shares(self, days: np.ndarray) -> np.ndarray:
        """`dytb_share` on each of `days` (a step on the redesign day)."""
        if self.redesign_day is None:
            return np.full_like(days, self.dytb_share(0.0))
        return np.where(days >= self.redesign_day, self.dytb_share(self.redesign_day), self.dytb_share(-math.inf))

    def set_rates(self, day: float) -> None:
        """Need rates (t/day) by grade from `day` on: this month's new vehicles and backlog."""
        self.stock.advance(day)
        m = self.month
        vehicles_per_day = (self.units[m] + self.backlog_units) / self.days[m] * (1 - self.ferrite[m])
        magnet_t = vehicles_per_day * self.kg_t
        on_motors = self.motor[m]
        dytb = self.dytb_share(day)
        rate, chain = self.stock.rate, self.stock.chain
        rate[MOTOR] = magnet_t * on_motors
        rate[DYTB] = magnet_t * (1 - on_motors) * dytb
        rate[LIGHT] = magnet_t * (1 - on_motors) * (1 - dytb)
        days = self.spec.chain_days
        chain[DYTB], chain[LIGHT], chain[MOTOR] = rate[DYTB] * days, rate[LIGHT] * days, rate[MOTOR] * days

    def open_with(self, lead_days: list[float], margin_days: list[float]) -> list[Shipment]:
        """The opening position: on-hand stock of the cover (the chain's included) and the safety stock,
        and the pipeline of each grade's lead time (returned as shipments, to land in tranches spread
        over that lead time)."""
        out = []
        for g in OWN:
            rate = self.stock.rate[g]
            on_hand = rate * (self.cover_days + margin_days[g])
            self.stock.level[g] = on_hand
            self.opening_t += on_hand
            if rate > 0 and lead_days[g] > 0:
                out.append(Shipment(self, g, rate * lead_days[g], "", OPENING))
                self.pipeline[g] += rate * lead_days[g]
        return out

    # --- reviewing and ordering -------------------------------------------------------------------
    def review(self, day: float) -> None:
        """Order each grade up to its target position if the position is at or below the reorder point.
        The target covers the mean lead time and half a review cycle, plus the cover, plus safety
        stock for the lead time's spread (its margin at the service level): an order-up-to policy."""
        self.stock.advance(day)
        if self.stockpile is not None:
            self.stockpile.release(self, day)
        level, rate = self.stock.level, self.stock.rate
        wanted = [0.0, 0.0, 0.0]
        leads, margins = self.market.expected_lead_days(self, day)
        for g in OWN:
            d = rate[g]
            if d <= 0:
                continue
            target = d * (self.cover_days + margins[g] + leads[g] + self.half_cycle_days)
            position = level[g] + self.pipeline[g]
            reorder = max(0.0, target - d * self.batch_days)
            if position <= reorder + d * REACHED_DAYS and target - position > ORDER_EPS_T:
                wanted[g] = target - position
        if wanted[DYTB] > 0 or wanted[LIGHT] > 0 or wanted[MOTOR] > 0:
            self.market.buy(self, wanted, day)
        if self.continuous:
            self._schedule_reorder(day)

    def _schedule_reorder(self, day: float) -> None:
        """Continuous review: the next review is when a grade's position falls to its reorder point."""
        self.review_token += 1
        level, rate = self.stock.level, self.stock.rate
        wait = math.inf
        leads, margins = self.market.expected_lead_days(self, day)
        for g in OWN:
            d = rate[g]
            if d <= 0:
                continue
            reorder = max(0.0, d * (self.cover_days + margins[g] + leads[g] - self.batch_days / 2))
            above = level[g] + self.pipeline[g] - reorder
            if d * REACHED_DAYS < above <= level[g] + d * REACHED_DAYS:  # the position falls only while stock lasts
                wait = min(wait, above / d)
        if math.isfinite(wait):
            after(self.env, wait, self._timed_review, self.review_token)

    def _timed_review(self, token: int) -> None:
        if token == self.review_token:
            self.review(clock_now(self.env))

    def ordered(self, grade: int, tonnes: float) -> None:
        self.pipeline[grade] += tonnes

    def plan_outside(self, grade: int, tonnes: float, bought: float, china_free: bool) -> None:
        """What the group plans on for its next order needing a licence: the share of the tonnes it
        ordered since China last shipped freely that came from elsewhere."""
        if china_free:
            self.outside_t[grade] = self.asked_t[grade] = 0.0
            return
        self.outside_t[grade] += min(bought, tonnes)
        self.asked_t[grade] += tonnes
        self.outside_share[grade] = self.outside_t[grade] / self.asked_t[grade]

    def withdraw(self, grade: int, tonnes: float) -> None:
        """Cut `tonnes` of `grade` from the shipments waiting at a Chinese port (bought elsewhere), its
        firms' files in turn."""
        product = ("dytb_magnet", "light_magnet", "motor")[grade]
        for applicant in self.applicants:
            file = applicant.files.get(product)
            if file is not None and tonnes > 0:
                taken = file.withdraw(grade, tonnes)
                self.at_port[grade] -= taken
                self.pipeline[grade] -= taken
                tonnes -= taken

    # --- shipments (Buyer) ------------------------------------------------------------------------
    def receive(self, lots: list[Shipment], now: float) -> None:
        self.stock.advance(now)
        for shipment in lots:
            t = shipment.tonnes
            self.stock.level[shipment.grade] += t
            self.received_t += t
            self.delivered_month_t += t
            self.spend_month_inr += t * shipment.inr_per_t
            self.premium_month_inr += t * shipment.premium_inr_per_t
            if shipment.grade != RESERVE:
                self._off_order(shipment.grade, t)
        if self.continuous:  # the stock now lasts longer: when the reorder point comes has moved
            self.review(now)

    def cancelled(self, shipment: Shipment) -> None:
        """Stopped at the border or refused a licence: the position drops."""
        self._off_order(shipment.grade, shipment.tonnes)
        if self.continuous:
            self.review(clock_now(self.env))

    def _off_order(self, grade: int, tonnes: float) -> None:
        """Take `tonnes` off the order book; what is left within rounding of zero is zero."""
        left = self.pipeline[grade] - tonnes
        self.pipeline[grade] = 0.0 if abs(left) <= 1e-12 * max(1.0, tonnes) else left

    def held(self, shipment: Shipment) -> None:
        self.at_port[shipment.grade] += shipment.tonnes

    def released(self, shipment: Shipment) -> None:
        self.at_port[shipment.grade] -= shipment.tonnes

    def licence_outcome(self, approved: bool) -> None:
        """A refusal for good sends goods back: review now. An approval changes no position (what
        it releases was on order), so the next review is soon enough (pause_ends at six firms a group:
        607 border crossings and 1,480 arrivals a replication when approvals were reviewed too, 292
        and 851 without)."""
        if not approved:
            self.review(clock_now(self.env))

    # --- the month's books ------------------------------------------------------------------------
    def close_month(self, day: float) -> None:
        """Account for the month that ends on `day` in the books, then move to the next."""
        self.stock.advance(day)
        used, short, stock_days, from_chain = self.stock.reset_month()
        m = self.month
        attempted = self.units[m] + self.backlog_units
        ferrite_units = attempted * self.ferrite[m]
        built = min(attempted, ferrite_units + (used / self.kg_t if self.kg_t > 0 else attempted - ferrite_units))
        unmet = attempted - built
        waiting = self.deferred_share * unmet * 0.5 ** (self.days[m] / self.backlog_half_life_days)
        self.books.append(MonthBooks(
            demand_units=self.units[m], built_units=built, lost_units=unmet - waiting, backlog_units=waiting,
            ferrite_units=ferrite_units, need_t=used + short, used_t=used, shortfall_t=short, stock_days=stock_days,
            delivered_t=self.delivered_month_t, stock_t=self.stock.total(), chain_stock_t=self.stock.chain_held(),
            from_chain_t=from_chain, spend_inr=self.spend_month_inr, premium_inr=self.premium_month_inr,
            licence_cover_share=self._covered_days(day - self.days[m], day) / self.days[m]))
        self.backlog_units = waiting
        self.delivered_month_t = self.spend_month_inr = self.premium_month_inr = 0.0
        self.month = min(m + 1, len(self.units) - 1)

    def _covered_days(self, first: float, last: float) -> float:
        """Days of [first, last) in which its firms could ship Dy/Tb grades freely, averaged over them."""
        days = covered_days(first, last, self.market.regime, self.applicants, self.market.china.general_from_day)
        return sum(days) / len(days)

    def imbalance_t(self) -> float:
        """Opening stock + received - used - stock now: zero if no magnet was created or lost."""
        return self.opening_t + self.received_t - self.stock.used_total - self.stock.total()
