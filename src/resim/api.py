"""Reading written runs from Python: `open_run(folder)` gives pandas DataFrames with dates as dates
and units in `DataFrame.attrs["units"]` (pandas keeps attrs through most operations; the column
dictionary is also a DataFrame), wide or tidy (one row per replication, month, segment and group).

    from resim.api import open_run
    run = open_run("results/pause_ends/<run-id>")
    run.series(["shortfall_t", "demand_t"])        # replication x month, wide
    run.tidy("shortfall_t")                        # replication, month, segment, group, shortfall_t
    run.replications()                             # per replication: outcomes, regime outcomes, draws
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from resim.errors import InputError
from resim.outputs import unit_of


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
        frame = pq.read_table(self.folder / "series.parquet", columns=wanted).to_pandas()
        frame["month"] = pd.to_datetime(frame["month"])
        frame.attrs["units"] = {c: unit_of(c) for c in frame.columns if c not in ("replication", "month")}
        return frame

    def tidy(self, column: str) -> pd.DataFrame:
        """One output in long form: replication, month, segment, group ('' for a segment's total) and
        the value, for every segment and maker group (the dotted columns `column.segment[.group]`)."""
        names = [c for c in pq.read_schema(self.folder / "series.parquet").names if c.startswith(f"{column}.")]
        if not names:
            raise InputError.one(self.folder, f"no per-segment columns for {column!r}; allowed: e.g. shortfall_t, "
                                              "demand_t, used_t, delivered_t, stock_t", field="column")
        wide = self.series(names)
        long = wide.melt(id_vars=["replication", "month"], var_name="key", value_name=column)
        parts = long["key"].str.split(".", n=2, expand=True).reindex(columns=[0, 1, 2])
        long["segment"], long["group"] = parts[1], parts[2].fillna("")
        long = long.drop(columns="key")[["replication", "month", "segment", "group", column]]
        long.attrs["units"] = {column: unit_of(column)}
        return long

    def replications(self) -> pd.DataFrame:
        """Per replication: cumulative outcomes, the regime outcomes drawn and every world draw."""
        return pq.read_table(self.folder / "replications.parquet").to_pandas()


def open_run(folder: Path | str) -> Run:
    folder = Path(folder)
    manifest_file = folder / "manifest.json"
    if not manifest_file.is_file() or not (folder / "series.parquet").is_file():
        raise InputError.one(folder, "not a finished resim run (needs manifest.json and series.parquet)")
    return Run(folder, json.loads(manifest_file.read_text()))
