"""Property-based checks (hypothesis): invariants that must hold for any valid input."""

from __future__ import annotations

import copy

import numpy as np
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.conftest import MINIMAL, set_path

from resim.model import columns
from resim.montecarlo.runner import run_one
from resim.scenario.loader import load
from resim.scenario.params import Beta, Exponential, LogNormal, Pert, Triangular, Uniform

positive = st.floats(min_value=0.5, max_value=50.0)


@st.composite
def distributions(draw):
    low = draw(st.floats(min_value=0.0, max_value=10.0))
    width = draw(positive)
    mode = low + width * draw(st.floats(min_value=0.0, max_value=1.0))
    median = draw(positive)
    return draw(st.sampled_from([
        Uniform(dist="uniform", low=low, high=low + width),
        Triangular(dist="triangular", low=low, mode=mode, high=low + width),
        Pert(dist="pert", low=low, mode=mode, high=low + width),
        LogNormal(dist="lognormal", median=median, p90=median * draw(st.floats(min_value=1.01, max_value=5.0))),
        Beta(dist="beta", mean=0.3, sd=0.1),
        Exponential(dist="exponential", mean=median),
    ]))


@given(distributions(), st.lists(st.floats(min_value=1e-6, max_value=1 - 1e-6), min_size=1, max_size=20))
def test_fast_inverse_cdf_and_support_match_scipy_stats(spec, us):
    u = np.array(us)
    np.testing.assert_allclose(spec.ppf(u), spec.frozen.ppf(u), rtol=1e-9, atol=1e-9)
    low, high = spec.support()
    assert (low, high) == tuple(float(x) for x in spec.frozen.support())
    assert np.all((spec.ppf(u) >= low - 1e-9) & (spec.ppf(u) <= high + 1e-9))
    assert [spec.ppf(x) for x in us] == spec.ppf(u).tolist()  # one float (a world draw) exactly as in an array


@given(st.lists(st.floats(min_value=-100.0, max_value=900.0), max_size=6),
       st.lists(st.floats(min_value=-200.0, max_value=1200.0), min_size=1, max_size=60))
def test_remembered_lookups_of_the_rules_and_the_month_agree_with_a_fresh_search(change_days, days):
    # Regime.rules_at and MonthOf.index remember the span of their last answer; asked in any order,
    # they must give what a bisection of the timeline would.
    import bisect
    import datetime as dt

    from resim.model.clock import Months
    from resim.model.regime import OPEN, Regime
    from resim.model.supply import MonthOf
    from resim.scenario.schema import RuleSet

    timeline = [(d, RuleSet(licensed=["dytb_magnet"] if k % 2 else [])) for k, d in enumerate(sorted(change_days))]
    regime, months = Regime(timeline, 0.5, {}), Months.of(dt.date(2025, 1, 1), 24)
    month_of, first = MonthOf(months), months.first_day.tolist()
    for day in days + [d for d, _ in timeline] + first:
        i = bisect.bisect_right(regime.days, day) - 1
        assert regime.rules_at(day) is (regime.rules[i] if i >= 0 else OPEN)
        assert month_of.index(day) == max(0, min(len(first) - 1, bisect.bisect_right(first, day) - 1))


@settings(max_examples=25, deadline=None)
# found by hypothesis: a contract left with dust (too small to change what it has called) was
# taken again and again at the same instant, when its lots landed at once (lead time 0)
@example(capacity=1.2483528495345185e-64, cover_weeks=0.0, lead_days=0.0, period_days=None, batch_days=1.0,
         processing_days=0.001, rules="ban", approval=0.0, stockpile_days=0.0)
@given(
    capacity=st.floats(min_value=0.0, max_value=800.0),
    cover_weeks=st.floats(min_value=0.0, max_value=8.0),
    lead_days=st.floats(min_value=0.0, max_value=120.0),
    period_days=st.one_of(st.none(), st.floats(min_value=1.0, max_value=60.0)),
    batch_days=st.floats(min_value=1.0, max_value=30.0),
    processing_days=st.floats(min_value=0.001, max_value=30.0),
    rules=st.sampled_from(["ban", "open", "licensed"]),
    approval=st.floats(min_value=0.0, max_value=1.0),
    stockpile_days=st.floats(min_value=0.0, max_value=120.0),
)
def test_conservation_and_no_negative_stock_for_any_settings(tmp_path_factory, capacity, cover_weeks, lead_days,
                                                            period_days, batch_days, processing_days, rules, approval,
                                                            stockpile_days):
    # The model itself raises ConservationError if any month's books do not balance; here we also
    # check the written series: stock never negative, deliveries = use + change in stock.
    doc = copy.deepcopy(MINIMAL)
    doc["china"]["rule_sets"]["licensed"] = {"licensed": ["light_magnet", "dytb_magnet"]}
    for dotted, value in {
        "suppliers.alt.capacity_t_per_year": capacity, "suppliers.alt.lead_time_days": lead_days,
        "demand.inventory_cover_weeks": cover_weeks,
        "demand.review": {"period_days": period_days, "order_batch_days": batch_days},
        "china.export_processing_days": processing_days,
        "china.regimes": [{"from": "2026-03-01", "rules": rules}],
        "china.licensing.approval_probability": approval,
        "levers": {"stockpile": {"initial_cover_days": stockpile_days}},
        "demand.segments.seg.dytb_grade_share": 0.5,
    }.items():
        set_path(doc, dotted, value)
    path = tmp_path_factory.mktemp("prop") / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    sc = load(path).scenario
    rep = run_one(sc, 1, 0)
    s = {c: rep.series[:, i] for i, c in enumerate(columns(sc))}
    assert np.all(s["maker_stock_t"] >= -1e-9) and np.all(s["shortfall_t"] >= -1e-9)
    delivered = sum(s[f"delivered_{k}_t"] for k in ("china", "motor", "non_china", "recycling", "domestic",
                                                    "stockpile"))
    np.testing.assert_allclose(np.diff(s["maker_stock_t"]), delivered[1:] - s["used_t"][1:], atol=1e-6)
    np.testing.assert_allclose(s["used_t"] + s["shortfall_t"], s["demand_t"], rtol=1e-9)


@given(seed=st.integers(min_value=0, max_value=2**130), replication=st.integers(min_value=0, max_value=2**32 - 1),
       group=st.integers(min_value=0, max_value=3), n_words=st.integers(min_value=1, max_value=9),
       lasts=st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=6))
@settings(max_examples=200, deadline=None)
def test_vectorised_streams_are_exactly_numpy_seed_sequence_children(seed, replication, group, n_words, lasts):
    from resim.model.streams import _U53, WORLD, seed_words, uniforms

    expected = [np.random.SeedSequence(seed, spawn_key=(replication, group, k)).generate_state(n_words)
                for k in lasts]
    assert np.array_equal(seed_words(seed, (replication, group), np.array(lasts), n_words), np.stack(expected))
    words = [np.random.SeedSequence(seed, spawn_key=(replication, WORLD, k)).generate_state(1, np.uint64)[0]
             for k in lasts]
    assert uniforms(seed, replication, np.array(lasts)).tolist() == [(int(w >> 11) + 0.5) * _U53 for w in words]


@given(seed=st.integers(min_value=0, max_value=2**130), replication=st.integers(min_value=0, max_value=2**32 - 1),
       names=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=6))
@settings(max_examples=200, deadline=None)
def test_first_uniforms_are_exactly_each_streams_first_draw(seed, replication, names):
    from resim.model.streams import event_rng, first_uniforms

    assert first_uniforms(seed, replication, names) == [event_rng(seed, replication, n).random() for n in names]
