"""Write a run to `results/<scenario>/<run-id>/`, streaming per-replication series to Parquet.

The run is written into a hidden `.incomplete-<run-id>` folder and renamed when complete, so an
interrupted run never looks finished; on any error the temporary folder is removed.

Files: series.parquet (one row per replication and month), replications.parquet (per-replication
metrics, regime outcomes and world draws), summary_monthly.parquet/.csv, summary_yearly.csv,
fan_chart.png, columns.csv (the column dictionary: unit, meaning, per what) and manifest.json.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import platform
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from resim import __version__
from resim.folders import folder_for, read_manifest, staged, write_manifest
from resim.model import COMPILED, columns
from resim.montecarlo.runner import Replication
from resim.plots import fan_chart, save
from resim.results import statistics
from resim.results.columns import dictionary, unit_of
from resim.results.tables import describe, schema_with_units, write_table
from resim.scenario.posterior import read_posterior
from resim.scenario.schema import Scenario

KEPT = ("shortfall_t", "demand_t", "vehicles_not_built")  # held in memory for the summary


RUN_KEYS = ("scenario", "question", "seed", "replications", "start", "horizon_months", "report_from",
            "reported_months", "units", "outcomes", "run_summary", "yearly")  # what readers of a run rely on

LIBRARIES = ("simpy", "numpy", "scipy", "pydantic", "pyarrow", "matplotlib", "typer", "pandas", "xarray", "dask",
             "distributed", "SALib", "scikit-learn", "ema_workbench")


def versions() -> dict[str, str]:
    """resim's, Python's and each installed library's version, for a manifest (optional libraries
    absent from this environment are left out)."""
    found = {"resim": __version__, "python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            found[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def scenario_hash(scenario: Scenario) -> str:
    """A digest of everything a run of `scenario` depends on: the resolved scenario and, when it
    draws from a posterior, that posterior's contents (not only its folder's path)."""
    canonical = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True)
    if scenario.posterior:
        canonical += read_posterior(scenario.posterior).content_hash
    return hashlib.sha256(canonical.encode()).hexdigest()


def posterior_provenance(folder: str) -> dict[str, Any]:
    """Where a scenario's fitted parameters came from: the calibration folder and what it fitted to."""
    manifest = read_manifest(Path(folder))
    return {"folder": folder, "calibration": manifest["name"], "observations_file": manifest["observations_file"],
            "observations_hash": manifest["observations_hash"], "fitted": list(manifest["priors"]),
            "effective_sample_size": manifest["diagnostics"]["effective_sample_size"],
            "content_hash": read_posterior(folder).content_hash}


class RunWriter:
    def __init__(self, root: Path, scenario: Scenario, seed: int, replications: int,
                 parameters: list[dict[str, str]] | None = None, started: float | None = None):
        self.scenario, self.seed, self.replications = scenario, seed, replications
        self.parameters = parameters or []
        self.hash = scenario_hash(scenario)
        self.final = folder_for(root, scenario.name)
        self.run_id = self.final.name
        self.columns = columns(scenario)
        self.months = scenario.reported_dates
        self.month_days = np.array(self.months, dtype="datetime64[D]")
        fields = [pa.field("replication", pa.int32()), pa.field("month", pa.date32())]
        fields += [pa.field(c, pa.float64()) for c in self.columns]
        self.schema = schema_with_units(pa.schema(fields, metadata={"scenario": scenario.name,
                                                                    "scenario_hash": self.hash}))
        # Held in memory for the summary, preallocated (a few kB per replication; the full
        # series go to disk): the kept columns, world draws and regime outcomes.
        self.kept = {c: np.zeros((replications, scenario.reported_months)) for c in KEPT}
        self.draw_names: list[str] = []
        self.draws = np.zeros((replications, 0))
        self.outcome_names: list[str] = []
        self.outcomes = np.zeros((replications, 0), dtype=object)
        self.count = 0  # replications added so far (a --precision run may add more than planned)
        self.precision: dict[str, Any] | None = None
        self.started = time.perf_counter() if started is None else started  # for the wall time
        self._staging = ExitStack()  # the folder is hidden until finish() renames it
        self.tmp = self._staging.enter_context(staged(self.final))
        try:  # interrupted before __exit__ can run (a SIGTERM while starting): remove the staging here
            # dictionary encoding only where values repeat (trying it on every float column halved write speed)
            self.writer = pq.ParquetWriter(self.tmp / "series.parquet", self.schema,
                                           use_dictionary=["replication", "month"])
        except BaseException:
            self._staging.__exit__(*sys.exc_info())
            raise

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:  # interrupted or failed: nothing is left that looks finished
            self.writer.close()
            self._staging.__exit__(exc_type, exc, tb)

    def add(self, reps: list[Replication]) -> None:
        months = self.scenario.reported_months
        by_column = np.concatenate([r.series for r in reps]).T.copy()  # one copy, then contiguous columns
        arrays = [pa.array(np.repeat([r.index for r in reps], months).astype(np.int32)),
                  pa.array(np.tile(self.month_days, len(reps)))]
        arrays += [pa.array(column) for column in by_column]
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        if not self.draw_names and reps:  # every replication draws the same parameters
            self.draw_names, self.outcome_names = sorted(reps[0].draws), sorted(reps[0].outcomes)
            self.draws = np.zeros((self.replications, len(self.draw_names)))
            self.outcomes = np.zeros((self.replications, len(self.outcome_names)), dtype=object)
        while reps and reps[-1].index >= len(self.draws):  # grow (doubling) for --precision runs
            self.kept = {c: np.concatenate([a, np.zeros_like(a)]) for c, a in self.kept.items()}
            self.draws = np.concatenate([self.draws, np.zeros_like(self.draws)])
            self.outcomes = np.concatenate([self.outcomes, np.zeros_like(self.outcomes)])
        self.count += len(reps)
        for r in reps:
            for c in KEPT:
                self.kept[c][r.index] = r.series[:, self.columns.index(c)]
            self.draws[r.index] = [r.draws[k] for k in self.draw_names]
            self.outcomes[r.index] = [r.outcomes[k] for k in self.outcome_names]

    def kept_so_far(self) -> dict[str, np.ndarray]:
        return {c: a[: self.count] for c, a in self.kept.items()}

    def finish(self, command: list[str], workers: int) -> Path:
        self.writer.close()
        self.replications = self.count
        self.kept, self.draws, self.outcomes = (self.kept_so_far(), self.draws[: self.count],
                                                self.outcomes[: self.count])
        shortfall, demand, not_built = (self.kept[c] for c in KEPT)
        stats = statistics.monthly(shortfall, demand)
        per_rep = statistics.per_replication(shortfall, not_built)
        years = statistics.yearly(shortfall, demand, self.months)
        self._write_tables(stats, per_rep, years)
        subtitle = (f"{self.replications} replications, seed {self.seed}, scenario hash {self.hash[:8]}; "
                    f"t NdFeB per month")
        save(fan_chart(self.months, stats, f"{self.scenario.title or self.scenario.name}: EV magnet shortfall, India",
                       subtitle),
             self.tmp / "fan_chart.png")
        manifest = self._manifest(command, workers, per_rep, years)
        describe(self.tmp, f"resim run of {self.scenario.name}")
        write_manifest(self.tmp, manifest)
        self._staging.close()  # renames the folder: the run is complete
        return self.final

    def _write_tables(self, stats: dict[str, np.ndarray], per_rep: dict[str, np.ndarray],
                      years: list[dict[str, float]]) -> None:
        monthly = pa.table({"month": pa.array(np.array(self.months, dtype="datetime64[D]")),
                            **{k: pa.array(v) for k, v in stats.items()}})
        write_table(monthly, self.tmp / "summary_monthly.parquet")
        pacsv.write_csv(monthly, self.tmp / "summary_monthly.csv")
        pacsv.write_csv(pa.Table.from_pylist(years), self.tmp / "summary_yearly.csv")
        column_rows = [c._asdict() for c in dictionary(self.scenario)]
        pacsv.write_csv(pa.Table.from_pylist(column_rows), self.tmp / "columns.csv")
        first = per_rep["first_short_month"]
        table = {"replication": pa.array(np.arange(len(first), dtype=np.int32)),
                 **{k: pa.array(v) for k, v in per_rep.items() if k != "first_short_month"},
                 "first_short_month": pa.array([self.months[i] if i >= 0 else None for i in first],
                                               type=pa.date32())}
        for j, key in enumerate(self.outcome_names):
            table[f"outcome.{key}"] = pa.array(self.outcomes[:, j].tolist(), type=pa.string())
        for j, key in enumerate(self.draw_names):
            table[f"draw.{key}"] = pa.array(self.draws[:, j])
        write_table(pa.table(table), self.tmp / "replications.parquet")

    def _outcome_label(self, name: str) -> str:
        """A drawn outcome's name as a reader knows it: `regime_4` is the regime change of its date."""
        index = name.removeprefix("regime_")
        if index.isdigit() and int(index) < len(self.scenario.china.regimes):
            return f"regime change of {self.scenario.china.regimes[int(index)].from_}"
        return name

    def _manifest(self, command: list[str], workers: int, per_rep: dict[str, np.ndarray],
                  years: list[dict[str, float]]) -> dict[str, Any]:
        cum = per_rep["cumulative_shortfall_t"]
        first = per_rep["first_short_month"]
        return {
            "scenario": self.scenario.name,
            "question": self.scenario.question,
            "scenario_hash": self.hash,
            "run_id": self.run_id,
            "seed": self.seed,
            "replications": self.replications,
            "start": self.scenario.start,
            "horizon_months": self.scenario.horizon_months,
            "report_from": self.months[0],
            "reported_months": self.scenario.reported_months,
            "command": command,
            "workers": workers,
            "wall_time_s": round(time.perf_counter() - self.started, 3),
            "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "versions": versions(),
            "platform": sys.platform,
            "model_compiled": COMPILED,  # mypyc build (setup.py): same results, faster
            "units": {c: unit_of(c) for c in self.columns},
            "outcomes": statistics.describe_outcomes(*(self.kept[c] for c in KEPT)),
            "run_summary": {
                "cumulative_shortfall_t": {"mean": float(cum.mean()), "p5": float(np.percentile(cum, 5)),
                                           "p50": float(np.median(cum)), "p95": float(np.percentile(cum, 95)),
                                           **dict(zip(("p50_low", "p50_high"), statistics.quantile_ci(cum, 0.5),
                                                      strict=True))},
                "p_any_shortfall": float((first >= 0).mean()),
                "first_short_month_p50": (self.months[int(np.median(first[first >= 0]))]
                                          if (first >= 0).any() else None),
                "longest_short_run_months_p50": float(np.median(per_rep["longest_short_run_months"])),
                "cumulative_vehicles_not_built_p50": float(np.median(per_rep["cumulative_vehicles_not_built"])),
            },
            "yearly": years,
            "by_outcome": statistics.by_outcome(cum, first >= 0, [self._outcome_label(n) for n in self.outcome_names],
                                                self.outcomes),
            "parameters": self.parameters,
            **({"precision": self.precision} if self.precision else {}),
            **({"posterior": posterior_provenance(self.scenario.posterior)} if self.scenario.posterior else {}),
            "resolved_scenario": self.scenario.model_dump(mode="json", by_alias=True),
        }
