"""ABC-SMC against its textbook case: the mean of normal draws.

The model: a statistic is the mean of `n` draws of Normal(theta, sigma), fresh for each simulation.
Accepting |mean - observed| / s <= eps is accepting with probability
Phi((observed + eps s - theta) / (sigma / sqrt n)) - Phi((observed - eps s - theta) / (sigma / sqrt n)),
so the ABC posterior is the prior times that, integrated here by quadrature. Under a flat prior it
is Normal(observed, sigma^2 / n) convolved with Uniform(-eps s, eps s): mean `observed`, variance
sigma^2 / n + (eps s)^2 / 3. A sloped (triangular) prior checks the importance weights: without
them the posterior would follow the proposals, not the prior. The schedule stops at eps <= 1, so
the stated SD s sets the width."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from resim.analysis import abcsmc
from resim.scenario.params import Triangular, Uniform

SIGMA, N_DRAWS, OBSERVED = 2.0, 16, 3.0
PRIOR = Uniform(dist="uniform", low=-20, high=20)  # flat over the region that matters
SLOPED = Triangular(dist="triangular", low=-2, mode=-1, high=12)  # falling across the likelihood


def _simulate(sets: list[dict[str, float]], keys: list[int]) -> np.ndarray:
    """Each set's statistic from its own keyed stream: the same key, the same luck."""
    return np.array([[np.random.default_rng([7, k]).normal(p["theta"], SIGMA, N_DRAWS).mean()]
                     for p, k in zip(sets, keys, strict=True)])


def _posterior(sd: float, population: int = 600, seed: int = 1, prior=PRIOR) -> tuple[list[abcsmc.Generation],
                                                                                      float, float]:
    generations = abcsmc.run({"theta": prior}, _simulate, np.array([OBSERVED]), np.array([sd]), population, seed)
    last = generations[-1]
    mean = float(np.sum(last.weights * last.particles[:, 0]))
    var = float(np.sum(last.weights * (last.particles[:, 0] - mean) ** 2))
    return generations, mean, var


def _exact(prior, half_width: float) -> tuple[float, float]:
    """Mean and variance of the ABC posterior at acceptance half-width `half_width`, by quadrature."""
    low, high = prior.support()
    theta = np.linspace(low, high, 200_001)
    se = SIGMA / np.sqrt(N_DRAWS)
    accept = stats.norm.cdf((OBSERVED + half_width - theta) / se) - stats.norm.cdf((OBSERVED - half_width - theta) / se)
    density = prior.frozen.pdf(theta) * accept
    density /= density.sum()
    mean = float(np.sum(density * theta))
    return mean, float(np.sum(density * (theta - mean) ** 2))


@pytest.mark.slow
@pytest.mark.parametrize(("sd", "prior"), [(0.2, PRIOR), (2.0, PRIOR), (1.5, SLOPED)])
def test_the_posterior_matches_its_closed_form(sd, prior):
    generations, mean, var = _posterior(sd, prior=prior)
    last = generations[-1]
    assert last.epsilon <= abcsmc.TARGET_EPSILON  # the schedule reached the data's own noise
    expected_mean, expected_var = _exact(prior, last.epsilon * sd)
    if prior is PRIOR:  # the textbook form, flat prior
        assert expected_mean == pytest.approx(OBSERVED, abs=1e-6)
        assert expected_var == pytest.approx(SIGMA**2 / N_DRAWS + (last.epsilon * sd) ** 2 / 3, rel=1e-4)
    else:
        assert expected_mean < OBSERVED - 0.1  # the prior pulls: a test that can tell weights from none
    ess = last.effective_sample_size
    assert ess > 200
    se_mean = np.sqrt(expected_var / ess)
    assert abs(mean - expected_mean) < 4 * se_mean, (mean, expected_mean, se_mean)
    # a variance estimate's standard error is about var * sqrt(2 / (ess - 1)) (normal case)
    assert abs(var - expected_var) < 4 * expected_var * np.sqrt(2 / (ess - 1)), (var, expected_var)
    # tolerances shrink, each generation's weights are a distribution
    epsilons = [g.epsilon for g in generations]
    assert all(a > b for a, b in zip(epsilons, epsilons[1:], strict=False))
    assert all(abs(g.weights.sum() - 1) < 1e-9 for g in generations)


@pytest.mark.slow
def test_tighter_data_give_a_tighter_posterior():
    _, _, wide = _posterior(4.0)
    _, _, tight = _posterior(0.4)
    assert tight < 0.5 * wide


def test_a_seed_gives_the_same_posterior_bit_for_bit_and_another_seed_a_close_one():
    a, mean_a, var_a = _posterior(1.0, population=300, seed=3)
    b, _, _ = _posterior(1.0, population=300, seed=3)
    assert np.array_equal(a[-1].particles, b[-1].particles) and np.array_equal(a[-1].weights, b[-1].weights)
    _, mean_c, _ = _posterior(1.0, population=300, seed=4)
    assert abs(mean_a - mean_c) < 0.5 * np.sqrt(var_a)  # the calibration issue's seed-robustness bar


def test_the_simulation_batch_is_what_the_caller_runs():
    # a caller may run each batch on any number of workers: only the sets and their keys matter
    seen: list[int] = []

    def recording(sets: list[dict[str, float]], keys: list[int]) -> np.ndarray:
        seen.extend(keys)
        return _simulate(sets, keys)

    generations = abcsmc.run({"theta": PRIOR}, recording, np.array([OBSERVED]),
                             np.array([1.0]), 100, 5)
    assert len(seen) == len(set(seen)) == sum(g.simulations for g in generations)


def test_sets_without_a_number_are_infinitely_far_and_a_model_without_any_stops_with_a_reason():
    # an index over a base of zero gives NaN: such sets are never accepted, the others carry on
    def partly(sets: list[dict[str, float]], keys: list[int]) -> np.ndarray:
        out = _simulate(sets, keys)
        out[[p["theta"] < -10 for p in sets]] = np.nan
        return out

    generations = abcsmc.run({"theta": PRIOR}, partly, np.array([OBSERVED]), np.array([1.0]), 100, 2)
    assert len(generations) > 2 and np.isfinite(generations[-1].distances).all()
    assert np.isinf(abcsmc.distance(np.array([[np.nan]]), np.array([0.0]), np.array([1.0]))).all()
    with pytest.raises(ValueError, match="no tolerance can be set"):
        abcsmc.run({"theta": PRIOR}, lambda sets, keys: np.full((len(sets), 1), np.nan), np.array([OBSERVED]),
                   np.array([1.0]), 100, 2)
