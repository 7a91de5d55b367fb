"""Known answers and invariants of the model, through the same code path as user scenarios."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import SCENARIOS

from resim.loader import load
from resim.model import columns
from resim.model.clock import Months
from resim.runner import run_one
from resim.sampling import sample_world
from resim.tree import iter_specs


def series(path, replication=0, seed=None):  # type: ignore[no-untyped-def]
    sc = load(path).scenario
    rep = run_one(sc, sc.seed if seed is None else seed, replication)
    return sc, {c: rep.series[:, i] for i, c in enumerate(columns(sc))}


def test_hand_calculated_shortfall_with_china_banned(write_scenario):  # type: ignore[no-untyped-def]
    # Need 1 t/day; the only source gives 0.5 t/day with no lead time; no stock: each month is
    # short by exactly half its days, and 500 vehicles a day are not built.
    sc, s = series(write_scenario())
    days = Months.of(sc.start, sc.horizon_months).days
    np.testing.assert_allclose(s["demand_t"], days * 1.0)
    np.testing.assert_allclose(s["delivered_non_china_t"], days * 0.5)
    np.testing.assert_allclose(s["shortfall_t"], days * 0.5)
    np.testing.assert_allclose(s["vehicles_not_built"], days * 500)
    np.testing.assert_allclose(s["maker_stock_t"], 0, atol=1e-9)


def test_hand_calculated_lead_time_and_opening_stock(write_scenario):  # type: ignore[no-untyped-def]
    # Four weeks of cover (28 t) and a 45-day planning pipeline (45 t in four tranches) open the
    # run; the supplier (lead time 0) can fill 2 t/day, more than the 1 t/day need: no shortfall
    # ever. Orders go up to need x (cover + month + planning lead); as the real lead time is zero,
    # the planned pipeline sits in stock: a month ends with 28 + 45 = 73 t.
    sc, s = series(write_scenario({"demand.inventory_cover_weeks": 4, "demand.planning_lead_time_days": 45,
                                   "suppliers.alt.capacity_t_per_year": 730.5}))
    assert np.all(s["shortfall_t"] < 1e-9)
    assert s["delivered_opening_t"].sum() == pytest.approx(45.0)
    # January: 28 + 31 ordered + 22.5 (two opening tranches due by day 31) - 31 used = 50.5 t;
    # the other two tranches arrive in February and the level holds at 73 t from then on.
    np.testing.assert_allclose(s["maker_stock_t"], [50.5] + [73.0] * 11)


def test_no_china_shortfall_equals_demand_minus_other_capacity(write_scenario):  # type: ignore[no-untyped-def]
    # Two non-China suppliers with random lead times: once the pipeline fills, deliveries run at
    # their joint capacity and the shortfall is demand minus that capacity. (Makers plan on a
    # 120-day lead time, so their orders always exceed what the suppliers can ship.)
    path = write_scenario({
        "horizon_months": 36,
        "demand.planning_lead_time_days": 120,
        "suppliers": {
            "a": {"capacity_t_per_year": 120, "lead_time_days": {"dist": "lognormal", "median": 40, "p90": 80}},
            "b": {"capacity_t_per_year": 60, "available_from": "2026-07-01", "ramp_months": 6,
                  "lead_time_days": {"dist": "uniform", "low": 20, "high": 70}},
        },
    })
    sc, s = series(path)
    days = Months.of(sc.start, sc.horizon_months).days
    steady = slice(15, None)  # b is fully ramped from 2027-01; allow the pipeline to fill
    expected = days[steady] * (1.0 - 180 / 365.25)
    assert s["shortfall_t"][steady].sum() == pytest.approx(expected.sum(), rel=0.02)
    # Month by month, one lump per supplier lands on a random day, so a month may get none or
    # two; the running difference never exceeds two months of the suppliers' capacity.
    drift = np.cumsum(s["shortfall_t"][steady] - expected)
    assert np.all(np.abs(drift) <= 2 * 31 * 180 / 365.25)


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
def test_conservation_per_maker_and_in_total(name):  # type: ignore[no-untyped-def]
    # What arrived = what was used + change in stock, month by month, for each maker and in total.
    # (The model also checks full mass balance, incl. transit and warehouses, every month.)
    sc, s = series(SCENARIOS / f"{name}.yaml", replication=3)
    segments = list(sc.demand.segments)
    for seg in segments:
        change = np.diff(s[f"stock_t.{seg}"])
        np.testing.assert_allclose(change, s[f"delivered_t.{seg}"][1:] - s[f"used_t.{seg}"][1:], atol=1e-6)
    delivered = sum(s[f"delivered_{src}_t"] for src in
                    ("china", "non_china", "recycling", "domestic", "stockpile", "opening"))
    np.testing.assert_allclose(delivered, sum(s[f"delivered_t.{seg}"] for seg in segments), atol=1e-6)
    np.testing.assert_allclose(np.diff(s["maker_stock_t"]), delivered[1:] - s["used_t"][1:], atol=1e-6)
    assert np.all(s["shortfall_t"] >= -1e-9) and np.all(s["maker_stock_t"] >= -1e-9)
    np.testing.assert_allclose(s["shortfall_t"], s["demand_t"] - s["used_t"], atol=1e-6)


def test_world_draws_are_shared_between_scenarios_where_they_agree():  # type: ignore[no-untyped-def]
    # Common random numbers: the lever scenario draws the same world as pause_ends, replication
    # by replication, for every parameter both share.
    a = load(SCENARIOS / "pause_ends.yaml").scenario
    b = load(SCENARIOS / "domestic_fast.yaml").scenario
    specs_a, specs_b = ({p: spec for p, spec, _ in iter_specs(x)} for x in (a, b))
    same = {p for p in specs_a if specs_b.get(p) == specs_a[p]}
    for i in range(3):
        wa, wb = sample_world(a, 11, i), sample_world(b, 11, i)
        shared = set(wa.draws) & set(wb.draws) & same
        assert len(shared) > 40
        assert all(wa.draws[k] == wb.draws[k] for k in shared)
        assert wa.outcomes == wb.outcomes
        # where the lever changes a distribution, the draw sits at the same quantile of the new one
        key, field = "domestic.plant.0.commissioning_months", "domestic.plant.commissioning_months"
        quantiles = [specs[field].frozen.cdf(w.draws[key]) for specs, w in ((specs_a, wa), (specs_b, wb))]
        assert quantiles[0] == pytest.approx(quantiles[1], abs=1e-9)
    assert sample_world(a, 11, 0).draws != sample_world(a, 11, 1).draws


def test_more_supply_never_means_more_shortfall_in_any_paired_replication():  # type: ignore[no-untyped-def]
    # A stockpile adds supply and changes nothing else. With per-event luck keyed by calendar
    # month (not by order of use), replication i of both scenarios sees the same approvals and
    # lead times, so the stockpile never leaves a replication shorter over the horizon. (A lever
    # that reshapes orders, such as faster domestic plants, can: makers then file smaller licence
    # applications, and lumpy approvals occasionally leave them shorter: about 1% of replications.)
    from resim.runner import run

    def cumulative(name):  # type: ignore[no-untyped-def]
        sc = load(SCENARIOS / f"{name}.yaml").scenario
        i = columns(sc).index("shortfall_t")
        return np.array([r.series[:, i].sum() for chunk in run(sc, 60, 20261110, workers=2) for r in chunk])

    base, more = cumulative("pause_ends"), cumulative("stockpile_90d")
    assert np.all(more <= base + 1e-6)
    assert more.mean() < base.mean()


def test_full_ban_is_worse_than_licensing_on_average():  # type: ignore[no-untyped-def]
    ends = [series(SCENARIOS / "pause_ends.yaml", replication=i)[1]["shortfall_t"].sum() for i in range(20)]
    ban = [series(SCENARIOS / "full_ban.yaml", replication=i)[1]["shortfall_t"].sum() for i in range(20)]
    assert np.mean(ban) > np.mean(ends)


def test_pause_outcome_probabilities_are_respected():  # type: ignore[no-untyped-def]
    sc = load(SCENARIOS / "pause_ends.yaml").scenario
    names = [next(iter(sample_world(sc, 1, i).outcomes.values())) for i in range(2000)]
    share = names.count("on_time") / len(names)
    assert share == pytest.approx(0.7, abs=3 * (0.7 * 0.3 / 2000) ** 0.5)
