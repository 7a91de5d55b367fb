"""One replication: wire the mechanisms into a SimPy environment, run the monthly story, and
return the monthly series (one row per month, columns in `columns(scenario)`).

Every month: arrivals and licence decisions happen when they fall; at the month's end each maker
builds what its magnets allow, the domestic plants produce, and the month is recorded and checked
for conservation; then the next month starts: makers plan, the stockpile releases to short
makers, makers order, and the plants order inputs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import simpy

from resim.model.clock import DAYS_PER_MONTH, Months
from resim.model.domestic import DomesticSector
from resim.model.licensing import LicenceDraws, LicenceOffice
from resim.model.makers import GRADES, Maker
from resim.model.regime import Regime
from resim.model.stockpile import Stockpile
from resim.model.supply import ChinaExporter, OrderBook, Parts, Shipping, Supplier
from resim.sampling import MonthlyDraws, World
from resim.scenario import Scenario

PRODUCTS = ("dytb_magnet", "light_magnet", "dytb_oxide", "ndpr_oxide")
TOTAL_COLUMNS = [
    "demand_units", "built_units", "vehicles_not_built", "ferrite_units",
    "demand_t", "used_t", "shortfall_t",
    "delivered_china_t", "delivered_non_china_t", "delivered_recycling_t", "delivered_domestic_t",
    "delivered_stockpile_t", "delivered_opening_t",
    "maker_stock_t", "in_transit_t", "licences_pending", "licences_pending_t",
    "domestic_output_t", "domestic_warehouse_t", "dytb_short_t", "stockpile_t",
]
SOURCES = ("china", "non_china", "recycling", "domestic", "opening")
OPENING_TRANCHES = 4


class ConservationError(AssertionError):
    """The bookkeeping created or lost material: a bug, never a modelling outcome."""


def columns(scenario: Scenario) -> list[str]:
    per_segment = ("shortfall_t", "vehicles_not_built", "delivered_t", "used_t", "stock_t")
    return TOTAL_COLUMNS + [f"{c}.{s}" for c in per_segment for s in scenario.demand.segments]


def simulate(world: World, seed: int, replication: int, check: bool = False) -> np.ndarray:
    """Run one replication. The books are checked at every month end; with `check`, after
    every event too (slower: for validation runs)."""
    sc = world.scenario
    env = simpy.Environment()
    def monthly(spec: Any, component: str, slots: int = 1) -> MonthlyDraws:
        return MonthlyDraws(spec, seed, replication, component, sc.horizon_months, slots)

    lic = sc.china.licensing
    regime = Regime(world.timeline, float(lic.approval_probability))  # type: ignore[arg-type]
    attempts = lic.max_refilings + 1
    office = LicenceOffice(env, regime, {p: LicenceDraws(
        monthly(lic.decision_delay_days, f"licensing.decision_delay.{p}", attempts),
        monthly(lic.refile_delay_days, f"licensing.refile_delay.{p}", attempts),
        monthly(None, f"licensing.approval.{p}", attempts),
        monthly(sc.china.lead_time_days, f"china.lead_time.licensed.{p}", attempts),
    ) for p in PRODUCTS}, lic.max_refilings, lic.reviewers)
    general_from = (lic.general_licences_from - sc.start).days if lic.general_licences_from else float("-inf")
    magnets, inputs = Shipping(env), Shipping(env)
    china = ChinaExporter(env, regime, office, float(lic.general_licence_share), general_from)  # type: ignore[arg-type]
    months = Months.of(sc.start, sc.horizon_months)
    suppliers = [Supplier(name, spec, months, monthly(spec.lead_time_days, f"supplier.{name}.lead_time"))
                 for name, spec in sc.suppliers.items()]
    domestic = DomesticSector(sc.domestic, sc.heavy_ree, world.plants, months, china,
                              {route: monthly(sc.china.lead_time_days, f"inputs.lead_time.{route}")
                               for route in ("china", "non_china")}, inputs)
    dem = sc.demand
    first_control = regime.first_restriction_day("dytb_magnet")
    redesign_done = None if first_control is None else \
        first_control + float(dem.redesign_to_light_ree_months) * DAYS_PER_MONTH  # type: ignore[arg-type]
    cover_days = float(dem.inventory_cover_weeks) * 7  # type: ignore[arg-type]
    lead_days = float(dem.planning_lead_time_days)  # type: ignore[arg-type]
    makers = [Maker(name, seg, months, redesign_done, cover_days, lead_days)
              for name, seg in dem.segments.items()]
    book = OrderBook(regime, china, suppliers, domestic.warehouse,
                     monthly(sc.domestic.lead_time_days, "domestic.lead_time"),
                     monthly(sc.china.lead_time_days, "china.lead_time"), magnets,
                     float(dem.non_china_min_share))  # type: ignore[arg-type]

    days_in, day_of = [int(d) for d in months.days], months.first_day.tolist()

    # Opening position: stock covering `cover`, and the pipeline of the planning lead time, arriving
    # in equal tranches (one consignment each).
    tranche: Parts = []
    for maker in makers:
        plan = maker.plan_month(0)
        for grade in GRADES:
            rate = plan.need_t[grade] / days_in[0]
            maker.open_with(grade, rate * cover_days)
            tranche.append(([(maker.buyers[grade].receive, 1.0)], rate * lead_days / OPENING_TRANCHES))
            maker.on_order[grade] += rate * lead_days
    for k in range(OPENING_TRANCHES):
        magnets.consign(tranche, "opening", lead_days * (k + 1) / OPENING_TRANCHES)
    opening_t = sum(m.opening_stock_t for m in makers)
    first_need_t = sum(sum(m.plan.need_t.values()) for m in makers)
    pile = sc.levers.stockpile
    stockpile = Stockpile(first_need_t / days_in[0] * float(pile.initial_cover_days),  # type: ignore[arg-type]
                          float(pile.release_below_cover_weeks),  # type: ignore[arg-type]
                          None if pile.max_release_t_per_month is None else float(pile.max_release_t_per_month))  # type: ignore[arg-type]

    cols = columns(sc)
    index = {c: i for i, c in enumerate(cols)}
    rows: list[list[float]] = []  # one per month, in column order
    per_maker = [[index[f"{c}.{m.name}"] for c in ("shortfall_t", "vehicles_not_built", "delivered_t", "used_t",
                                                   "stock_t")] for m in makers]
    totals = [index[c] for c in ("demand_units", "built_units", "vehicles_not_built", "ferrite_units", "demand_t",
                                 "used_t", "shortfall_t", "maker_stock_t")]
    delivered = [index[f"delivered_{source}_t"] for source in SOURCES]
    others = [index[c] for c in ("domestic_output_t", "dytb_short_t", "delivered_stockpile_t", "in_transit_t",
                                 "licences_pending", "licences_pending_t", "domestic_warehouse_t", "stockpile_t")]

    def start_month(m: int) -> None:
        day, days = day_of[m], days_in[m]
        for maker in makers:
            maker.plan_month(m)
        stockpile.release(makers, days)
        approval = regime.approval_probability(day)
        book.place(makers, [maker.order_quantities(days, approval) for maker in makers], m, day)
        domestic.order_inputs(m, day)

    def end_month(m: int) -> None:
        row = [0.0] * len(cols)
        for maker, at in zip(makers, per_maker, strict=True):
            made = maker.produce()
            stock = maker.stock["dytb"] + maker.stock["light"]
            for i, value in zip(totals, (*made, stock), strict=True):
                row[i] += value
            received = maker.received_t - maker.received_before_t
            maker.received_before_t = maker.received_t
            for i, value in zip(at, (made.shortfall_t, made.not_built, received, made.used_t, stock), strict=True):
                row[i] = value
        arrived = magnets.arrived_month_t
        for i, source in zip(delivered, SOURCES, strict=True):
            row[i] = arrived[source]
        arrived.clear()
        for i, value in zip(others, (domestic.produce(m), domestic.dytb_short_month_t, stockpile.released_month_t,
                                     magnets.in_transit_t, len(office.pending), office.pending_tonnes,
                                     sum(domestic.warehouse.values()), stockpile.tonnes), strict=True):
            row[i] = value
        rows.append(row)
        check_books()

    stock_nodes = [f"maker {m.name} {g} stock" for m in makers for g in GRADES] + [
        f"plants' {k} stock" for k in domestic.stock] + [f"plants' warehouse {g}" for g in GRADES] + [
        "stockpile", "magnets in transit", "inputs in transit"]

    def check_books() -> None:
        """No stock is negative, and each node's books balance: makers (opening + received =
        used + stock), the plants' inputs (received = consumed, yield included, + stock), and all
        magnets (what came in = used + stocks + in transit + warehouse + stockpile)."""
        stocks = [m.stock[g] for m in makers for g in GRADES] + list(domestic.stock.values()) + [
            domestic.warehouse[g] for g in GRADES] + [stockpile.tonnes, magnets.in_transit_t, inputs.in_transit_t]
        if min(stocks) < -1e-9:
            node, tonnes = next((node, t) for node, t in zip(stock_nodes, stocks, strict=True) if t < -1e-9)
            raise ConservationError(f"{when()}: {node} is negative: {tonnes:g} t")
        for maker in makers:
            if abs(maker.imbalance_t()) > 1e-6 * max(1.0, maker.received_t):
                raise ConservationError(f"{when()}: maker {maker.name}: opening {maker.opening_stock_t:g} + received "
                                        f"{maker.received_t:g} != used {maker.used_t:g} + stock "
                                        f"{sum(maker.stock.values()):g} t")
        if abs(domestic.input_imbalance_t()) > 1e-6 * max(1.0, sum(domestic.received.values())):
            raise ConservationError(f"{when()}: plants' inputs: received {domestic.received} != consumed "
                                    f"{domestic.consumed} + stock {domestic.stock} t")
        came_in = opening_t + stockpile.initial_t + domestic.produced_t + sum(
            t for source, t in magnets.shipped_t.items() if source != "domestic")
        accounted = (sum(mk.used_t + sum(mk.stock.values()) for mk in makers) + magnets.in_transit_t
                     + sum(domestic.warehouse.values()) + stockpile.tonnes)
        if abs(came_in - accounted) > 1e-6 * max(1.0, came_in):
            raise ConservationError(f"{when()}: all magnets: came in {came_in:g} t, accounted for {accounted:g} t")

    def when() -> str:
        return f"{sc.start + dt.timedelta(days=env.now)} (day {env.now:.2f})"

    def monthly_cycle(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for m in range(sc.horizon_months):
            start_month(m)
            yield env.timeout(days_in[m])
            end_month(m)

    cycle = env.process(monthly_cycle(env))
    if check:  # step event by event, checking the books after each one
        while cycle.is_alive:
            env.step()
            check_books()
    else:
        env.run(until=cycle)
    return np.array(rows)
