"""Reading written results from Python: `open_run(folder)` gives pandas DataFrames with dates as
dates and units in `DataFrame.attrs["units"]` (pandas keeps attrs through most operations; the
column dictionary is also a DataFrame), wide or tidy (one row per replication, month, segment and
group), or an xarray Dataset with units as attributes; `open_sweep`, `open_comparison` and
`open_sensitivity` give their tables the same way. Folders are found by what they hold.

    from resim.results.api import open_run
    run = open_run("results/pause_ends/<run-id>")
    run.series(["shortfall_t", "demand_t"])        # replication x month, wide
    run.tidy("shortfall_t")                        # replication, month, segment, group, shortfall_t
    run.dataset()["shortfall_t_by_group"]          # xarray: replication x month x group, units in attrs
    run.replications()                             # per replication: outcomes, regime outcomes, draws
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from resim.errors import InputError
from resim.folders import read_manifest, read_table
from resim.results.columns import unit_of
from resim.results.writer import RUN_KEYS


@dataclass(frozen=True)
class Run:
    """A finished results folder of `resim run`."""

    folder: Path
    manifest: dict[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        return str(self.manifest["scenario"])

    def columns(self) -> pd.DataFrame:
        """The column dictionary: name, unit, meaning, per what."""
        return pd.read_csv(self.folder / "columns.csv")

    def series(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Monthly series, one row per replication and month (all columns unless some are named)."""
        wanted = None if columns is None else ["replication", "month", *columns]
        frame = read_table(self.folder / "series.parquet", columns=wanted).to_pandas()
        frame["month"] = pd.to_datetime(frame["month"])
        frame.attrs["units"] = {c: unit_of(c) for c in frame.columns if c not in ("replication", "month")}
        return frame

    def tidy(self, column: str) -> pd.DataFrame:
        """One output in long form: replication, month, level ('segment' for a segment's total,
        'group' for a maker group), segment, group ('' for a segment's total) and the value. Sum one
        level at a time: each adds up to the run's total (both together count it twice)."""
        names = [c for c in pq.read_schema(self.folder / "series.parquet").names if c.startswith(f"{column}.")]
        if not names:
            raise InputError.one(self.folder, f"no per-segment columns for {column!r}; allowed: e.g. shortfall_t, "
                                              "demand_t, used_t, delivered_t, stock_t", field="column")
        wide = self.series(names)
        long = wide.melt(id_vars=["replication", "month"], var_name="key", value_name=column)
        parts = long["key"].str.split(".", n=2, expand=True).reindex(columns=[0, 1, 2])
        long["segment"], long["group"] = parts[1], parts[2].fillna("")
        long["level"] = long["group"].map(lambda g: "segment" if g == "" else "group")
        long = long.drop(columns="key")[["replication", "month", "level", "segment", "group", column]]
        long.attrs["units"] = {column: unit_of(column)}
        return long

    def replications(self) -> pd.DataFrame:
        """Per replication: cumulative outcomes, the regime outcomes drawn and every world draw."""
        return _frame(read_table(self.folder / "replications.parquet"))

    def dataset(self) -> Any:
        """The series as an xarray Dataset: totals on (replication, month); each per-group output as
        `<name>_by_group` on (replication, month, group) with the group's segment as a coordinate
        (groups named `segment.group`); attributes `units` and `long_name` from the column dictionary."""
        import xarray as xr

        frame = self.series()
        meaning = dict(zip(*(self.columns()[c] for c in ("name", "meaning")), strict=True))
        reps = sorted(frame["replication"].unique())
        months = pd.DatetimeIndex(sorted(frame["month"].unique()))
        frame = frame.sort_values(["replication", "month"])
        shape = (len(reps), len(months))
        coords = {"replication": reps, "month": months}
        data: dict[str, Any] = {}
        per_group: dict[str, list[str]] = {}
        for column in frame.columns.drop(["replication", "month"]):
            base, dot, rest = column.partition(".")
            if dot and rest.count(".") == 1:
                per_group.setdefault(base, []).append(column)
            elif not dot:
                data[column] = xr.DataArray(frame[column].to_numpy().reshape(shape), dims=("replication", "month"),
                                            attrs={"units": unit_of(column), "long_name": meaning.get(column, "")})
        for base, columns in per_group.items():
            groups = [c.partition(".")[2] for c in columns]
            values = frame[columns].to_numpy().reshape((*shape, len(columns)))
            data[f"{base}_by_group"] = xr.DataArray(
                values, dims=("replication", "month", "group"),
                coords={"group": groups, "segment": ("group", [g.split(".")[0] for g in groups])},
                attrs={"units": unit_of(base), "long_name": f"{meaning.get(base, base)}, per maker group"})
        return xr.Dataset(data, coords=coords, attrs={"scenario": self.name, "seed": self.manifest["seed"],
                                                      "run": str(self.folder)})


def open_run(folder: Path | str) -> Run:
    folder = Path(folder)
    return Run(folder, read_manifest(folder, "finished resim run", needs=RUN_KEYS, files=("series.parquet",)))


@dataclass(frozen=True)
class Results:
    """A finished folder of `resim sweep`, `compare` or `sensitivity`: its manifest and tables."""

    folder: Path
    manifest: dict[str, Any] = field(repr=False)
    tables: tuple[str, ...]  # the Parquet files it holds, without the suffix

    def table(self, name: str | None = None) -> pd.DataFrame:
        """One of its tables (default: the first of `tables`), with units in attrs where known."""
        name = name or self.tables[0]
        if name not in self.tables:
            raise InputError.one(self.folder, f"no table {name!r}; allowed: {', '.join(self.tables)}", field="name")
        frame = _frame(read_table(self.folder / f"{name}.parquet"))
        frame.attrs["units"] = {**self.manifest.get("units", {}), **frame.attrs["units"]}  # and each outcome's
        return frame


def _frame(table: Any) -> pd.DataFrame:
    """A table as pandas: dates as datetime64, each column's unit (from the Parquet field's
    metadata) in attrs["units"]."""
    frame = table.to_pandas()
    for f in table.schema:
        if str(f.type).startswith("date"):
            frame[f.name] = pd.to_datetime(frame[f.name])
    frame.attrs["units"] = {f.name: f.metadata[b"unit"].decode() for f in table.schema
                            if f.metadata and b"unit" in f.metadata}
    return frame


def _open(folder: Path | str, what: str, required: str, tables: tuple[str, ...]) -> Results:
    folder = Path(folder)
    manifest = read_manifest(folder, f"finished {what}", files=(f"{required}.parquet",))
    present = tuple(t for t in tables if (folder / f"{t}.parquet").is_file())
    return Results(folder, manifest, present)


def open_sweep(folder: Path | str) -> Results:
    """A finished sweep: `table()` is one row per point (parameters and outcomes with intervals)."""
    return _open(folder, "resim sweep", "points", ("points", "sensitivity"))


def open_comparison(folder: Path | str) -> Results:
    """A comparison: `table()` the paired outcome differences, `table("monthly_difference")` by month."""
    return _open(folder, "resim compare", "comparison", ("comparison", "monthly_difference"))


def open_sensitivity(folder: Path | str) -> Results:
    """A whole-model sensitivity analysis: `table()` the indices, `table("convergence")`, `table("points")`."""
    return _open(folder, "resim sensitivity", "indices", ("indices", "convergence", "points"))
