"""Parameter specifications: a number, a reference to a seed or assumption, or a distribution.

Every numeric scenario field is a `Param`. After references are resolved (see `resolve.py`) each
one is a spec (`Fixed` or a distribution) whose `ppf` maps a uniform draw to a value: sampling by inverse CDF means two
scenarios that share a random stream get monotonically coupled values (common random numbers).
Distributions are scipy.stats objects (`frozen`) built from the scenario's own parametrisation;
`ppf` evaluates the same inverse CDF in closed form with scipy.special ufuncs, because scalar
scipy.stats calls cost ~100 us each and a replication makes hundreds (tests check they agree).
"""

from __future__ import annotations

import math
import re
from functools import cached_property
from typing import Annotated, Any, Literal

import numpy as np
import scipy.special as sp
from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from resim.scenario.quantile import LogNormalQuantile, Quantile, TriangularQuantile, lognormal_at, triangular_at

Z90 = float(sp.ndtri(0.9))  # lognormal: p90 = median * exp(sigma * Z90)
PERT_LAMBDA = 4.0


def plain(x: float, digits: int | None = None, commas: bool = True) -> str:
    """A number as people write it, never as 1.5e+06: `digits` significant digits if given, thousands
    separated (inside a distribution's text, where commas part its arguments, not)."""
    if digits is not None:
        x = float(f"{x:.{digits}g}")
    if abs(x) >= 1000 and x == round(x):
        return f"{x:,.0f}" if commas else f"{x:.0f}"
    return f"{x:g}" if abs(x) < 1e6 else f"{x:{',' if commas else ''}.2f}"


class _Spec(BaseModel):
    """Common base: a frozen pydantic model with an optional `source` (seed/assumption id or text)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # no NaN or infinity, ever
    source: str | None = Field(None, description="Seed or assumption id, or a citation.")

    def support(self) -> tuple[float, float]:
        raise NotImplementedError

    def ppf(self, u: float | np.ndarray) -> Any:
        raise NotImplementedError

    def quantile(self) -> Quantile:
        """Its inverse CDF at one uniform, for draws made one at a time (compiled where it pays)."""
        return Quantile(self)

    def widened(self, days: Any, spread: float) -> Any:
        """Values of this distribution (`days`) with their spread around its median multiplied by
        `spread` on a log scale: a lognormal's sigma times `spread`, the median kept (1: unchanged)."""
        if spread == 1.0:
            return days
        median = self.ppf(0.5)
        return days if median <= 0 else median * (days / median) ** spread

    def describe(self) -> str:
        fields = self.model_dump(exclude={"source", "dist"}, exclude_none=True)
        text = ", ".join(f"{k}={plain(v, commas=False) if isinstance(v, float) else v}" for k, v in fields.items())
        return f"{self.dist}({text})"  # type: ignore[attr-defined]

    @property
    def is_fixed(self) -> bool:
        """True for a single value (validators ensure every distribution has a real spread)."""
        return False


class Fixed(_Spec):
    """A fixed value with provenance (what a plain number or a `{ref: id}` resolves to)."""

    dist: Literal["fixed"] = "fixed"
    value: float

    def support(self) -> tuple[float, float]:
        return (self.value, self.value)

    def ppf(self, u: float | np.ndarray) -> Any:
        return np.full_like(u, self.value, dtype=float) if isinstance(u, np.ndarray) else self.value

    def describe(self) -> str:
        return plain(self.value)

    @property
    def is_fixed(self) -> bool:
        return True


class _Continuous(_Spec):
    """A distribution backed by a frozen scipy.stats object (subclasses add a fast `ppf` and
    their support; scipy.stats itself is imported only when `frozen` is first used)."""

    @cached_property
    def frozen(self) -> Any:
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        low, high = getattr(self, "low", 0.0), getattr(self, "high", math.inf)
        return (float(low), float(high))

    def ppf(self, u: float | np.ndarray) -> Any:
        out = self.frozen.ppf(u)
        return float(out) if np.ndim(out) == 0 else out


class Uniform(_Continuous):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"uniform needs low < high (got low={self.low}, high={self.high})")
        return self

    @cached_property
    def frozen(self) -> Any:
        import scipy.stats as st

        return st.uniform(loc=self.low, scale=self.high - self.low)

    def ppf(self, u: float | np.ndarray) -> Any:
        return self.low + (self.high - self.low) * u


class Triangular(_Continuous):
    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                f"triangular needs low <= mode <= high and low < high "
                f"(got {self.low}, {self.mode}, {self.high})"
            )
        return self

    @cached_property
    def frozen(self) -> Any:
        import scipy.stats as st

        width = self.high - self.low
        return st.triang(c=(self.mode - self.low) / width, loc=self.low, scale=width)

    def quantile(self) -> Quantile:
        return TriangularQuantile(self, self.low, self.mode, self.high)

    def ppf(self, u: float | np.ndarray) -> Any:
        low, mode, high = self.low, self.mode, self.high
        c = (mode - low) / (high - low)
        if isinstance(u, float):  # a world draw: math on one float (numpy's per-call cost was 2 us of 3)
            return triangular_at(u, low, mode, high)
        left = low + np.sqrt(u * (high - low) * (mode - low))
        right = high - np.sqrt((1 - u) * (high - low) * (high - mode))
        out = np.where(u < c, left, right)
        return float(out) if np.ndim(out) == 0 else out


class Pert(Triangular):
    """Beta-PERT on [low, high] with the given mode (lambda = 4)."""

    dist: Literal["pert"]  # type: ignore[assignment]

    @cached_property
    def frozen(self) -> Any:
        width = self.high - self.low
        import scipy.stats as st

        return st.beta(*self._shape, loc=self.low, scale=width)

    @property
    def _shape(self) -> tuple[float, float]:
        width = self.high - self.low
        return 1 + PERT_LAMBDA * (self.mode - self.low) / width, 1 + PERT_LAMBDA * (self.high - self.mode) / width

    def quantile(self) -> Quantile:  # not the triangle's
        return Quantile(self)

    def ppf(self, u: float | np.ndarray) -> Any:
        out = self.low + (self.high - self.low) * sp.betaincinv(*self._shape, u)
        return float(out) if np.ndim(out) == 0 else out


class LogNormal(_Continuous):
    """Lognormal given by its median and 90th percentile (both in the field's unit)."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    p90: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> LogNormal:
        if not self.p90 > self.median:
            raise ValueError(f"lognormal needs p90 > median (got median={self.median}, p90={self.p90})")
        return self

    @cached_property
    def frozen(self) -> Any:
        import scipy.stats as st

        return st.lognorm(s=self.sigma, scale=self.median)

    @property
    def sigma(self) -> float:
        return math.log(self.p90 / self.median) / Z90

    def quantile(self) -> Quantile:
        return LogNormalQuantile(self, self.median, self.sigma)

    def ppf(self, u: float | np.ndarray) -> Any:
        if isinstance(u, float):  # one float: plain math, no ufunc
            return lognormal_at(u, self.median, self.sigma)
        out = self.median * np.exp(self.sigma * sp.ndtri(u))
        return float(out) if np.ndim(out) == 0 else out


class Beta(_Continuous):
    """Beta on [0, 1] given by mean and standard deviation (for probabilities and shares)."""

    dist: Literal["beta"]
    mean: float = Field(gt=0, lt=1)
    sd: float = Field(gt=0)

    @model_validator(mode="after")
    def _feasible(self) -> Beta:
        if not self.sd**2 < self.mean * (1 - self.mean):
            limit = math.sqrt(self.mean * (1 - self.mean))
            raise ValueError(f"beta needs sd < sqrt(mean*(1-mean)) = {limit:.4g} (got sd={self.sd})")
        return self

    @cached_property
    def frozen(self) -> Any:
        import scipy.stats as st

        return st.beta(*self._shape)

    def support(self) -> tuple[float, float]:
        return (0.0, 1.0)

    @property
    def _shape(self) -> tuple[float, float]:
        k = self.mean * (1 - self.mean) / self.sd**2 - 1
        return self.mean * k, (1 - self.mean) * k

    def ppf(self, u: float | np.ndarray) -> Any:
        out = sp.betaincinv(*self._shape, u)
        return float(out) if np.ndim(out) == 0 else out


class Exponential(_Continuous):
    dist: Literal["exponential"]
    mean: float = Field(gt=0)

    @cached_property
    def frozen(self) -> Any:
        import scipy.stats as st

        return st.expon(scale=self.mean)

    def ppf(self, u: float | np.ndarray) -> Any:
        out = -self.mean * np.log1p(-np.asarray(u, dtype=float))
        return float(out) if np.ndim(out) == 0 else out


class Choice(_Spec):
    """A discrete choice among numeric values with probabilities summing to 1."""

    dist: Literal["choice"]
    values: list[float] = Field(min_length=1)
    probabilities: list[float] = Field(min_length=1)

    @model_validator(mode="after")
    def _probabilities(self) -> Choice:
        if len(self.values) != len(self.probabilities):
            raise ValueError("choice needs as many probabilities as values")
        if any(p < 0 for p in self.probabilities) or abs(sum(self.probabilities) - 1) > 1e-9:
            raise ValueError(f"choice probabilities must be >= 0 and sum to 1 (got {self.probabilities})")
        return self

    def support(self) -> tuple[float, float]:
        return (min(self.values), max(self.values))

    @property
    def is_fixed(self) -> bool:
        return len(set(self.values)) == 1

    def ppf(self, u: float | np.ndarray) -> Any:
        edges = np.cumsum(self.probabilities)
        idx = np.minimum(np.searchsorted(edges, u, side="right"), len(self.values) - 1)
        out = np.asarray(self.values)[idx]
        return float(out) if np.ndim(out) == 0 else out


class Ref(BaseModel):
    """A reference to a seed figure or assumption id; `over_range` samples its documented range."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ref: str
    scale: float = Field(1.0, description="Multiplier applied to the referenced figure (unit change).")
    over_range: Literal["uniform", "triangular", "pert"] | None = Field(
        None, description="Sample over the assumption's [low, high] (mode = its value) instead of fixing it."
    )


SPEC_CLASSES: dict[str, type[_Spec]] = {
    "fixed": Fixed, "uniform": Uniform, "triangular": Triangular, "pert": Pert, "lognormal": LogNormal,
    "beta": Beta, "exponential": Exponential, "choice": Choice,
}
DIST_NAMES = ("fixed", "uniform", "triangular", "pert", "lognormal", "beta", "exponential", "choice")


def _param_tag(v: Any) -> str | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, Ref):
        return "ref"
    if isinstance(v, _Spec):
        return v.dist  # type: ignore[attr-defined]
    if isinstance(v, dict):
        if "ref" in v:
            return "ref"
        dist = v.get("dist")
        return dist if dist in DIST_NAMES else None
    return None


def _number_to_fixed(v: float) -> Fixed:
    return Fixed(value=v)


_PARAM_UNION = (
    Annotated[Annotated[float, Field(allow_inf_nan=False), AfterValidator(_number_to_fixed)], Tag("number")]
    | Annotated[Ref, Tag("ref")]
    | Annotated[Fixed, Tag("fixed")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[Triangular, Tag("triangular")]
    | Annotated[Pert, Tag("pert")]
    | Annotated[LogNormal, Tag("lognormal")]
    | Annotated[Beta, Tag("beta")]
    | Annotated[Exponential, Tag("exponential")]
    | Annotated[Choice, Tag("choice")]
)
PARAM_HELP = (
    "a number, {ref: <seed or assumption id>}, or {dist: " + "|".join(DIST_NAMES[1:]) + ", ...}"
)
Param = Annotated[
    _PARAM_UNION,
    Discriminator(_param_tag, custom_error_type="param", custom_error_message=f"expected {PARAM_HELP}"),
]


def _bounded(low: float | None, high: float | None) -> AfterValidator:
    """Validator: a resolved spec's whole support must lie in [low, high]."""

    def check(spec: Any) -> Any:
        if isinstance(spec, Ref):
            return spec  # checked again once the reference is resolved
        a, b = spec.support()
        if (low is not None and a < low) or (high is not None and b > high):
            span = f"{a:g}" if a == b else f"[{a:g}, {b:g}]"
            allowed = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
            raise ValueError(f"must lie in {allowed}; got {span}")
        return spec

    return AfterValidator(check)


def _positive() -> AfterValidator:
    """Validator: a fixed value must be > 0; a distribution's support must lie in [0, inf)."""

    def check(spec: Any) -> Any:
        if isinstance(spec, Ref):
            return spec
        a, _ = spec.support()
        if a < 0 or (spec.is_fixed and a <= 0):
            raise ValueError(f"must be positive (a number > 0, or a distribution on [0, inf)); got {a:g}")
        return spec

    return AfterValidator(check)


class JsonBounds:
    """Marker: the same bounds in the JSON Schema (for editors and standard validators): on a plain
    number, a fixed value, the ends and mode of uniform, triangular and PERT distributions, and choice
    values. The loader's check (`_bounded`) stays the authority: it also bounds other distributions."""

    def __init__(self, low: float | None, high: float | None, exclusive_low: bool = False):
        self.low, self.high, self.exclusive_low = low, high, exclusive_low

    def bounds(self) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.low is not None:
            out["exclusiveMinimum" if self.exclusive_low else "minimum"] = self.low
        if self.high is not None:
            out["maximum"] = self.high
        return out

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        fields = {"Fixed": ["value"], "Uniform": ["low", "high"], "Triangular": ["low", "mode", "high"],
                  "Pert": ["low", "mode", "high"]}
        branches = []
        for branch in schema.get("oneOf", []):
            found = re.search(r"(?:/|__)([A-Z][A-Za-z]+)(?:-|$)", branch.get("$ref", ""))  # ...__Fixed-Input__1
            name = found.group(1) if found else ""
            if branch.get("type") == "number":
                branch = {**branch, **self.bounds()}
            elif name in fields:
                branch = {"allOf": [branch, {"properties": {f: self.bounds() for f in fields[name]}}]}
            elif name == "Choice":
                branch = {"allOf": [branch, {"properties": {"values": {"items": self.bounds()}}}]}
            branches.append(branch)
        return {**schema, "oneOf": branches} if branches else schema


class PerEvent:
    """Marker: the field is sampled afresh for every event (each licence decision, each shipment),
    not once per replication."""


NonNegative = Annotated[Param, _bounded(0.0, None), JsonBounds(0.0, None)]
Fraction = Annotated[Param, _bounded(0.0, 1.0), JsonBounds(0.0, 1.0)]
Growth = Annotated[Param, _bounded(-0.99, None), JsonBounds(-0.99, None)]
ServiceLevel = Annotated[Param, _bounded(0.5, 0.999), JsonBounds(0.5, 0.999)]  # a probability of no stockout
# Physical bounds, far beyond any real value, so that no input overflows the arithmetic (1e308 vehicles did)
VehiclesPerYear = Annotated[Param, _bounded(0.0, 1e9), JsonBounds(0.0, 1e9)]  # the world sells ~1e8 vehicles a year
TonnesPerYear = Annotated[Param, _bounded(0.0, 1e6), JsonBounds(0.0, 1e6)]  # the world makes ~3e5 t of NdFeB a year
KgPerVehicle = Annotated[Param, _bounded(0.0, 100.0), JsonBounds(0.0, 100.0)]  # a bus motor holds ~10-20 kg
CoverWeeks = Annotated[Param, _bounded(0.0, 520.0), JsonBounds(0.0, 520.0)]  # stock for ten years is not stock
CoverMonths = Annotated[Param, _bounded(0.0, 120.0), JsonBounds(0.0, 120.0)]
EventDays = Annotated[Param, _bounded(0.0, None), JsonBounds(0.0, None), PerEvent()]
# a world's multiplier on a per-event distribution (drawn once per replication; calibration can fit it)
Scale = Annotated[Param, _bounded(0.05, 20.0), JsonBounds(0.05, 20.0)]
PositiveEventDays = Annotated[Param, _positive(), JsonBounds(0.0, None, exclusive_low=True), PerEvent()]
