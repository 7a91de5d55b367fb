"""Every table resim writes carries its units: in each Parquet field's metadata (`unit`) and in a
Frictionless Data Package descriptor, `datapackage.json`, beside the tables, which generic tools
read (polars and DuckDB do not see Parquet field metadata). A column's unit follows from its name,
as units live in names (`shortfall_t`, `mean_cumulative_shortfall_t_low`, `p_any_shortfall`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from resim.folders import atomic_write_table, write_json
from resim.results.columns import GROUP_ONLY, PER_GROUP, TOTALS, unit_of
from resim.scenario.provenance import unit_of as field_unit

DATES = ("month", "first_short_month")
YEARLY = {"year": "calendar year", "months": "months"}  # the yearly summary's year and its months reported
SERIES = {*TOTALS, *PER_GROUP, *GROUP_ONLY}  # the bases of series columns
PREFIXES = ("mean_", "median_", "p95_", "p5_", "cumulative_", "reference_", "other_")
SUFFIXES = ("_low", "_high", "_p5", "_p25", "_p50", "_p75", "_p95", "_mean", "_conf")
BY_ENDING = (("_t", "t NdFeB"), ("_inr", "INR"), ("_units", "vehicles"), ("vehicles_not_built", "vehicles"),
             ("_pct_of_demand", "percent"), ("_pct", "percent"), ("_share", "fraction"), ("_months", "months"),
             ("_days", "days"), ("first_short_month", "reported month (0 = the first)"), ("_month", "date"))


def unit(column: str) -> str:
    """The unit of any column resim writes ('' when it has none: an index, a name, a category)."""
    if column in DATES:
        return "date"
    for prefix in ("draw.", "param."):  # a scenario field's drawn or swept value: the field's unit
        if column.startswith(prefix):
            return _field_unit(column.removeprefix(prefix))
    if column.startswith(("outcome.", "sim.")):  # a drawn outcome's name; a statistic in its observation's unit
        return ""
    if column.startswith("p_"):
        return "probability"
    if column.split(".", 1)[0] in SERIES:  # a series column: the column dictionary's unit
        return unit_of(column)
    if "." in column:  # a scenario field (a sensitivity design's factor)
        return _field_unit(column)
    if column in YEARLY:
        return YEARLY[column]
    base = column
    for suffix in SUFFIXES:
        base = base.removesuffix(suffix)
    for prefix in PREFIXES:
        base = base.removeprefix(prefix)
    if base.startswith("shortfall_share"):
        return "fraction"
    return next((u for ending, u in BY_ENDING if base.endswith(ending)), "")


def _field_unit(path: str) -> str:
    """A scenario field's unit; an entry of a mapping field (`class_approval_probability.tier1`)
    takes the field's."""
    return field_unit(path) or field_unit(path.rsplit(".", 1)[0])


def schema_with_units(schema: pa.Schema) -> pa.Schema:
    """The schema with each field's unit in its metadata (fields without a unit left bare)."""
    return pa.schema([f.with_metadata({**(f.metadata or {}), b"unit": unit(f.name).encode()}) if unit(f.name) else f
                      for f in schema], metadata=schema.metadata)


def with_units(table: pa.Table) -> pa.Table:
    return table.cast(schema_with_units(table.schema))


def write_table(table: pa.Table, path: Path) -> None:
    """Write a table as Parquet with its units, whole or not at all."""
    atomic_write_table(with_units(table), path)


FRICTIONLESS_TYPES = {"double": "number", "float": "number", "int32": "integer", "int64": "integer",
                      "bool": "boolean", "string": "string", "large_string": "string", "date32[day]": "date"}


def describe(folder: Path, title: str) -> None:
    """Write `datapackage.json`: every table in `folder` (Parquet and CSV) as a resource, each field
    with its Table Schema type and, where it has one, its unit (and meaning, from the column
    dictionary beside a run). Called just before the folder's manifest, so it is whole when the
    folder is."""
    meanings = _meanings(folder / "columns.csv")
    resources = []
    for path in sorted(folder.glob("*.parquet")) + sorted(folder.glob("*.csv")):
        schema = pq.read_schema(path) if path.suffix == ".parquet" else pacsv.read_csv(path).schema
        fields = []
        for f in schema:
            field: dict[str, Any] = {"name": f.name, "type": FRICTIONLESS_TYPES.get(str(f.type), "any")}
            if unit(f.name):
                field["unit"] = unit(f.name)
            if f.name in meanings:
                field["description"] = meanings[f.name]
            fields.append(field)
        resources.append({
            "name": f"{path.stem}-{path.suffix[1:]}", "path": path.name, "format": path.suffix[1:],
            "mediatype": "application/vnd.apache.parquet" if path.suffix == ".parquet" else "text/csv",
            "schema": {"fields": fields}})
    write_json(folder / "datapackage.json", {"name": "resim-results", "title": title, "resources": resources})


def _meanings(columns_csv: Path) -> dict[str, str]:
    if not columns_csv.is_file():
        return {}
    rows = pacsv.read_csv(columns_csv).to_pydict()
    return dict(zip(rows["name"], rows["meaning"], strict=True))
