"""India's domestic REPM plants under the 6,000 t/yr scheme, and their rare-earth inputs.

Each plant comes online at tender + award delay + commissioning time (drawn per plant), then ramps
linearly to nameplate x utilisation. The plants produce continuously at that rate while NdPr oxide
lasts; the Dy/Tb-grade share needs Dy/Tb too, and without it is made as light-REE grade (the
missing Dy/Tb is reported as `dytb_short_t`). They order inputs once a month (Indian supply first,
then non-China oxide, then China under the regime, as one licence applicant) up to two months of
planned output. Only the EV slice (`ev_share`) of capacity and inputs is followed. Finished
magnets wait in the warehouse until makers buy them: at the domestic price, cheapest first; first
of all by a maker whose own cover is gone; and, with `warehouse_cap_months`, first of all too while
more than that many months of possible output wait unsold (the plants sell what they make, at their
price, rather than pile it up).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from resim.model.clock import DAYS_PER_MONTH, Months, ramp
from resim.model.licensing import INPUTS_CHINA, INPUTS_NON_CHINA, Applicant, Buyer, Shipment
from resim.model.luck import Keyed
from resim.model.supply import ChinaExporter, Shipping
from resim.model.world import drawn
from resim.scenario.schema import Domestic, HeavyRee, Plant

INPUT_COVER_MONTHS: Final = 2.0  # plants order inputs up to two months of planned output
NDPR: Final = 0
DYTB_INPUT: Final = 1
INPUT_PRODUCTS: Final[tuple[str, ...]] = ("ndpr_oxide", "dytb_oxide")


class DomesticPlants(Buyer):
    def __init__(self, spec: Domestic, heavy: HeavyRee, plants: list[Plant], months: Months, index: int,
                 china: ChinaExporter, lead_time: dict[str, Keyed], shipping: Shipping):
        super().__init__()
        ev = drawn(spec.ev_share)  # the model follows only the EV slice
        tender_day = (spec.tender_date - months.start).days
        potential = np.zeros_like(months.days)
        for p in plants:  # each plant: online after award + commissioning, then a linear ramp
            online = tender_day + (drawn(p.award_delay_months) + drawn(p.commissioning_months)) * DAYS_PER_MONTH
            rate = ev * drawn(p.capacity_t_per_year) * drawn(p.utilisation) / 365.25
            potential += rate * months.days * ramp(months.mid_day, online, drawn(p.ramp_months) * DAYS_PER_MONTH)
        self.potential_t: list[float] = potential.tolist()  # magnet output possible each month, inputs plentiful
        cap_months = spec.warehouse_cap_months
        # the most the warehouse keeps unsold each month (t): beyond it, the plants press makers to buy
        self.cap_t: list[float] = [float("inf")] * len(self.potential_t) if cap_months is None else \
            (potential * drawn(cap_months)).tolist()
        self.rate_per_day: list[float] = (potential / months.days).tolist()
        irel_start = ev * drawn(spec.irel_ndpr_oxide_start_t_per_year)
        irel_target = ev * drawn(spec.irel_ndpr_oxide_target_t_per_year)
        irel_frac = ramp(months.mid_day, (spec.irel_ramp_start - months.start).days,
                         drawn(spec.irel_ramp_months) * DAYS_PER_MONTH)
        irel_t: list[float] = ((irel_start + (irel_target - irel_start) * irel_frac) * months.days / 365.25).tolist()
        self.oxide_per_t = drawn(spec.ndpr_oxide_t_per_t_magnet)
        self.dytb_share = drawn(spec.dytb_output_share)
        self.dytb_content = drawn(spec.dytb_content_share)
        self.input_per_t = (self.oxide_per_t, self.dytb_share * self.dytb_content)
        self.local_t: tuple[list[float], list[float]] = (  # NdPr oxide, Dy/Tb: t a month
            irel_t, (ev * drawn(heavy.domestic_dytb_t_per_year) / 365.25 * months.days).tolist())
        self.imported_t: tuple[list[float], list[float]] = (
            (ev * drawn(spec.non_china_ndpr_oxide_t_per_year) / 365.25 * months.days).tolist(),
            (ev * drawn(heavy.alt_dytb_t_per_year) / 365.25 * months.days).tolist())
        self.index = index
        self.applicant = Applicant("domestic_plants", "plant", index, self)
        self.china, self.lead_time, self.shipping = china, lead_time, shipping
        self.stock = [0.0, 0.0]  # NdPr oxide and Dy/Tb at the plants, t
        self.pipeline = [0.0, 0.0]  # ordered, not yet arrived or cancelled
        self.received, self.consumed = [0.0, 0.0], [0.0, 0.0]
        self.warehouse = {"dytb": 0.0, "light": 0.0}  # finished magnets, t
        self.produced_t = self.produced_month_t = self.dytb_short_month_t = 0.0
        self.month, self.since = 0, 0.0

    # --- production: continuous while inputs last ---------------------------------------------------
    def advance(self, now: float) -> None:
        span, rate = now - self.since, self.rate_per_day[self.month]
        if span <= 0:
            return
        self.since = now
        oxide_rate, dytb_rate = rate * self.oxide_per_t, rate * self.dytb_share * self.dytb_content
        run = span if oxide_rate <= 0 else min(span, self.stock[NDPR] / oxide_rate)  # NdPr oxide limits output
        made = rate * run
        with_dytb = run if dytb_rate <= 0 else min(run, self.stock[DYTB_INPUT] / dytb_rate)
        made_dytb = rate * self.dytb_share * with_dytb
        self.dytb_short_month_t += dytb_rate * (run - with_dytb)
        for kind, used in ((NDPR, made * self.oxide_per_t), (DYTB_INPUT, made_dytb * self.dytb_content)):
            used = min(used, self.stock[kind])
            self.stock[kind] -= used
            self.consumed[kind] += used
        self.warehouse["dytb"] += made_dytb
        self.warehouse["light"] += made - made_dytb
        self.produced_t += made
        self.produced_month_t += made

    def pressing(self, day: float) -> bool:
        """Do more than the cap's months of output wait unsold (the plants press makers to buy)?"""
        self.advance(day)
        return self.warehouse["dytb"] + self.warehouse["light"] > self.cap_t[self.month]

    def sell(self, grade: str, tonnes: float, day: float) -> float:
        """Take up to `tonnes` of `grade` out of the warehouse for a maker; return how much."""
        self.advance(day)
        take = min(tonnes, self.warehouse[grade])
        self.warehouse[grade] -= take
        return take

    # --- inputs -------------------------------------------------------------------------------------
    def order_inputs(self, m: int, day: float) -> None:
        """At month start: order NdPr oxide and Dy/Tb up to two months of planned output: Indian
        supply first, then non-China imports, then China (under the regime, at the border)."""
        self.advance(day)
        plan = self.potential_t[m]
        if plan <= 0:
            return
        for kind, product in enumerate(INPUT_PRODUCTS):
            gap = max(0.0, plan * self.input_per_t[kind] * INPUT_COVER_MONTHS - self.stock[kind] - self.pipeline[kind])
            take = min(gap, self.local_t[kind][m])
            self.stock[kind] += take
            self.received[kind] += take
            gap -= take
            take = min(gap, self.imported_t[kind][m])
            if take > 0:
                self.pipeline[kind] += take
                self.shipping.send(Shipment(self, kind, take, product, INPUTS_NON_CHINA), day,
                                   self.lead_time["non_china"].at(day))
            gap -= take
            if gap > 0 and product not in self.china.regime.rules_at(day).banned:
                self.pipeline[kind] += gap
                self.china.order(self.applicant, [Shipment(self, kind, gap, product, INPUTS_CHINA)], day)

    def receive(self, lots: list[Shipment], now: float) -> None:
        self.advance(now)
        for shipment in lots:
            self.stock[shipment.grade] += shipment.tonnes
            self.received[shipment.grade] += shipment.tonnes
            self.pipeline[shipment.grade] -= shipment.tonnes

    def cancelled(self, shipment: Shipment) -> None:
        self.pipeline[shipment.grade] -= shipment.tonnes

    def close_month(self, day: float) -> tuple[float, float]:
        """This month's (output, Dy/Tb short), then move to the next month."""
        self.advance(day)
        out = (self.produced_month_t, self.dytb_short_month_t)
        self.produced_month_t = self.dytb_short_month_t = 0.0
        self.month = min(self.month + 1, len(self.rate_per_day) - 1)
        return out

    def input_imbalance_t(self) -> float:
        """Received - consumed - in stock, summed over NdPr oxide and Dy/Tb: zero if conserved."""
        return sum(self.received[k] - self.consumed[k] - self.stock[k] for k in (NDPR, DYTB_INPUT))
