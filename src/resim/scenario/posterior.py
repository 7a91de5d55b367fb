"""A posterior: the accepted parameter sets and weights of a finished calibration (resim
calibrate), from which a scenario (`posterior: <folder>`) draws the world parameters it fitted,
one accepted set per replication, picked by weight with a keyed uniform."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from resim.errors import InputError
from resim.folders import read_manifest, read_table
from resim.scenario.schema import Scenario
from resim.scenario.walk import iter_specs


class Posterior(BaseModel):
    """Accepted parameter sets and their weights, read from a finished calibration folder."""

    model_config = ConfigDict(frozen=True)
    folder: str
    calibration: str  # its observations file's name
    parameters: dict[str, list[float]]
    weights: list[float]
    observations_hash: str
    effective_sample_size: float
    content_hash: str  # of posterior.parquet: the accepted sets and weights a run drew from

    def pick(self, u: float) -> dict[str, float]:
        """The accepted set at cumulative weight u (one uniform per replication)."""
        j = min(int(np.searchsorted(np.cumsum(self.weights), u * sum(self.weights), side="right")),
                len(self.weights) - 1)
        return {path: values[j] for path, values in self.parameters.items()}

    def quantile(self, path: str, q: float) -> float:
        """The fitted parameter's q-quantile under the weights."""
        return weighted_quantile(np.array(self.parameters[path]), np.array(self.weights), q)


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """The smallest x whose cumulative weight reaches q of the total."""
    order = np.argsort(x)
    cum = np.cumsum(w[order])
    return float(x[order][min(len(x) - 1, int(np.searchsorted(cum, q * cum[-1])))])


@functools.lru_cache(maxsize=8)
def read_posterior(folder: str) -> Posterior:
    path = Path(folder)
    table_file = path / "posterior.parquet"
    manifest = read_manifest(path, "finished resim calibration", "posterior", ("kind", "complete"),
                             (table_file.name,))
    if not manifest.get("complete") or manifest.get("kind") != "resim calibration":
        raise InputError.one(path, "calibration incomplete; allowed: a finished calibration folder "
                                   "(`resim calibrate --resume` finishes one)", field="posterior")
    table = read_table(table_file).to_pydict()
    return Posterior(folder=str(path.resolve()), calibration=manifest.get("name", path.name), weights=table["weight"],
                     parameters={p: table[f"param.{p}"] for p in manifest["priors"]},
                     observations_hash=manifest["observations_hash"],
                     effective_sample_size=manifest["diagnostics"]["effective_sample_size"],
                     content_hash=hashlib.sha256(table_file.read_bytes()).hexdigest())


def check_posterior_fits(folder: str, scenario: Scenario, file: Path, line: int | None) -> None:
    """A posterior reweights its priors: every fitted parameter must be uncertain in this scenario
    with the same distribution, else the posterior is from another scenario; or set to one value
    (a lever, a sweep point), which then wins over the fit while the rest come from the fit."""
    try:
        posterior = read_posterior(folder)
    except InputError as exc:  # name the scenario file and line that asked for it
        raise InputError.one(file, f"{folder}: {exc.problems[0].message}", field="posterior", line=line) from None
    manifest = read_manifest(Path(folder))
    found = {path: obj for path, obj, _ in iter_specs(scenario)}
    for path, prior in manifest["priors"].items():
        mine = found.get(path)
        if mine is not None and mine.is_fixed:
            continue
        if mine is None or json.loads(mine.model_dump_json()) != prior:
            raise InputError.one(file, f"posterior {posterior.folder} was fitted with prior {prior} for {path}, but "
                                       f"this scenario has {mine.describe() if mine is not None else 'no such field'}; "
                                       "allowed: a posterior fitted on this scenario's distributions, or one value set",
                                 field="posterior", line=line)
