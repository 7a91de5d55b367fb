"""India's domestic REPM plants under the 6,000 t/yr scheme, and their rare-earth inputs.

Each plant comes online at tender + award delay + commissioning time (drawn per plant), then ramps
linearly to nameplate x utilisation. Output is limited by NdPr oxide in stock (IREL's ramping
supply, non-China oxide, Chinese oxide under the regime) and, for the Dy/Tb-grade share, by Dy/Tb
in stock (non-China and Indian Dy/Tb, Chinese oxide under the regime). Dy/Tb-grade output that
lacks Dy/Tb is made as light-REE grade instead and the missing Dy/Tb is reported as `dytb_short_t`.
Only the EV slice (`ev_share`) of capacity and inputs is followed. Finished magnets wait in the
plants' warehouse until makers order them.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from resim.model.clock import DAYS_PER_MONTH, Months, ramp
from resim.model.licensing import Buyer
from resim.model.supply import ChinaExporter, Parts, Shipping, receivers
from resim.sampling import MonthlyDraws
from resim.scenario import Domestic, HeavyRee, Plant

INPUT_COVER_MONTHS = 2.0  # plants order inputs up to two months of planned output
INPUTS = (("ndpr", "ndpr_oxide"), ("dytb", "dytb_oxide"))  # input and the product China licenses


class DomesticSector:
    def __init__(self, spec: Domestic, heavy: HeavyRee, plants: list[Plant], months: Months,
                 china: ChinaExporter, lead_time: dict[str, MonthlyDraws], shipping: Shipping):
        f = float
        ev = f(spec.ev_share)  # type: ignore[arg-type]  # the model follows only the EV slice
        tender_day = (spec.tender_date - months.start).days
        potential = np.zeros_like(months.days)
        for p in plants:  # each plant: online after award + commissioning, then a linear ramp
            online = tender_day + (f(p.award_delay_months) + f(p.commissioning_months)) * DAYS_PER_MONTH  # type: ignore[arg-type]
            rate = ev * f(p.capacity_t_per_year) * f(p.utilisation) / 365.25  # type: ignore[arg-type]
            potential += rate * months.days * ramp(months.mid_day, online, f(p.ramp_months) * DAYS_PER_MONTH)  # type: ignore[arg-type]
        self.potential_t = potential.tolist()  # magnet output possible if inputs are plentiful
        irel_start = ev * f(spec.irel_ndpr_oxide_start_t_per_year)  # type: ignore[arg-type]
        irel_target = ev * f(spec.irel_ndpr_oxide_target_t_per_year)  # type: ignore[arg-type]
        irel_frac = ramp(months.mid_day, (spec.irel_ramp_start - months.start).days,
                         f(spec.irel_ramp_months) * DAYS_PER_MONTH)  # type: ignore[arg-type]
        self.irel_t = ((irel_start + (irel_target - irel_start) * irel_frac) * months.days / 365.25).tolist()
        self.oxide_per_t = f(spec.ndpr_oxide_t_per_t_magnet)  # type: ignore[arg-type]
        self.dytb_share = f(spec.dytb_output_share)  # type: ignore[arg-type]
        self.dytb_content = f(spec.dytb_content_share)  # type: ignore[arg-type]
        # per input, per month: t needed per t of planned magnet output; Indian and non-China supply (t)
        self.input_per_t = {"ndpr": self.oxide_per_t, "dytb": self.dytb_share * self.dytb_content}
        self.local_t = {"ndpr": self.irel_t,
                        "dytb": (ev * f(heavy.domestic_dytb_t_per_year) / 365.25 * months.days).tolist()}  # type: ignore[arg-type]
        self.imported_t = {
            "ndpr": (ev * f(spec.non_china_ndpr_oxide_t_per_year) / 365.25 * months.days).tolist(),  # type: ignore[arg-type]
            "dytb": (ev * f(heavy.alt_dytb_t_per_year) / 365.25 * months.days).tolist()}  # type: ignore[arg-type]
        self.china, self.lead_time, self.shipping = china, lead_time, shipping
        self.stock = {"ndpr": 0.0, "dytb": 0.0}  # oxide and Dy/Tb at the plants, t
        self.on_order = {"ndpr": 0.0, "dytb": 0.0}
        self.licence_pending_t = {"ndpr": 0.0, "dytb": 0.0}
        self.buyers = {k: Buyer(partial(self._receive, k), partial(self._granted, k), partial(self._abandoned, k))
                       for k in self.stock}
        self.own = {k: [(buyer, 1.0)] for k, buyer in self.buyers.items()}  # the plants buy alone
        self.receivers = {k: receivers(split) for k, split in self.own.items()}
        self.received = {"ndpr": 0.0, "dytb": 0.0}  # cumulative
        self.consumed = {"ndpr": 0.0, "dytb": 0.0}
        self.warehouse = {"dytb": 0.0, "light": 0.0}  # finished magnets, t
        self.produced_t = 0.0
        self.dytb_short_month_t = 0.0

    def order_inputs(self, m: int, day: float) -> None:
        """At month start: order NdPr oxide and Dy/Tb up to two months of planned output, from
        Indian supply first, then non-China imports, then China (under the regime). Each route's
        inputs travel together, with the China shipping lead time (drawn per month and route)."""
        plan = self.potential_t[m]
        if plan <= 0:
            return
        approval = self.china.regime.approval_probability(day)
        non_china: Parts = []
        china: Parts = []
        for kind, product in INPUTS:
            position = self.stock[kind] + self.on_order[kind] + approval * self.licence_pending_t[kind]
            gap = max(0.0, plan * self.input_per_t[kind] * INPUT_COVER_MONTHS - position)
            take = min(gap, self.local_t[kind][m])
            self._receive(kind, take, ordered=False)
            gap -= take
            take = min(gap, self.imported_t[kind][m])
            if take > 0:
                non_china.append((self.receivers[kind], take))
                self.on_order[kind] += take
            gap -= take
            shipped, filed = self.china.order(product, self.own[kind], gap, china, self.shipping, m)
            self.on_order[kind] += gap * shipped
            self.licence_pending_t[kind] += gap * filed
        self.shipping.consign(non_china, "non_china", self.lead_time["non_china"](m))
        self.shipping.consign(china, "china", self.lead_time["china"](m))

    def _receive(self, kind: str, tonnes: float, ordered: bool = True) -> None:
        self.stock[kind] += tonnes
        self.received[kind] += tonnes
        if ordered:
            self.on_order[kind] -= tonnes

    def _granted(self, kind: str, tonnes: float) -> None:
        self.licence_pending_t[kind] -= tonnes
        self.on_order[kind] += tonnes

    def _abandoned(self, kind: str, tonnes: float) -> None:
        self.licence_pending_t[kind] -= tonnes

    def produce(self, m: int) -> float:
        """At month end: make what capacity and inputs allow; return tonnes of magnet made."""
        total = self.potential_t[m]
        if self.oxide_per_t > 0:
            total = min(total, self.stock["ndpr"] / self.oxide_per_t)
        want_dytb = total * self.dytb_share
        made_dytb = want_dytb if self.dytb_content <= 0 else min(want_dytb, self.stock["dytb"] / self.dytb_content)
        self.dytb_short_month_t = (want_dytb - made_dytb) * self.dytb_content
        for kind, used in (("ndpr", total * self.oxide_per_t), ("dytb", made_dytb * self.dytb_content)):
            self.stock[kind] -= used
            self.consumed[kind] += used
        self.warehouse["dytb"] += made_dytb
        self.warehouse["light"] += total - made_dytb
        self.produced_t += total
        return total

    def input_imbalance_t(self) -> float:
        """Received - consumed - in stock, summed over NdPr oxide and Dy/Tb: zero if conserved."""
        return sum(self.received[k] - self.consumed[k] - self.stock[k] for k in self.stock)
