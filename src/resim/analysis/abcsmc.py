"""ABC-SMC (population Monte Carlo ABC: Beaumont, Cornuet, Marin and Robert 2009; Toni et al. 2009):
a population of parameter sets moved through generations of shrinking tolerance. Generation 0 draws
from the priors; each later one proposes by picking a particle of the last by weight and moving it
with a Gaussian kernel of twice their weighted covariance, keeps proposals whose simulated
statistics fall within the tolerance, and weights each kept set by prior density over the mixture
it was proposed from. The tolerance is a quantile of the last generation's distances.

The distance is the root mean square of (simulated - observed) / stated SD over the observations,
so it is in units of each observation's own uncertainty. The schedule stops once the tolerance is
within one SD (fitting closer would fit the observations' noise), so tighter data give a tighter
posterior; or when too few proposals are accepted, or after `max_generations`.

Reproducible for any number of workers: proposals come in batches whose random numbers are keyed by
(seed, generation, batch), each simulation's own key is its proposal's number, and proposals are
accepted in their order, so a batch run on more workers accepts the same sets. (pyabc was the first
choice; its parallel samplers accept whichever simulations finish first, so their results depend on
the machine's timing.)

The model is `simulate(parameter sets, keys) -> statistics (sets x observations)`: the caller runs
the batch however it likes (resim's calibration runs fresh keyed replications on its executor)."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from resim.scenario.params import _Continuous

Simulate = Callable[[list[dict[str, float]], list[int]], np.ndarray]

TARGET_EPSILON = 1.0  # stop once the tolerance is within one stated SD (root mean square)
QUANTILE = 0.5  # the next tolerance: this quantile of the last generation's distances
MIN_ACCEPTANCE = 0.02  # a generation accepting fewer of its proposals ends the schedule
KEY_STRIDE = 10**9  # a simulation's key: generation x KEY_STRIDE + its proposal's number


@dataclass(frozen=True)
class Generation:
    epsilon: float  # the tolerance its sets met (inf for generation 0: the prior)
    particles: np.ndarray  # sets x parameters
    weights: np.ndarray  # normalised
    distances: np.ndarray
    keys: np.ndarray  # each set's simulation key (what the caller ran it under)
    simulations: int  # model evaluations it took
    acceptance_rate: float

    @property
    def effective_sample_size(self) -> float:
        return float(1.0 / np.sum(self.weights**2))


def distance(simulated: np.ndarray, observed: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Root mean square of the standardised misses, one per simulated set (rows); a set whose
    statistics are not all numbers (an index over a base of zero) is infinitely far."""
    d = np.sqrt(np.mean(((simulated - observed) / sd) ** 2, axis=-1))
    return np.where(np.isfinite(d), d, np.inf)


def run(priors: dict[str, _Continuous], simulate: Simulate, observed: np.ndarray, sd: np.ndarray,
        population: int, seed: int, max_generations: int = 8, min_acceptance: float = MIN_ACCEPTANCE,
        on_generation: Callable[[Generation], None] | None = None) -> list[Generation]:
    """Every generation, the prior's first; the last is the posterior."""
    names = list(priors)
    frozen = [priors[n].frozen for n in names]
    key = zlib.crc32(b"abc-smc")

    def sets(x: np.ndarray) -> list[dict[str, float]]:
        return [dict(zip(names, map(float, row), strict=True)) for row in x]

    rng = np.random.default_rng([seed, key, 0])
    x = np.column_stack([f.ppf(rng.random(population)) for f in frozen])
    d = distance(simulate(sets(x), list(range(population))), observed, sd)
    generations = [Generation(np.inf, x, np.full(population, 1.0 / population), d, np.arange(population), population,
                              1.0)]
    if on_generation:
        on_generation(generations[-1])
    while len(generations) <= max_generations and generations[-1].epsilon > TARGET_EPSILON:
        last = generations[-1]
        epsilon = max(float(np.quantile(last.distances, QUANTILE)), TARGET_EPSILON)  # not below the data's noise
        if not np.isfinite(epsilon):
            raise ValueError(f"over half of generation {len(generations) - 1}'s simulations give no number for some "
                             "observation: no tolerance can be set")
        following = _generation(len(generations), last, epsilon, frozen, simulate, sets, observed, sd, seed, key,
                                min_acceptance)
        if following is None:  # too few proposals accepted: the schedule has gone as far as it can
            break
        generations.append(following)
        if on_generation:
            on_generation(following)
    return generations


def _generation(t: int, last: Generation, epsilon: float, frozen: list, simulate: Simulate,
                sets: Callable[[np.ndarray], list[dict[str, float]]], observed: np.ndarray, sd: np.ndarray,
                seed: int, key: int, min_acceptance: float) -> Generation | None:
    """Generation `t` at tolerance `epsilon`, or None if fewer than `min_acceptance` of its
    proposals are accepted (counted over at least one batch)."""
    n = len(last.weights)
    cov = 2.0 * np.atleast_2d(np.cov(last.particles, rowvar=False, aweights=last.weights))
    kernel = stats.multivariate_normal(np.zeros(cov.shape[0]), cov, allow_singular=True)
    kept_x: list[np.ndarray] = []
    kept_d: list[float] = []
    kept_k: list[int] = []
    proposed = 0
    batch = 0
    while len(kept_x) < n:
        rng = np.random.default_rng([seed, key, t, batch])
        x = _proposals(rng, last, cov, frozen, n)
        keys = [t * KEY_STRIDE + batch * n + i for i in range(n)]  # each proposal's own simulation luck
        d = distance(simulate(sets(x), keys), observed, sd)
        for row, dist, k in zip(x, d, keys, strict=True):
            proposed += 1
            if dist <= epsilon and len(kept_x) < n:
                kept_x.append(row)
                kept_d.append(float(dist))
                kept_k.append(k)
        batch += 1
        if len(kept_x) < n and len(kept_x) < min_acceptance * proposed:
            return None
    x = np.array(kept_x)
    prior = np.prod([f.pdf(x[:, j]) for j, f in enumerate(frozen)], axis=0)
    moves = (x[:, None, :] - last.particles[None, :, :]).reshape(-1, x.shape[1])  # each kept set from each particle
    mixture = kernel.pdf(moves).reshape(n, n) @ last.weights
    w = prior / mixture
    return Generation(epsilon, x, w / w.sum(), np.array(kept_d), np.array(kept_k), proposed, n / proposed)


def _proposals(rng: np.random.Generator, last: Generation, cov: np.ndarray, frozen: list, n: int) -> np.ndarray:
    """`n` proposals: a particle picked by weight and moved by the kernel, redrawn while it falls
    outside the prior's support (no simulation is spent on those)."""
    out = np.empty((n, last.particles.shape[1]))
    todo = np.arange(n)
    while len(todo):
        picked = last.particles[rng.choice(len(last.weights), size=len(todo), p=last.weights)]
        moved = picked + rng.multivariate_normal(np.zeros(cov.shape[0]), cov, size=len(todo))
        inside = np.all([f.pdf(moved[:, j]) > 0 for j, f in enumerate(frozen)], axis=0)
        out[todo[inside]] = moved[inside]
        todo = todo[~inside]
    return out
