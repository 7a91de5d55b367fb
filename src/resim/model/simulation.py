"""One replication: wire the mechanisms into a SimPy environment, run the story in continuous
time, and return the monthly series (one row per month, columns in `columns(scenario)`).

The story: maker groups build vehicles continuously, using magnets as they go. They review their
position every review period (or continuously, at their reorder point), at once whenever China's
rules change, and whenever one of their licence files is settled; each review orders what the
position lacks from the cheapest source that can deliver. Orders with China reach the border after
an export processing time, where the rules of that day let them pass, hold them for a licence, or
stop them. Shipments land when they land; a month's end only closes its books: what was built,
used, short, deferred, lost and paid, checked for conservation.

Order of same-time events: arrivals, licence outcomes and regime-change reviews (URGENT), then
month ends and periodic reviews (NORMAL), each group in order of priority.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Generator
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
import simpy

from resim.model.books import OTHER_COLUMNS, Books
from resim.model.clock import DAYS_PER_MONTH, Months, after, weeks_in
from resim.model.domestic import INPUT_PRODUCTS, DomesticPlants
from resim.model.licensing import FILES_PER_SPAN, LicenceDraws, LicenceOffice
from resim.model.luck import Keyed, KeyedDraws
from resim.model.makers import MONTH_FIELDS, GroupSpec, MakerGroup
from resim.model.market import PRODUCT, Market, PlannedDays
from resim.model.regime import Regime
from resim.model.stockpile import Stockpile
from resim.model.streams import first_uniforms
from resim.model.supply import ROUTE, ChinaExporter, DytbPool, MonthOf, Shipping, Supplier
from resim.model.world import World, drawn, per_event
from resim.scenario.params import _Spec
from resim.scenario.schema import Scenario

TOTAL_COLUMNS = [
    "demand_units", "built_units", "vehicles_not_built", "lost_units", "backlog_units", "ferrite_units",
    "demand_t", "used_t", "shortfall_t",
    "delivered_china_t", "delivered_motor_t", "delivered_non_china_t", "delivered_recycling_t",
    "delivered_domestic_t", "delivered_stockpile_t", "delivered_chain_t",
    "maker_stock_t", "chain_stock_t", "cover_days", "in_transit_t", "held_at_port_t",
    "licences_pending", "licences_pending_t", "licences_decided", "licences_approved",
    "domestic_output_t", "domestic_warehouse_t", "dytb_short_t", "stockpile_t",
    "magnet_spend_inr", "premium_inr", "value_not_built_inr",
]
PER_GROUP = ("demand_t", "used_t", "shortfall_t", "delivered_t", "stock_t", "demand_units", "vehicles_not_built",
             "lost_units")
GROUP_ONLY = ("licence_cover_share",)  # per group, not summed over a segment (a share of time)
TOTALS_FROM_GROUPS = ("demand_units", "built_units", "vehicles_not_built", "lost_units", "backlog_units",
                      "ferrite_units", "demand_t", "used_t", "shortfall_t", "maker_stock_t", "chain_stock_t",
                      "delivered_chain_t", "magnet_spend_inr",
                      "premium_inr", "value_not_built_inr")
OPENING_TRANCHES = 8  # the opening pipeline lands at lead x (k - 1/2) / 8: the first well within any cover
ROUTES = sorted(set(ROUTE.values()))
# Magnets bought abroad, from China or elsewhere, share a week's transit luck (each route its own
# lead-time distribution at one uniform): the sea leg into India's ports and its customs are common,
# and a lever that moves tonnes between sources keeps their luck (of 400 paired replications of
# pause_ends, worse by over 1 t with domestic x2, Korea/Vietnam and Japan capacity: 20, 11 and 14,
# against 31, 32 and 52 with a stream per supplier and one for China).
MAGNET_TRANSIT = "magnets.transit"


def group_specs(scenario: Scenario) -> list[GroupSpec]:
    """Every maker group, segment by segment, with the segment's values where it sets none."""
    dem = scenario.demand
    out = []
    for seg_name, seg in dem.segments.items():
        for name, g in seg.groups.items():
            def pick(own: Any, inherited: Any) -> float:
                return drawn(inherited if own is None else own)
            cover_days = pick(g.inventory_cover_weeks, dem.inventory_cover_weeks) * 7
            chain_days = pick(g.chain_cover_weeks, seg.chain_cover_weeks) * 7
            out.append(GroupSpec(
                seg_name, name, drawn(seg.units_per_year) * g.share, seg.base_date, drawn(seg.growth_per_year),
                pick(g.ndfeb_kg_per_vehicle, seg.ndfeb_kg_per_vehicle),
                pick(g.dytb_grade_share, seg.dytb_grade_share), pick(g.min_dytb_grade_share, seg.min_dytb_grade_share),
                pick(g.redesign_to_light_ree_months, dem.redesign_to_light_ree_months), cover_days, chain_days,
                drawn(seg.ferrite_share_start), drawn(seg.ferrite_share_target), seg.ferrite_target_date,
                drawn(g.non_china_access), drawn(g.motor_import_start_share), drawn(g.motor_import_max_share),
                drawn(g.motor_shift_per_month), g.licence_class,
                dem.licence_applicants_per_group,
                drawn(g.general_licence_customer), g.priority,
                drawn(seg.vehicle_value_inr)))
    return out


def group_keys(scenario: Scenario) -> list[str]:
    """`segment.group` for every maker group, in file order."""
    return [f"{s}.{g}" for s, seg in scenario.demand.segments.items() for g in seg.groups]


def columns(scenario: Scenario) -> list[str]:
    per_segment = [f"{c}.{s}" for c in PER_GROUP for s in scenario.demand.segments]
    per_group = [f"{c}.{g}" for c in (*PER_GROUP, *GROUP_ONLY) for g in group_keys(scenario)]
    return TOTAL_COLUMNS + per_segment + per_group


def motor_premium_inr_per_t(sc: Scenario, spec: GroupSpec) -> float:
    """What a tonne of magnet costs above China's magnet price when it comes inside an imported motor:
    the duty on the whole motor and the local-fitment subsidy the vehicles lose."""
    prices = sc.prices
    magnet_share = max(drawn(prices.motor_magnet_value_share), 1e-9)
    motor_value_per_t = drawn(prices.china_inr_per_kg["dytb"]) * 1000 / magnet_share
    duty = drawn(prices.motor_duty_share) * motor_value_per_t
    vehicles_per_t = 1000 / spec.kg_per_vehicle if spec.kg_per_vehicle > 0 else 0.0
    return duty + drawn(prices.motor_subsidy_loss_inr_per_vehicle) * vehicles_per_t


@functools.lru_cache(maxsize=1024)
def margin_of(spec: Any, service_level: float, spread: float = 1.0) -> float:
    """A per-event parameter's `service_level` quantile minus its mean, its spread widened by
    `spread` (`_Spec.widened`): the days of spread a buyer's safety stock covers (0 for a fixed value)."""
    if not isinstance(spec, _Spec) or spec.is_fixed:
        return 0.0
    return max(0.0, float(spec.widened(spec.ppf(service_level), spread)) - mean_of(spec, spread))


@functools.lru_cache(maxsize=256)
def mean_of(spec: Any, spread: float = 1.0) -> float:
    """The mean of a per-event parameter (what a buyer plans on), its spread widened by `spread`,
    from 512 quantiles: once per spec and spread (frozen, so hashable), not per replication (0.11 ms
    of its set-up)."""
    if not isinstance(spec, _Spec):
        return float(spec)
    if spec.is_fixed:
        return float(spec.support()[0])
    return float(np.mean(spec.widened(spec.ppf((np.arange(512) + 0.5) / 512), spread)))


def contract_shares(groups: list[MakerGroup], months: Months) -> tuple[list[list[float]], list[list[float]]]:
    """Each group's share ([group][month]) of every non-China supplier's output for India, and of its
    Dy/Tb-grade output and the non-China Dy/Tb: the group's planned need for magnets bought as
    magnets (not inside imported motors), or for Dy/Tb-grade ones, times its access to non-China
    contracts, over all groups'. Plans only, so no group's luck moves another's share."""
    magnets = np.array([g.planned_need_t_per_day * (1 - np.array(g.motor)) * g.non_china_access for g in groups])
    dytb = magnets * np.array([g.dytb_shares(months.mid_day) for g in groups])

    def shares(need: np.ndarray) -> list[list[float]]:
        total = need.sum(axis=0)
        return np.divide(need, total, out=np.zeros_like(need), where=total > 0).tolist()

    return shares(magnets), shares(dytb)


def simulate(world: World, seed: int, replication: int, check: bool = False) -> np.ndarray:
    """Run one replication. The books are checked at every month end; with `check`, after every
    event too (slower: for validation runs)."""
    sc = world.scenario
    env = simpy.Environment()
    months = Months.of(sc.start, sc.horizon_months)
    month_of = MonthOf(months)
    specs = sorted(group_specs(sc), key=lambda g: -g.priority)  # stable: file order within a priority
    # licence applicants: each group's first firm, the domestic plants, then the groups' other firms
    firm_indices: list[list[int]] = []
    applicants = len(specs) + 1
    for spec in specs:
        firm_indices.append([len(firm_indices), *range(applicants, applicants + spec.licence_applicants - 1)])
        applicants += spec.licence_applicants - 1

    horizon_days = float(months.first_day[-1] + months.days[-1])
    weeks = weeks_in(horizon_days)  # per-event draws are keyed by calendar week (licences: by file number)

    def keyed(spec: Any, component: str, scale: float = 1.0, spread: float = 1.0) -> Keyed:
        return Keyed(KeyedDraws(spec, seed, replication, component, weeks, scale=scale, spread=spread))

    lic, china_spec = sc.china.licensing, sc.china
    lead_scale, decision_scale = drawn(china_spec.lead_time_scale), drawn(lic.decision_delay_scale)
    lead_spread = drawn(china_spec.lead_time_spread)
    service = drawn(sc.demand.service_level)
    regime = Regime(world.timeline, drawn(lic.approval_probability),
                    {k: drawn(v) for k, v in lic.class_approval_probability.items()})
    licence_slots = LicenceOffice.slots(applicants, lic.max_refilings + 1)
    licence_products = (*PRODUCT, *INPUT_PRODUCTS)
    shipping = Shipping(env)

    def by_file(spec: _Spec | None, component: str, scale: float = 1.0) -> KeyedDraws:
        return KeyedDraws(spec, seed, replication, component, regime.spans * FILES_PER_SPAN, licence_slots, scale)

    china: ChinaExporter  # made below: the office tells it of each decision
    office = LicenceOffice(env, regime, {p: LicenceDraws(
        by_file(per_event(lic.decision_delay_days), f"licensing.decision_delay.{p}", decision_scale).draw,
        by_file(per_event(lic.refile_delay_days), f"licensing.refile_delay.{p}").draw,
        by_file(None, f"licensing.approval.{p}").draw,
    ) for p in licence_products}, lic.max_refilings, lic.reviewers, drawn(lic.validity_days), applicants,
        on_decided=lambda file, approved: china.decided(file, approved),
        renewal_lead_days=mean_of(lic.decision_delay_days) * decision_scale if lic.renewal_lead_days is None
        else drawn(lic.renewal_lead_days))
    general_from = (lic.general_licences_from - sc.start).days if lic.general_licences_from else math.inf
    china = ChinaExporter(
        env, regime, office, shipping,
        {r: keyed(china_spec.export_processing_days, f"china.export_processing.{r}") for r in ROUTES},
        {r: keyed(china_spec.lead_time_days, MAGNET_TRANSIT if r == "magnets" else f"china.lead_time.{r}",
                  lead_scale, lead_spread) for r in ROUTES},
        {"motor": drawn(china_spec.motor_extra_lead_days)}, general_from)
    for day in sorted({d for d, _ in world.timeline if d > 0} | ({general_from} - {math.inf})):
        after(env, day, china.release_covered)  # goods held at a port ship once nothing stops them

    first_control = regime.first_restriction_day("dytb_magnet")
    review = sc.demand.review
    groups: list[MakerGroup] = []
    for i, spec in enumerate(specs):
        redesign_day = None if first_control is None else first_control + spec.redesign_months * DAYS_PER_MONTH
        group = MakerGroup(spec, i, firm_indices[i], months, redesign_day, first_control, review.period_days,
                           review.order_batch_days,
                           drawn(sc.demand.deferred_share), drawn(sc.demand.backlog_half_life_days),
                           drawn(china_spec.motor_extra_lead_days), motor_premium_inr_per_t(sc, spec))
        groups.append(group)
    # each firm's Chinese suppliers hold a general licence naming it, or not: the first draw of its own stream
    firms = [(firm, group.spec.general_licence_customer) for group in groups for firm in group.applicants]
    luck = first_uniforms(seed, replication, [f"general_licence.{firm.name}" for firm, _ in firms])
    for (firm, odds), u in zip(firms, luck, strict=True):
        firm.general_customer = bool(u < odds)

    shares, dytb_shares = contract_shares(groups, months)
    carry = sc.demand.non_china_carry_months
    suppliers = [Supplier(name, spec, months, keyed(spec.lead_time_days, MAGNET_TRANSIT), first_control,
                          shares, dytb_shares, carry)
                 for name, spec in sc.suppliers.items()]
    plants = DomesticPlants(sc.domestic, sc.heavy_ree, world.plants, months, len(specs), china,
                            {"non_china": keyed(china_spec.lead_time_days, "inputs.lead_time.non_china")}, shipping)
    imports = [s.spec.lead_time_days for s in suppliers if s.kind == "import"]
    market = Market(regime, china, suppliers, DytbPool(sc.heavy_ree, months, dytb_shares, carry), plants,
                    keyed(sc.domestic.lead_time_days, "domestic.lead_time"), month_of,
                    drawn(sc.demand.non_china_min_share),
                    (drawn(sc.prices.china_inr_per_kg["dytb"]), drawn(sc.prices.china_inr_per_kg["light"])),
                    drawn(sc.domestic.cost_premium_share),
                    PlannedDays(mean_of(china_spec.export_processing_days),
                                mean_of(china_spec.lead_time_days, lead_spread) * lead_scale,
                                mean_of(lic.decision_delay_days) * decision_scale,
                                float(np.mean([mean_of(s) for s in imports])) if imports else 0.0),
                    PlannedDays(margin_of(china_spec.export_processing_days, service),
                                margin_of(china_spec.lead_time_days, service, lead_spread) * lead_scale,
                                margin_of(lic.decision_delay_days, service) * decision_scale,
                                float(np.mean([margin_of(s, service) for s in imports])) if imports else 0.0))
    pile = sc.levers.stockpile
    for group in groups:
        group.market, group.env = market, env

    # --- the opening position: stock of the cover, and each grade's pipeline arriving in tranches ---
    for group in groups:
        group.set_rates(0.0)
    ready_day = 0.0 if pile.ready_date is None else max(0.0, float((pile.ready_date - sc.start).days))
    if ready_day > 0:  # sized on the need of the month it is ready
        ready_need = sum(float(g.planned_need_t_per_day[month_of.index(ready_day)]) for g in groups)
    else:
        ready_need = sum(sum(g.stock.rate) for g in groups)
    stockpile = Stockpile(ready_need * drawn(pile.initial_cover_days), drawn(pile.release_below_cover_weeks),
                          None if pile.max_release_t_per_month is None else drawn(pile.max_release_t_per_month),
                          ready_day)
    for group in groups:
        group.stockpile = stockpile if stockpile.initial_t > 0 else None
        leads, margins = market.expected_lead_days(group, 0.0)
        for shipment in group.open_with(leads, margins):
            tonnes, lead = shipment.tonnes / OPENING_TRANCHES, leads[shipment.grade]
            for k in range(OPENING_TRANCHES):
                lot = market.opening_lot(group, shipment.grade, tonnes)
                shipping.send(lot, 0.0, lead * (k + 0.5) / OPENING_TRANCHES)
    books = Books(groups, plants, stockpile, shipping, sc.start)

    others: list[list[float]] = []  # [month][OTHER_COLUMNS]; each group keeps its own books

    def close_month(day: float) -> None:
        for g in groups:
            g.close_month(day)
        others.append(books.close_month(office, day))

    def review_all(day: float) -> None:
        for g in groups:
            g.review(day)

    def months_process(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        day_of = months.first_day.tolist() + [float(months.first_day[-1] + months.days[-1])]
        plants.order_inputs(0, 0.0)
        market.contract_month(groups, 0, 0.0, float(months.days[0]))
        review_all(0.0)
        for m in range(sc.horizon_months):
            yield env.timeout(day_of[m + 1] - env.now)
            day = env.now
            close_month(day)
            if m + 1 < sc.horizon_months:
                for g in groups:
                    g.set_rates(day)
                    if g.continuous:
                        g.review(day)
                plants.order_inputs(m + 1, day)
                market.contract_month(groups, m + 1, day, float(months.days[m + 1]))

    def periodic_reviews(env: simpy.Environment, period: float) -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(period)
            review_all(env.now)

    for day in regime.change_days(horizon_days):
        after(env, day, review_all, day)

    def redesign(group: MakerGroup) -> None:
        group.set_rates(env.now)
        if group.continuous:
            group.review(env.now)

    for group in groups:
        if group.redesign_day is not None and 0 < group.redesign_day < horizon_days:
            after(env, group.redesign_day, redesign, group)

    story = env.process(months_process(env))
    if review.period_days is not None:
        env.process(periodic_reviews(env, float(review.period_days)))
    if check:  # step event by event, checking the books after each one
        while story.is_alive:
            env.step()
            books.check(env.now)
    else:
        env.run(until=story)
    return monthly_table(sc, groups, others)


def monthly_table(sc: Scenario, groups: list[MakerGroup], others: list[list[float]]) -> np.ndarray:
    """The run's series (months x `columns(sc)`) from each group's monthly books and the other
    monthly figures: per-group columns, their sums per segment, totals (one pass of numpy at the
    end rather than a row of additions per month; measured under cProfile: the month-end step with
    its assembly 11% -> 9% of a replication)."""
    cols = columns(sc)
    at = {c: i for i, c in enumerate(cols)}
    # read flat, then shaped: half the time of np.array on nested sequences (0.23 against 0.47 ms)
    shape = (len(groups), len(others), len(MONTH_FIELDS))
    flat = chain.from_iterable(map(attrgetter(*MONTH_FIELDS), chain.from_iterable(g.books for g in groups)))
    # month, group, field; laid out as numpy's sums expect it (a strided view sums in another order)
    books = np.ascontiguousarray(np.fromiter(flat, float, count=math.prod(shape)).reshape(shape).transpose(1, 0, 2))
    field = {name: books[:, :, k] for k, name in enumerate(MONTH_FIELDS)}
    not_built = field["demand_units"] - field["built_units"]
    per_group = dict(zip(PER_GROUP, (field["need_t"], field["used_t"], field["shortfall_t"], field["delivered_t"],
                                     field["stock_t"], field["demand_units"], not_built, field["lost_units"]),
                         strict=True))
    value_not_built = not_built * np.array([g.spec.vehicle_value_inr for g in groups])
    out = np.zeros((len(others), len(cols)))
    segments = list(sc.demand.segments)
    in_segment = np.array([[g.spec.segment == s for s in segments] for g in groups], dtype=float)  # groups x segments
    for c, values in per_group.items():
        out[:, [at[f"{c}.{g.name}"] for g in groups]] = values
        out[:, [at[f"{c}.{s}"] for s in segments]] = values @ in_segment
    for c in GROUP_ONLY:
        out[:, [at[f"{c}.{g.name}"] for g in groups]] = field[c]
    totals = dict(per_group, value_not_built_inr=value_not_built, demand_t=field["need_t"],
                  maker_stock_t=field["stock_t"], chain_stock_t=field["chain_stock_t"],
                  delivered_chain_t=field["from_chain_t"], magnet_spend_inr=field["spend_inr"],
                  premium_inr=field["premium_inr"],
                  **{c: field[c] for c in ("demand_units", "built_units", "backlog_units", "ferrite_units")})
    for c in TOTALS_FROM_GROUPS:
        out[:, at[c]] = totals[c].sum(axis=1)
    need, stock_days = field["need_t"].sum(axis=1), field["stock_days"].sum(axis=1)
    out[:, at["cover_days"]] = np.divide(stock_days, need, out=np.zeros_like(need), where=need > 0)
    out[:, [at[c] for c in OTHER_COLUMNS]] = np.array(others, dtype=float).reshape(len(others), len(OTHER_COLUMNS))
    return out
