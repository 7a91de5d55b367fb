"""The model's credentials: cases whose answers are known in closed form, run through the model's
own components, and compared with the closed form within a confidence interval derived from the
replications (not a loose fixed tolerance).

* Licensing as a queue (LicenceOffice): Poisson filings, exponential decisions by c reviewers give
  the Erlang C mean wait (M/M/c); with unlimited reviewers the mean number pending is arrival
  rate x mean delay (Little's law, any delay distribution).
* Replenishment (Shipping, the event clock, keyed lead-time draws): one-for-one base-stock with
  Poisson demand and random lead times gives the fill rate poisson.cdf(S - 1, rate x mean lead
  time) (Palm's theorem).
* Whole scenarios with every figure fixed: the month-by-month shortfall equals a hand calculation,
  and with China removed it equals demand minus the other sources' capacity.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.stats as st
import simpy

from resim.model.clock import Months, after
from resim.model.licensing import CHINA, NON_CHINA, Applicant, Buyer, LicenceDraws, LicenceFile, LicenceOffice, Shipment
from resim.model.luck import KeyedDraws
from resim.model.regime import Regime
from resim.model.streams import event_rng
from resim.model.supply import Shipping
from resim.results.statistics import SHORT_T, mean_half_width
from resim.scenario import bundled
from resim.scenario.params import Exponential, Fixed, LogNormal
from resim.scenario.schema import RuleSet, Scenario

CONFIDENCE = 0.99
SEED = 20261110  # every oracle uses the project's master seed (chosen beforehand, not per oracle)


@dataclass(frozen=True)
class OracleResult:
    name: str
    what: str
    unit: str
    expected: float
    simulated: float
    ci: tuple[float, float]
    replications: int
    at_most: bool = False  # `expected` is a bound the whole interval must lie under, not a value it must cover

    @property
    def passed(self) -> bool:
        if self.at_most:
            return self.ci[1] <= self.expected
        return self.ci[0] <= self.expected <= self.ci[1]


def interval(values: np.ndarray) -> tuple[float, tuple[float, float]]:
    """Mean and its t-interval across replications (a point when there is no spread)."""
    mean = float(values.mean())
    if len(values) < 2 or np.ptp(values) == 0:
        return mean, (mean, mean)
    half = mean_half_width(values, CONFIDENCE)
    return mean, (mean - half, mean + half)


# --- licensing ---------------------------------------------------------------------------------

class _Sink(Buyer):
    """An oracle's applicant: it takes what it is given and needs nothing else."""

    def receive(self, lots: list[Shipment], now: float) -> None:
        pass

    def cancelled(self, shipment: Shipment) -> None:
        pass


def _licence_run(seed: int, rep: int, arrivals_per_day: float, delay: Any, reviewers: int | None,
                 horizon_days: float, on_day: Callable[[LicenceOffice], None] | None = None,
                 warmup_days: float = 0.0) -> list[LicenceFile]:
    """Poisson arrivals of applicants, each filing one file with the model's LicenceOffice (every
    decision an approval); return the files. Draws are keyed by the applicant's number."""
    env = simpy.Environment()
    n = int(arrivals_per_day * horizon_days * 1.5) + 50
    product = "dytb_magnet"
    slots = LicenceOffice.slots(n, 1)

    def by_applicant(spec: Any, component: str) -> Any:  # each applicant files once: key by applicant only
        draws = KeyedDraws(spec, seed, rep, component, 1, slots)
        return lambda week, slot: draws.draw(0, slot)

    office = LicenceOffice(env, Regime([(-1.0, RuleSet(licensed=[product]))], 1.0, {}), {product: LicenceDraws(
        by_applicant(delay, "oracle.decision_delay"), by_applicant(Fixed(value=0), ""),
        by_applicant(None, "oracle.approval"))},
        max_refilings=0, reviewers=reviewers, validity_days=0.0, applicants=n, on_decided=lambda f, ok: None)
    gaps = event_rng(seed, rep, "oracle.arrivals").exponential(1 / arrivals_per_day, n)
    filed: list[LicenceFile] = []

    def arrive(i: int) -> None:
        applicant = Applicant(f"a{i}", "maker", i, _Sink())
        office.hold(applicant, Shipment(applicant.buyer, 0, 0.0, product, CHINA))
        filed.append(applicant.files[product])
        if i + 1 < n:
            after(env, gaps[i + 1], arrive, i + 1)

    after(env, gaps[0], arrive, 0)
    if on_day is not None:
        def sample(day: int) -> None:
            on_day(office)
            after(env, 1.0, sample, day + 1)
        after(env, warmup_days, sample, 0)
    env.run(until=horizon_days)
    return filed


def erlang_c_wait_days(arrivals_per_day: float, mean_delay_days: float, reviewers: int) -> float:
    """Mean wait for a reviewer in an M/M/c queue (Erlang C)."""
    a, c = arrivals_per_day * mean_delay_days, reviewers
    top = a**c / math.factorial(c) * c / (c - a)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c / mean_delay_days - arrivals_per_day)


def mmc_wait(replications: int = 80, seed: int = SEED) -> OracleResult:
    lam, mean_delay, c, horizon, warmup = 0.8, 4.0, 4, 6000.0, 300.0
    per_rep = []
    for rep in range(replications):
        apps = _licence_run(seed, rep, lam, Exponential(dist="exponential", mean=mean_delay), c, horizon)
        settled = [a.waited_days for a in apps if warmup <= a.queued_since <= horizon - 200]
        per_rep.append(np.mean(settled))
    mean, ci = interval(np.array(per_rep))
    return OracleResult("licence queue, M/M/c (Erlang C)",
                        f"filings Poisson {lam}/day, decisions exponential mean {mean_delay} d, {c} reviewers: "
                        "mean wait for a reviewer", "days", erlang_c_wait_days(lam, mean_delay, c), mean, ci,
                        replications)


def littles_law(replications: int = 30, seed: int = SEED) -> OracleResult:
    lam, delay = 2.0, LogNormal(dist="lognormal", median=40, p90=80)
    mean_delay = float(delay.frozen.mean())
    per_rep = [_mean_pending(seed, rep, lam, delay) for rep in range(replications)]
    mean, ci = interval(np.array(per_rep))
    return OracleResult("licences pending, Little's law", f"filings Poisson {lam}/day, decisions lognormal "
                        f"(mean {mean_delay:.1f} d), unlimited reviewers: mean number pending", "files",
                        lam * mean_delay, mean, ci, replications)


def _mean_pending(seed: int, rep: int, lam: float, delay: Any) -> float:
    """Time-average number of files pending, sampled daily after a warm-up."""
    counts: list[int] = []
    _licence_run(seed, rep, lam, delay, None, 1500.0, on_day=lambda office: counts.append(len(office.pending)),
                 warmup_days=300.0)
    return float(np.mean(counts))


# --- replenishment -----------------------------------------------------------------------------

BASE_STOCK = {"demand_per_day": 1.0, "base_stock": 12, "horizon_days": 3000.0, "warmup_days": 200.0}


def base_stock_fill_rate(replications: int = 30, seed: int = SEED) -> OracleResult:
    """Palm's theorem: with random lead times, the fill rate depends on their mean only."""
    return _base_stock(LogNormal(dist="lognormal", median=8, p90=16), "Palm: lognormal lead", replications, seed)


def base_stock_fixed_lead(replications: int = 30, seed: int = SEED) -> OracleResult:
    """The textbook case: a fixed lead time L, fill rate = P(Poisson(lambda L) <= S - 1)."""
    return _base_stock(Fixed(value=8.0), "fixed lead", replications, seed)


def _base_stock(lead: Any, kind: str, replications: int, seed: int) -> OracleResult:
    per_rep = [_fill_rate(seed, rep, lead) for rep in range(replications)]
    mean, ci = interval(np.array(per_rep))
    lam, s = BASE_STOCK["demand_per_day"], int(BASE_STOCK["base_stock"])
    mean_lead = float(lead.value) if isinstance(lead, Fixed) else float(lead.frozen.mean())
    return OracleResult(f"base-stock fill rate ({kind})", f"Poisson demand {lam}/day, {kind} time (mean "
                        f"{mean_lead:.1f} d), base stock {s}: share of demand filled from stock", "fraction",
                        float(st.poisson.cdf(s - 1, lam * mean_lead)), mean, ci, replications)


def _fill_rate(seed: int, rep: int, lead: Any) -> float:
    """One-for-one replenishment through the model's Shipping: each demand orders one unit;
    demand that finds no stock waits for the next arrival (backorder)."""
    lam, horizon, warmup = BASE_STOCK["demand_per_day"], BASE_STOCK["horizon_days"], BASE_STOCK["warmup_days"]
    n = int(lam * horizon * 1.5) + 50
    env = simpy.Environment()
    shipping = Shipping(env)
    lead_days = KeyedDraws(lead, seed, rep, "oracle.lead_time", n)
    gaps = event_rng(seed, rep, "oracle.demand").exponential(1 / lam, n)
    state = {"on_hand": float(BASE_STOCK["base_stock"]), "backorders": 0.0, "demands": 0.0, "filled": 0.0}

    class Store(_Sink):
        def receive(self, lots: list[Shipment], now: float) -> None:
            for _ in lots:
                if state["backorders"] > 0:
                    state["backorders"] -= 1
                else:
                    state["on_hand"] += 1

    store = Store()

    def demand(i: int) -> None:
        if env.now >= warmup:
            state["demands"] += 1
            state["filled"] += state["on_hand"] > 0
        if state["on_hand"] > 0:
            state["on_hand"] -= 1
        else:
            state["backorders"] += 1
        shipping.send(Shipment(store, 0, 1.0, "", NON_CHINA), env.now, lead_days.draw(i))
        if i + 1 < n:
            after(env, gaps[i + 1], demand, i + 1)

    after(env, gaps[0], demand, 0)
    env.run(until=horizon)
    return state["filled"] / state["demands"]


# --- whole scenarios -----------------------------------------------------------------------------

# One segment needing exactly 1 t/day of light-REE magnet (1,000 vehicles x 1 kg), China banned
# throughout, one non-China supplier of 0.5 t/day with no lead time, no plants, no stocks: every
# figure fixed. The known-answer cases (here and in the tests) vary it.
MINIMAL_SCENARIO: dict[str, Any] = {
    "name": "minimal", "question": "Known-answer case.", "start": "2026-01-01", "horizon_months": 12,
    "replications": 3, "seed": 7,
    "china": {"rule_sets": {"ban": {"banned": ["dytb_magnet", "light_magnet", "dytb_oxide", "ndpr_oxide"]},
                            "open": {}},
              "regimes": [{"from": "2020-01-01", "rules": "ban"}],
              "licensing": {"approval_probability": 0.5, "decision_delay_days": 30, "refile_delay_days": 10,
                            "max_refilings": 0},
              "export_processing_days": 1e-6, "lead_time_days": 20},
    "demand": {"inventory_cover_weeks": 0, "redesign_to_light_ree_months": 0, "non_china_min_share": 0,
               "review": {"period_days": None, "order_batch_days": 10},
               "segments": {"seg": {"units_per_year": 365_250, "base_date": "2026-01-01", "growth_per_year": 0,
                                    "ndfeb_kg_per_vehicle": 1.0, "dytb_grade_share": 0, "min_dytb_grade_share": 0}}},
    "suppliers": {"alt": {"capacity_t_per_year": 182.625, "lead_time_days": 0}},
    "domestic": {"ev_share": 1, "plants": 0,
                 "plant": {"capacity_t_per_year": 0, "award_delay_months": 0, "commissioning_months": 0,
                           "ramp_months": 0, "utilisation": 1},
                 "tender_date": "2026-01-01", "dytb_output_share": 0, "ndpr_oxide_t_per_t_magnet": 0.4,
                 "dytb_content_share": 0.05, "irel_ndpr_oxide_start_t_per_year": 0,
                 "irel_ndpr_oxide_target_t_per_year": 0, "irel_ramp_start": "2026-01-01", "irel_ramp_months": 0,
                 "non_china_ndpr_oxide_t_per_year": 0, "lead_time_days": 10},
    "heavy_ree": {"alt_dytb_t_per_year": 0, "domestic_dytb_t_per_year": 0},
}


def _minimal_scenario(**changes: Any) -> Scenario:
    """MINIMAL_SCENARIO over 24 months with changes (`a__b=value` sets doc["a"]["b"])."""
    doc = copy.deepcopy(MINIMAL_SCENARIO)
    doc["horizon_months"] = 24
    for dotted, value in changes.items():
        *head, last = dotted.split("__")
        node = doc
        for key in head:
            node = node[key]
        node[last] = value
    return Scenario.model_validate(doc)


def _shortfall(scenario: Scenario, seed: int, replications: int) -> np.ndarray:
    from resim.model import columns
    from resim.montecarlo.runner import run_one

    i = columns(scenario).index("shortfall_t")
    return np.array([run_one(scenario, seed, r).series[:, i] for r in range(replications)])


def _days(scenario: Scenario) -> np.ndarray:
    return Months.of(scenario.start, scenario.horizon_months).days


def deterministic_month_by_month(seed: int = SEED) -> OracleResult:
    sc = _minimal_scenario()
    short = _shortfall(sc, seed, 1)[0]
    expected = 0.5 * _days(sc)  # need 1 t/day, supply 0.5 t/day, no stock: half of every day short
    worst = float(np.abs(short - expected).max())
    return OracleResult("deterministic scenario = hand calculation", "all figures fixed, China banned, one "
                        "supplier at half the need: largest monthly gap from the hand calculation", "t",
                        0.0, worst, (worst, worst), 1)


def no_china_limit(replications: int = 10, seed: int = SEED) -> OracleResult:
    sc = _minimal_scenario(
        horizon_months=36, demand__review={"period_days": 14},
        suppliers={"a": {"capacity_t_per_year": 120, "lead_time_days": {"dist": "lognormal", "median": 40, "p90": 80}},
                   "b": {"capacity_t_per_year": 60, "lead_time_days": {"dist": "uniform", "low": 20, "high": 70}}})
    steady = slice(12, None)
    short = _shortfall(sc, seed, replications)[:, steady].sum(axis=1)
    expected = float((_days(sc)[steady] * (1 - 180 / 365.25)).sum())
    mean, ci = interval(short)
    return OracleResult("no China: shortfall = demand - other capacity", "China banned, two suppliers of 180 "
                        "t/yr with random lead times: shortfall over months 13-36", "t", expected, mean, ci,
                        replications)


OUTAGE_SCENARIO = bundled.root() / "scenarios" / "oracles" / "outage_vs_stock.yaml"  # shipped: found from a wheel too


@functools.cache
def _outage(replications: int, seed: int) -> tuple[Scenario, float, float, np.ndarray]:
    """Run the public outage scenario file: (scenario, mean outage m, stock k in days, shortfall
    per replication). Run once, shared by both outage oracles."""
    from resim.scenario.loader import load

    sc = load(OUTAGE_SCENARIO).scenario
    outage, cover = sc.china.regimes[-1].delay_days, sc.demand.inventory_cover_weeks
    assert isinstance(outage, Exponential) and isinstance(cover, Fixed)  # as the oracle's scenario file says
    m = float(outage.mean)
    k = cover.support()[0] * 7
    return sc, m, k, _shortfall(sc, seed, replications).sum(axis=1)


def outage_stockout(replications: int = 3000, seed: int = SEED) -> OracleResult:
    _, m, k, short = _outage(replications, seed)
    mean, ci = interval((short > SHORT_T).astype(float))
    return OracleResult("outage vs stock: P(stockout)", f"supply outage ~ exponential (mean {m:g} d), stock covers "
                        f"{k:g} d, continuous time: exp(-k/m) ({OUTAGE_SCENARIO.name})", "probability",
                        math.exp(-k / m), mean, ci, replications)


def outage_shortfall(replications: int = 3000, seed: int = SEED) -> OracleResult:
    _, m, k, short = _outage(replications, seed)
    mean, ci = interval(short)
    return OracleResult("outage vs stock: mean shortfall", "as above, demand d = 1 t/day: d m exp(-k/m)", "t",
                        m * math.exp(-k / m), mean, ci, replications)


NULL_SCENARIO = bundled.root() / "scenarios" / "oracles" / "no_controls.yaml"
NULL_BOUND_PCT = 0.1  # the null case's shortfall, at most, in every year (% of demand)


def null_case(replications: int = 200, seed: int = SEED) -> OracleResult:
    """With China restricting nothing, no year's mean shortfall may exceed 0.1% of demand: the
    makers' order-up-to policy holds safety stock against lead-time spread. Reported for the year
    whose interval reaches highest."""
    from resim.model import columns
    from resim.montecarlo.runner import run_one
    from resim.scenario.loader import load

    sc = load(NULL_SCENARIO).scenario
    cols = columns(sc)
    short, need = cols.index("shortfall_t"), cols.index("demand_t")
    years = np.array([m.year for m in sc.reported_dates])
    shares = []
    for rep in range(replications):
        x = run_one(sc, seed, rep).series
        shares.append([100 * x[years == y, short].sum() / x[years == y, need].sum() for y in np.unique(years)])
    by_year = np.array(shares)
    highs = by_year.mean(axis=0) + mean_half_width(by_year, CONFIDENCE)
    worst = int(np.argmax(highs))
    mean, ci = interval(by_year[:, worst])
    return OracleResult("null case", f"China restricts nothing, 2025-2030 (scenarios/oracles/no_controls.yaml): "
                        f"mean shortfall in the worst year ({int(np.unique(years)[worst])}), at most the bound",
                        "% of demand", NULL_BOUND_PCT, mean, ci, replications, at_most=True)


ORACLES: dict[str, Callable[[], OracleResult]] = {
    "mmc": mmc_wait, "little": littles_law, "base_stock": base_stock_fill_rate,
    "base_stock_fixed": base_stock_fixed_lead, "null": null_case,
    "deterministic": deterministic_month_by_month, "no_china": no_china_limit,
    "outage_stockout": outage_stockout, "outage_shortfall": outage_shortfall,
}


def run_oracles() -> list[OracleResult]:
    return [oracle() for oracle in ORACLES.values()]


__all__ = ["ORACLES", "OracleResult", "run_oracles", "dt"]
