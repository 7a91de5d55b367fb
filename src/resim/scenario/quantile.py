"""One value's inverse CDF, as float math compiled with the model: a licence file's decision and
re-filing delays are drawn one float at a time, and reaching them through a pydantic spec's `ppf`
and a NumPy ufunc cost ~2 us a draw. The specs (scenario/params.py) use these same functions for a
single float, so each formula is written once."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from scipy.special.cython_special import ndtri  # SciPy's own ndtri without a ufunc's dispatch: the same floats

if TYPE_CHECKING:
    from resim.scenario.params import _Spec


def lognormal_at(u: float, median: float, sigma: float) -> float:
    return median * math.exp(sigma * ndtri(u))


def triangular_at(u: float, low: float, mode: float, high: float) -> float:
    c = (mode - low) / (high - low)
    return low + math.sqrt(u * (high - low) * (mode - low)) if u < c else \
        high - math.sqrt((1 - u) * (high - low) * (high - mode))


class Quantile:
    """A spec's inverse CDF at one uniform (any spec: its `ppf`)."""

    def __init__(self, spec: _Spec):
        self.spec = spec

    def at(self, u: float) -> float:
        return float(self.spec.ppf(u))


class LogNormalQuantile(Quantile):
    def __init__(self, spec: _Spec, median: float, sigma: float):
        super().__init__(spec)
        self.median, self.sigma = median, sigma

    def at(self, u: float) -> float:
        return lognormal_at(u, self.median, self.sigma)


class TriangularQuantile(Quantile):
    def __init__(self, spec: _Spec, low: float, mode: float, high: float):
        super().__init__(spec)
        self.low, self.mode, self.high = low, mode, high

    def at(self, u: float) -> float:
        return triangular_at(u, self.low, self.mode, self.high)
