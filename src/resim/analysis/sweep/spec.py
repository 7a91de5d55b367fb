"""What a sweep is: the parameters it varies (ranges or values), its design and replications, checked
against the scenario before anything runs; from `--vary` items or a sweep file."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from resim.errors import InputError, Problem
from resim.folders import (
    FolderName,
)
from resim.scenario.loader import load
from resim.scenario.params import _Spec
from resim.scenario.schema import MAX_SEED
from resim.scenario.walk import iter_specs
from resim.scenario.yamlfile import read_yaml

MAX_POINTS = 100_000  # points a sweep may have
MAX_RUNS = 10_000_000  # points x replications


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid")
    low: float
    high: float
    levels: int | None = Field(None, ge=2, description="Grid levels (grid design only; the sweep's point count "
                               "is bounded as a whole).")

    @model_validator(mode="after")
    def _not_empty(self) -> Range:
        if not self.low < self.high:
            raise ValueError(f"empty range: need low < high (got {self.low}, {self.high})")
        return self


class Values(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: list[float] = Field(min_length=1)


class SweepSpec(BaseModel):
    """A sweep: which scenario, which fields vary over what, the design and the replications."""

    model_config = ConfigDict(extra="forbid")
    name: FolderName
    scenario: Path
    parameters: dict[str, Range | Values] = Field(min_length=1)
    design: Literal["grid", "oat", "lhs", "sobol", "saltelli", "morris"] = "grid"
    points: int | None = Field(None, ge=1, le=MAX_POINTS, description="Points (lhs, sobol), or base samples N "
                               "(saltelli: N (d + 2) points; morris: N (d + 1)).")
    replications: int = Field(100, ge=2, le=200_000)
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Default: the scenario's seed.")

    @model_validator(mode="after")
    def _bounded_work(self) -> SweepSpec:
        """Refused before any design is drawn or allocated: a sweep's points times its replications."""
        points = point_count(self)
        if points > MAX_POINTS:
            raise ValueError(f"{points:,} points; allowed: at most {MAX_POINTS:,} a sweep (each point runs all its "
                             "replications): fewer levels, points or parameters")
        if points * self.replications > MAX_RUNS:
            raise ValueError(f"{points:,} points x {self.replications:,} replications; allowed: at most "
                             f"{MAX_RUNS:,} replications in all (about a day on 2 cores): fewer points or replications")
        return self



def point_count(spec: SweepSpec) -> int:
    """How many points the sweep's design has (what design_points will return)."""
    d = len(spec.parameters)
    if spec.design == "grid":
        count = 1
        for p in spec.parameters.values():
            count *= len(p.values) if isinstance(p, Values) else (p.levels or 5)
            if count > MAX_POINTS:  # stop before the product itself grows without bound
                return count
        return count
    if spec.design == "oat":
        return 1 + 2 * d
    if spec.design == "saltelli":
        return (spec.points or 64) * (d + 2)
    if spec.design == "morris":
        return (spec.points or 16) * (d + 1)
    return spec.points or 64


def check_spec(spec: SweepSpec, where: Path | None) -> None:
    """Every varied path must be a numeric parameter of the scenario; designs need what they need.
    `where` is the sweep file, or None for command-line options (problems then name the option)."""
    base = load(spec.scenario).scenario
    numeric = {path for path, obj, _ in iter_specs(base) if isinstance(obj, _Spec)}

    def field(path: str | None = None) -> str:
        if path is None:
            return "design" if where else "--design"
        return f"parameters.{path}" if where else f"--vary {path}"

    problems = []
    for path in spec.parameters:
        if path not in numeric:
            near = difflib.get_close_matches(path, sorted(numeric), n=3)
            hint = f"; did you mean {', '.join(near)}?" if near else "; see `resim sources` for numeric fields"
            problems.append(Problem(where, None, field(path), f"not a numeric field of the scenario{hint}"))
    if spec.design != "grid" and any(isinstance(p, Range) and p.levels for p in spec.parameters.values()):
        problems.append(Problem(where, None, field(), f"levels apply to the grid design, not {spec.design}: "
                                                      "give LOW:HIGH without levels"))
    if spec.design in ("saltelli", "morris") and any(isinstance(p, Values) for p in spec.parameters.values()):
        problems.append(Problem(where, None, field(), f"{spec.design} needs ranges (low, high), not value lists"))
    n = spec.points or 64
    if spec.design == "sobol" and n & (n - 1):
        problems.append(Problem(where, None, "points" if where else "--points",
                                f"{n:,}; allowed: a power of two for the Sobol' design (its balance needs it), "
                                f"e.g. {1 << (n.bit_length() - 1)} or {1 << n.bit_length()}"))
    if problems:
        raise InputError(problems)
    for path, p in spec.parameters.items():  # the ends of each range must be allowed values
        for value in ([p.low, p.high] if isinstance(p, Range) else sorted(set(p.values))[::max(1, len(p.values) - 1)]):
            try:
                load(spec.scenario, {path: value})
            except InputError as exc:
                raise InputError([Problem(where, None, field(path), f"value {value:g}: {q.message}")
                                  for q in exc.problems]) from None


def parse_vary(items: list[str]) -> dict[str, Range | Values]:
    """`path=low:high[:levels]` or `path=v1,v2,...` (the CLI's --vary)."""
    out: dict[str, Range | Values] = {}
    for item in items:
        path, sep, rhs = item.partition("=")
        try:
            if not sep or not path:
                raise ValueError("expected PATH=LOW:HIGH[:LEVELS] or PATH=V1,V2,...")
            if path in out:
                raise ValueError(f"{path} is varied twice; allowed: each field once")
            if ":" in rhs:
                parts = [float(x) for x in rhs.split(":")]
                if len(parts) not in (2, 3):
                    raise ValueError("expected LOW:HIGH or LOW:HIGH:LEVELS")
                out[path] = Range(low=parts[0], high=parts[1], levels=int(parts[2]) if len(parts) == 3 else None)
            else:
                out[path] = Values(values=[float(x) for x in rhs.split(",") if x.strip()])
        except (ValueError, ValidationError) as exc:
            message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise InputError.one(None, f"{message.removeprefix('Value error, ')}", field=f"--vary {item}") from None
    return out


def load_spec(path: Path) -> SweepSpec:
    doc, _ = read_yaml(path, dotted_keys=False)  # parameters are dotted paths; size, keys, aliases checked
    if "parameters" not in doc and ("extends" in doc or "demand" in doc or "china" in doc):
        raise InputError.one(path, "is a scenario, not a sweep file; allowed: a scenario with --vary "
                                   "PATH=LOW:HIGH[:LEVELS], or a sweep file (see sweeps/)", field="--vary")
    try:
        doc["scenario"] = str((path.parent / doc["scenario"]).resolve()) if "scenario" in doc else None
        return SweepSpec.model_validate(doc)
    except ValidationError as exc:
        raise InputError([Problem(path, None, ".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]) from None
    except (yaml.YAMLError, TypeError, OSError) as exc:
        raise InputError.one(path, f"not a readable sweep file: {exc}") from None
