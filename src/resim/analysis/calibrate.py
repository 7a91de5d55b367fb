"""Calibration to observed history: approximate Bayesian computation (ABC), run on the sweep
machinery (points streamed to disk, resumable, local processes or a Dask cluster).

Two algorithms. `method: smc` (what the shipped fit uses): ABC-SMC, resim.analysis.abcsmc, each
particle run for fresh replications under its own seed (`run_smc`). `method: rejection`
(rejection ABC with kernel weights, as in Beaumont, Zhang & Balding 2002, without their regression
adjustment): draw `draws` parameter sets from the scenario's own distributions of the
fitted parameters (the priors; a Latin hypercube over their quantiles); run each set as a sweep
point with the same replications (common random numbers, so sets differ by their parameters, not
their luck); take each observation's statistic on the replications' mean series, and the distance
of a set as the root mean square of (simulated - observed) / uncertainty; accept the
`accept_share` nearest sets, weighted by an Epanechnikov kernel of their distance with the largest
accepted distance as bandwidth. pyabc and elfi were considered: both bring their own samplers and
storage, which would bypass the keyed random streams and the resumable point files.

An observations file names the scenario, the parameters to fit and the observations; each
observation names a model output (any series column, per group or segment; several are summed), a
window of reported months, an aggregation (sum, mean, index = window mean / base-window mean,
share = column sum / denominator sum), the observed value, its uncertainty (one standard
deviation) and its source.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy.stats import qmc

from resim import __version__
from resim.analysis import workfolder
from resim.analysis.abcsmc import distance as misfit
from resim.errors import InputError, Problem, TaskFailed
from resim.folders import (
    FolderName,
    read_manifest,
    read_resumable,
    read_table,
)
from resim.model import columns
from resim.montecarlo.executor import Tasks, as_completed
from resim.montecarlo.runner import run_one
from resim.results.tables import write_table
from resim.results.writer import scenario_hash
from resim.scenario.loader import Document, load, read_document
from resim.scenario.params import _Spec
from resim.scenario.posterior import weighted_quantile
from resim.scenario.schema import Scenario
from resim.scenario.walk import is_per_event, iter_specs
from resim.scenario.yamlfile import find_mark, read_yaml


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: dt.date = Field(alias="from", description="First month (its first day).")
    to: dt.date = Field(description="Last month (its first day), inclusive.")


class Observation(BaseModel):
    """One observed figure and how to compute it from a replication's monthly series."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str
    column: list[str] = Field(description="Series column(s), summed (e.g. delivered_china_t, shortfall_t.e2w).")
    window: Window
    aggregation: Literal["sum", "mean", "index", "share"]
    base: Window | None = Field(None, description="For index: the window whose mean is 1.")
    denominator: list[str] | None = Field(None, description="For share: the columns whose sum is the whole.")
    value: float
    uncertainty: float = Field(gt=0, description="One standard deviation of the observed value.")
    source: str

    @model_validator(mode="before")
    @classmethod
    def _one_column(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("column"), str):
            data = {**data, "column": [data["column"]]}
        if isinstance(data, dict) and isinstance(data.get("denominator"), str):
            data = {**data, "denominator": [data["denominator"]]}
        return data

    @model_validator(mode="after")
    def _needs(self) -> Observation:
        if self.aggregation == "index" and self.base is None:
            raise ValueError("aggregation index needs a base window")
        if self.aggregation == "share" and not self.denominator:
            raise ValueError("aggregation share needs denominator columns")
        return self


MIN_ACCEPTED = 5  # accepted sets a posterior needs at the least


class Observations(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: FolderName
    scenario: Path
    fit: list[str] = Field(min_length=1, description="Uncertain world parameters to fit (dotted paths).")
    draws: int = Field(200, ge=10, le=100_000, description="Parameter sets drawn from the priors.")
    replications: int = Field(10, ge=1, le=10_000, description="Replications per set (the same for every set).")
    accept_share: float = Field(0.2, gt=0, le=1, description="Share of the sets, nearest first, accepted.")
    method: Literal["rejection", "smc"] = Field(
        "rejection", description="rejection: the nearest accept_share of `draws` prior sets; smc: ABC-SMC "
                                 "(resim.analysis.abcsmc), `population` sets through generations of shrinking "
                                 "tolerance.")
    population: int = Field(200, ge=50, le=5_000, description="smc: sets in each generation.")
    max_generations: int = Field(8, ge=1, le=30, description="smc: generations after the prior's at most.")
    observations: list[Observation] = Field(min_length=1)

    @model_validator(mode="after")
    def _enough_accepted(self) -> Observations:
        """Fewer accepted sets than this cannot describe a posterior (the weights' effective sample
        size falls to 1-3): refused, rather than a posterior that looks finished."""
        kept = round(self.accept_share * self.draws)
        if self.method == "rejection" and kept < MIN_ACCEPTED:
            raise ValueError(f"accept_share {self.accept_share:g} of {self.draws:,} draws keeps {kept} set(s); "
                             f"allowed: at least {MIN_ACCEPTED} accepted sets: raise draws or accept_share")
        return self

    @model_validator(mode="after")
    def _names_unique(self) -> Observations:
        """Each observation is scored against its own figure: a repeated name would merge two."""
        seen = [o.name for o in self.observations]
        twice = sorted({n for n in seen if seen.count(n) > 1})
        if twice:
            raise ValueError(f"observation names repeated: {', '.join(twice)}; allowed: a distinct name for each")
        return self



# --- reading and checking ----------------------------------------------------------------------

def load_observations(path: Path) -> tuple[Observations, Scenario]:
    """Read and check an observations file against its scenario: columns, windows and fitted
    parameters must exist; errors name the file, line, field and what is allowed."""
    path = Path(path).resolve()
    raw, marks = read_yaml(path)

    def where(loc: tuple[Any, ...]) -> tuple[Path, int | None]:
        mark = find_mark(marks, tuple(loc))
        return (mark[0], mark[1]) if mark else (path, None)

    try:
        raw["scenario"] = str((path.parent / str(raw.get("scenario", ""))).resolve())
        spec = Observations.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = tuple(p for p in e["loc"] if not isinstance(p, str) or not p.startswith("function-"))
            file, line = where(loc)
            problems.append(Problem(file, line, ".".join(map(str, loc)), e["msg"].removeprefix("Value error, ")))
        raise InputError(problems) from None
    scenario = load(spec.scenario).scenario
    problems = _check_against(spec, scenario, where)
    if problems:
        raise InputError(problems)
    return spec, scenario


def _check_against(spec: Observations, scenario: Scenario,
                   where: Callable[[tuple[Any, ...]], tuple[Path, int | None]]) -> list[Problem]:
    problems: list[Problem] = []
    known = set(columns(scenario))
    months = scenario.reported_dates
    first, last = months[0], months[-1]
    for i, ob in enumerate(spec.observations):
        for key in ("column", "denominator"):
            for j, c in enumerate(getattr(ob, key) or []):
                if c not in known:
                    near = difflib.get_close_matches(c, sorted(known), n=4, cutoff=0.5) or sorted(known)[:4]
                    problems.append(Problem(*where(("observations", i, key)), f"observations.{i}.{key}.{j}",
                                            f"unknown column {c!r}; allowed: a series column, e.g. "
                                            f"{', '.join(near)} (per group: column.segment.group)"))
        for key in ("window", "base"):
            w = getattr(ob, key)
            if w is None:
                continue
            for end in (w.from_, w.to):
                if end.day != 1 or not first <= end <= last:
                    problems.append(Problem(*where(("observations", i, key)), f"observations.{i}.{key}",
                                            f"{end} is not a reported month; allowed: first days of months from "
                                            f"{first} to {last}"))
            if w.to < w.from_:
                problems.append(Problem(*where(("observations", i, key)), f"observations.{i}.{key}",
                                        "to is before from; allowed: from <= to"))
    uncertain = {path: obj for path, obj, field in iter_specs(scenario)
                 if isinstance(obj, _Spec) and not obj.is_fixed and not is_per_event(field)
                 and not path.startswith("domestic.plant.")}
    for i, path in enumerate(spec.fit):
        if path not in uncertain:
            problems.append(Problem(*where(("fit", i)), f"fit.{i}",
                                    f"{path!r} is not an uncertain world parameter of the scenario; allowed: fields "
                                    "drawn once per replication with a distribution (see `resim sources`), e.g. "
                                    + ", ".join(sorted(uncertain)[:4])))
    return problems


def priors(spec: Observations, scenario: Scenario) -> dict[str, _Spec]:
    found = {path: obj for path, obj, _ in iter_specs(scenario)}
    return {path: found[path] for path in spec.fit}


def prior_draws(prior: dict[str, _Spec], n: int, seed: int) -> list[dict[str, float]]:
    """n parameter sets: a Latin hypercube over the priors' quantiles (reproducible under `seed`)."""
    u = qmc.LatinHypercube(d=len(prior), seed=np.random.default_rng([seed, zlib.crc32(b"calibrate")])).random(n)
    return [{path: float(spec.ppf(float(u[k, j]))) for j, (path, spec) in enumerate(prior.items())}
            for k in range(n)]


# --- one set: simulated statistics -------------------------------------------------------------

def statistic(ob: Observation, series: np.ndarray, cols: list[str], months: list[dt.date]) -> float:
    """One replication's value of an observation (series: reported months x columns)."""
    def total(names: list[str]) -> np.ndarray:
        return sum(series[:, cols.index(c)] for c in names)  # type: ignore[return-value]

    def in_window(w: Window) -> np.ndarray:
        return np.array([w.from_ <= m <= w.to for m in months])

    values, window = total(ob.column), in_window(ob.window)
    if ob.aggregation == "sum":
        return float(values[window].sum())
    if ob.aggregation == "mean":
        return float(values[window].mean())
    if ob.aggregation == "index":
        base = float(values[in_window(ob.base)].mean())  # type: ignore[arg-type]
        return float(values[window].mean()) / base if base > 0 else float("nan")
    whole = float(total(ob.denominator)[window].sum())  # type: ignore[arg-type]
    return float(values[window].sum()) / whole if whole > 0 else float("nan")


def simulate_statistics(scenario_file: str, overrides: dict[str, float], replications: int, seed: int,
                        observations: list[dict[str, Any]]) -> dict[str, float]:
    """The calibration's model function: each observation's statistic for one parameter set."""
    return statistics_of(load(Path(scenario_file), overrides).scenario, replications, seed, observations)


def shipped_statistics(document: Document, overrides: dict[str, float], replications: int, seed: int,
                       observations: list[dict[str, Any]]) -> dict[str, float]:
    """The same on a cluster worker, from the scenario's parsed files shipped to it."""
    return statistics_of(document.load(overrides).scenario, replications, seed, observations)


def statistics_of(sc: Scenario, replications: int, seed: int, observations: list[dict[str, Any]]) -> dict[str, float]:
    """Each observation's statistic over `replications` runs of one scenario (named `sim.<name>`)."""
    obs = [Observation.model_validate(o) for o in observations]
    runs = np.array([run_one(sc, seed, i).series for i in range(replications)])
    values = set_statistics(obs, runs, columns(sc), sc.reported_dates)
    return {f"sim.{o.name}": float(v) for o, v in zip(obs, values, strict=True)}


def set_statistics(obs: list[Observation], runs: np.ndarray, cols: list[str], months: list[dt.date]) -> np.ndarray:
    """Each observation's statistic on the replications' mean series (runs: replications x months x
    columns), so an index or share is a ratio of means: one replication's month of China arrivals
    is a few lots (its April/March index alone varied by 8-25 observation SDs), and a mean of such
    ratios is dominated by the replications whose base month happened to be small."""
    mean = runs.mean(axis=0)
    return np.array([statistic(o, mean, cols, months) for o in obs])


# --- the calibration folder --------------------------------------------------------------------

def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


CALIBRATION_KEYS = ("kind", "observations_file", "observations_hash", "scenario_file", "scenario_hash", "priors",
                    "settings", "seed", "observations", "points", "complete")  # what resuming relies on

def start(observations_file: Path, results: Path, seed: int | None, command: list[str],
          draws: int | None = None, replications: int | None = None) -> Path:
    """Create the calibration folder and its manifest (the prior draws are fixed here, for --resume)."""
    spec, scenario = load_observations(observations_file)
    options = {k: v for k, v in (("draws", draws), ("replications", replications)) if v}
    spec = type(spec).model_validate({**spec.model_dump(), **options})  # the file's caps bind the options too
    seed = scenario.seed if seed is None else seed
    prior = priors(spec, scenario)
    return workfolder.start(results, "calibrations", spec.name, {
        "kind": "resim calibration", "resim_version": __version__, "name": spec.name,
        "observations_file": str(Path(observations_file).resolve()),
        "observations_hash": file_hash(observations_file), "scenario_file": str(spec.scenario),
        "scenario": scenario.name, "scenario_hash": scenario_hash(scenario),
        "priors": {path: json.loads(p.model_dump_json()) for path, p in prior.items()},
        "settings": {"method": spec.method, "draws": spec.draws, "replications": spec.replications,
                     "accept_share": spec.accept_share, "population": spec.population,
                     "max_generations": spec.max_generations},
        "seed": seed, "observations": [json.loads(o.model_dump_json(by_alias=True)) for o in spec.observations],
        "points": prior_draws(prior, spec.draws, seed) if spec.method == "rejection" else [],  # smc: as it goes
        "command": command,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })


def check_resumable(folder: Path) -> dict[str, Any]:
    """A calibration may resume only if its observations and scenario are unchanged."""
    manifest = read_resumable(folder, "resim calibration folder", CALIBRATION_KEYS)
    if file_hash(Path(manifest["observations_file"])) != manifest["observations_hash"]:
        raise InputError.one(Path(manifest["observations_file"]), "changed since the calibration started; allowed: "
                             "resume with the file as it was, or start a new calibration", field="--resume")
    if scenario_hash(load(Path(manifest["scenario_file"])).scenario) != manifest["scenario_hash"]:
        raise InputError.one(Path(manifest["scenario_file"]), "the scenario changed since the calibration started; "
                             "allowed: start a new calibration", field="--resume")
    return manifest


def run(folder: Path, workers: int, on_point: Any = None, dask_scheduler: str | None = None) -> dict[str, Any]:
    """Run (or finish) the calibration in `folder` on local processes, or on the dask.distributed
    cluster at `dask_scheduler`; write the posterior and diagnostics; return them."""
    manifest = read_manifest(folder)
    if manifest["settings"].get("method") == "smc":
        return run_smc(folder, manifest, workers, on_point, dask_scheduler)
    points, settings = manifest["points"], manifest["settings"]
    common = {"replications": settings["replications"], "seed": manifest["seed"],
              "observations": manifest["observations"]}
    tasks = Tasks(points, functools.partial(simulate_statistics, manifest["scenario_file"], **common),
                  functools.partial(shipped_statistics, **common),
                  read_document(manifest["scenario_file"]) if dask_scheduler else None,
                  lambda i: f"point {i} {points[i]}")
    for index, outcome in as_completed(tasks, workfolder.to_do(folder, len(points), on_point), workers,
                                       dask_scheduler):
        workfolder.save(folder, index, workfolder.point_row(index, points[index], outcome))
        if on_point:
            on_point(index)
    table = workfolder.consolidate(folder, len(points))
    result = posterior_of(table.to_pydict(), manifest)
    write_table(pa.Table.from_pydict(result.pop("draws")), folder / "draws.parquet")
    write_table(pa.Table.from_pydict(result.pop("posterior")), folder / "posterior.parquet")
    from resim.plots import prior_posterior_chart, save

    drawn = table.to_pydict()
    save(prior_posterior_chart(drawn, drawn, result["weights_by_point"], list(manifest["priors"]),
                               f"{manifest['name']}: prior (grey) and posterior (blue) of the fitted parameters"),
         folder / "prior_posterior.png")
    del result["weights_by_point"]
    workfolder.complete(folder, {**manifest, "diagnostics": result})
    return result


def posterior_of(table: dict[str, list[Any]], manifest: dict[str, Any]) -> dict[str, Any]:
    """Distances, the accepted sets and their Epanechnikov weights, and diagnostics."""
    observations, settings = manifest["observations"], manifest["settings"]
    sim = np.array([[v if v is not None else np.nan for v in table[f"sim.{o['name']}"]] for o in observations]).T
    observed = np.array([o["value"] for o in observations])
    scale = np.array([o["uncertainty"] for o in observations])
    distance = misfit(sim, observed, scale)  # root mean square of the misses, in observation SDs (inf: no number)
    n = len(distance)
    keep = max(2, int(round(settings["accept_share"] * n)))
    order = np.argsort(distance, kind="stable")
    accepted = np.zeros(n, dtype=bool)
    accepted[order[:keep]] = True
    bandwidth = float(distance[order[keep - 1]])
    if not np.isfinite(bandwidth):  # never a posterior with NaN weights
        missing = [o["name"] for o, col in zip(observations, sim.T, strict=True) if not np.isfinite(col).any()]
        raise TaskFailed(f"fewer than {keep} of the {n} parameter sets gave a number for every observation "
                         f"(none for: {', '.join(missing) or 'various'}); nothing was accepted. Check those "
                         "observations' windows and base months, or raise replications")
    weights = np.where(accepted, 1 - (distance / bandwidth) ** 2 if bandwidth > 0 else 1.0, 0.0)
    weights = np.where(accepted, np.maximum(weights, 1e-12), 0.0)  # the farthest accepted set keeps a sliver
    weights = weights / weights.sum()
    ess = float(1 / np.sum(weights ** 2))
    params = list(manifest["priors"])
    summary = {}
    for path in params:
        x = np.array(table[f"param.{path}"], dtype=float)
        prior_mean, prior_sd = float(x.mean()), float(x.std())
        mean = float(np.sum(weights * x))
        sd = float(np.sqrt(np.sum(weights * (x - mean) ** 2)))
        summary[path] = {"prior_mean": prior_mean, "prior_sd": prior_sd, "posterior_mean": mean, "posterior_sd": sd,
                         "posterior_p5": weighted_quantile(x, weights, 0.05),
                         "posterior_p95": weighted_quantile(x, weights, 0.95)}
    draws = {"point": table["point"], **{f"param.{p}": table[f"param.{p}"] for p in params},
             **{f"sim.{o['name']}": table[f"sim.{o['name']}"] for o in observations},
             "distance": distance.tolist(), "accepted": accepted.tolist(), "weight": weights.tolist()}
    posterior = {k: [v for v, a in zip(vals, accepted, strict=True) if a] for k, vals in draws.items()
                 if k == "point" or k.startswith("param.") or k == "weight"}
    return {"draws": draws, "posterior": posterior, "weights_by_point": weights.tolist(),
            "accepted": int(keep), "acceptance_share": keep / n, "distance_threshold": bandwidth,
            "best_distance": float(distance[order[0]]), "effective_sample_size": ess, "parameters": summary,
            "predictive": predictive_check(sim, observations, weights)}


def predictive_check(sim: np.ndarray, observations: list[dict[str, Any]], weights: np.ndarray) -> dict[str, Any]:
    """Per observation, where the observed value falls in the model's predictive distribution of its
    statistic (on the mean of a point's replications, as the distance uses it), under the prior (all
    draws alike) and the posterior (accepted draws, weighted): p5, median, p95 and the observed
    value's percentile (mid-rank: statistics within 1e-9 SDs of it count half, so an observed 0 that
    the model often gives exactly sits at half that share, not at 0). A percentile outside 0.05-0.95
    marks an observation the model does not reach."""
    out = {}
    for k, ob in enumerate(observations):
        x, ok = sim[:, k], np.isfinite(sim[:, k])
        tie = 1e-9 * ob["uncertainty"]
        row: dict[str, Any] = {"observed": ob["value"], "uncertainty": ob["uncertainty"]}
        for which, w in (("prior", ok.astype(float)), ("posterior", np.where(ok, weights, 0.0))):
            if w.sum() <= 0:
                continue
            row[which] = {"p5": weighted_quantile(x[ok], w[ok], 0.05), "p50": weighted_quantile(x[ok], w[ok], 0.5),
                          "p95": weighted_quantile(x[ok], w[ok], 0.95),
                          "percentile": float(np.sum(w[ok] * ((x[ok] < ob["value"] - tie)
                                                             + 0.5 * (np.abs(x[ok] - ob["value"]) <= tie)))
                                              / w[ok].sum())}
        out[ob["name"]] = row
    return out


# --- ABC-SMC -----------------------------------------------------------------------------------

def particle_seed(seed: int, key: int) -> int:
    """A particle's own master seed: its simulations share no stream with any other particle's."""
    return int(np.random.SeedSequence([seed, key]).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _particle(scenario_file: str, replications: int, observations: list[dict[str, Any]],
              item: tuple[dict[str, float], int]) -> dict[str, float]:
    overrides, seed = item
    return simulate_statistics(scenario_file, overrides, replications, seed, observations)


def _shipped_particle(document: Document, item: tuple[dict[str, float], int], replications: int,
                      observations: list[dict[str, Any]]) -> dict[str, float]:
    overrides, seed = item
    return shipped_statistics(document, overrides, replications, seed, observations)


def run_smc(folder: Path, manifest: dict[str, Any], workers: int, on_point: Any = None,
            dask_scheduler: str | None = None) -> dict[str, Any]:
    """ABC-SMC (resim.analysis.abcsmc) over the folder's priors: each simulation is a particle run
    for `replications` fresh replications keyed by the particle, saved as points/<key>.parquet as it
    finishes, so --resume re-runs the (deterministic) algorithm and computes only what is missing."""
    from resim.analysis import abcsmc
    from resim.scenario.params import _Continuous

    settings, observations = manifest["settings"], manifest["observations"]
    found = {path: obj for path, obj, _ in iter_specs(load(Path(manifest["scenario_file"])).scenario)}
    prior = {path: found[path] for path in manifest["priors"]}  # the scenario is unchanged (check_resumable)
    if not all(isinstance(p, _Continuous) for p in prior.values()):
        raise InputError.one(Path(manifest["observations_file"]), "method smc needs a continuous prior for every "
                             "fitted parameter; allowed: method rejection", field="method")
    function = functools.partial(_particle, manifest["scenario_file"], settings["replications"], observations)
    shipped = functools.partial(_shipped_particle, replications=settings["replications"], observations=observations)
    document = read_document(manifest["scenario_file"]) if dask_scheduler else None
    names = [f"sim.{o['name']}" for o in observations]
    points = folder / "points"

    def statistics_of(keys: list[int]) -> np.ndarray:
        rows = [read_table(points / f"{k}.parquet").to_pylist()[0] for k in keys]
        return np.array([[np.nan if r[n] is None else r[n] for n in names] for r in rows], dtype=float)

    def simulate(sets: list[dict[str, float]], keys: list[int]) -> np.ndarray:
        todo = [i for i, k in enumerate(keys) if not (points / f"{k}.parquet").is_file()]
        items = [(sets[i], particle_seed(manifest["seed"], keys[i])) for i in todo]
        tasks = Tasks(items, function, shipped, document, lambda j: f"particle {keys[todo[j]]} {sets[todo[j]]}")
        for j, outcome in as_completed(tasks, list(range(len(todo))), workers, dask_scheduler):
            workfolder.save(folder, keys[todo[j]], workfolder.point_row(keys[todo[j]], sets[todo[j]], outcome))
            if on_point:
                on_point(keys[todo[j]])
        return statistics_of(keys)

    observed = np.array([o["value"] for o in observations])
    sd = np.array([o["uncertainty"] for o in observations])
    try:
        generations = abcsmc.run(prior, simulate, observed, sd, settings["population"], manifest["seed"],
                                 settings["max_generations"])
    except ValueError as exc:
        raise TaskFailed(f"ABC-SMC stopped: {exc}") from None
    if len(generations) == 1:  # never a prior presented as a posterior
        raise TaskFailed(f"ABC-SMC accepted fewer than {abcsmc.MIN_ACCEPTANCE:.0%} of the proposals at its first "
                         "tolerance: nothing was learned; widen the observations' uncertainty or the priors, or use "
                         "method rejection")
    first, last = generations[0], generations[-1]
    params = list(prior)

    def sets(g: abcsmc.Generation) -> dict[str, list[float]]:
        return {f"param.{p}": g.particles[:, j].tolist() for j, p in enumerate(params)}

    summary = {}
    for j, path in enumerate(params):
        x0, x, w = first.particles[:, j], last.particles[:, j], last.weights
        mean = float(np.sum(w * x))
        summary[path] = {"prior_mean": float(x0.mean()), "prior_sd": float(x0.std()), "posterior_mean": mean,
                         "posterior_sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))),
                         "posterior_p5": weighted_quantile(x, w, 0.05), "posterior_p95": weighted_quantile(x, w, 0.95)}
    write_table(pa.Table.from_pydict({"point": last.keys.tolist(), **sets(last), "weight": last.weights.tolist()}),
                folder / "posterior.parquet")
    every = sorted(int(p.stem) for p in points.glob("[0-9]*.parquet"))  # every simulation, by key
    write_table(pa.concat_tables([read_table(points / f"{k}.parquet") for k in every]), folder / "draws.parquet")
    prior_sim, posterior_sim = statistics_of(first.keys.tolist()), statistics_of(last.keys.tolist())
    predictive = predictive_check(prior_sim, observations, np.ones(len(prior_sim)))
    for name, row in predictive_check(posterior_sim, observations, last.weights).items():
        predictive[name]["posterior"] = row["posterior"]  # the last generation's sets, weighted
    result = {"method": "smc", "accepted": len(last.weights), "effective_sample_size": last.effective_sample_size,
              "best_distance": float(last.distances.min()), "distance_threshold": last.epsilon,
              "generations": [{"epsilon": g.epsilon if np.isfinite(g.epsilon) else None, "simulations": g.simulations,
                               "acceptance_rate": g.acceptance_rate, "effective_sample_size": g.effective_sample_size}
                              for g in generations],
              "simulations": sum(g.simulations for g in generations), "parameters": summary,
              "predictive": predictive}
    from resim.plots import prior_posterior_chart, save

    save(prior_posterior_chart(sets(first), sets(last), last.weights.tolist(), params,
                               f"{manifest['name']}: prior (grey) and ABC-SMC posterior (blue)"),
         folder / "prior_posterior.png")
    workfolder.complete(folder, {**manifest, "diagnostics": result})
    return result
