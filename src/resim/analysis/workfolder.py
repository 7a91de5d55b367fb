"""The folder of long, resumable work (a sweep, a sensitivity analysis, a calibration): a manifest
fixed at the start, one Parquet file per finished task under `points/` (whole or absent), and, when
every task is done, the tasks consolidated in `points.parquet` and the manifest marked complete. A
killed run loses only the tasks in flight; `--resume` computes the rest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from resim.folders import check_writable, folder_for, read_table, write_manifest
from resim.results.tables import describe, write_table
from resim.results.writer import versions


def start(results: Path, kind: str, name: str, manifest: dict[str, Any]) -> Path:
    """Make results/<kind>/<name>/<run id>/ with its manifest (not yet complete); return it."""
    check_writable(results)
    folder = folder_for(results / kind, name)
    (folder / "points").mkdir(parents=True)
    write_manifest(folder, {**manifest, "versions": versions(), "complete": False})
    return folder


def to_do(folder: Path, total: int, on_done: Callable[[int], None] | None = None) -> list[int]:
    """The tasks of `total` not yet on disk; each one already done is reported to `on_done` as -1
    (so that a progress bar starts where the last run stopped)."""
    done = {int(p.stem) for p in (folder / "points").glob("[0-9]*.parquet")}
    for _ in done:
        if on_done:
            on_done(-1)
    return [i for i in range(total) if i not in done]


def save(folder: Path, index: int, rows: list[dict[str, Any]]) -> None:
    """Task `index`'s rows, whole or not at all."""
    write_table(pa.Table.from_pylist(rows), folder / "points" / f"{index}.parquet")


def point_row(index: int, overrides: dict[str, float], outcome: dict[str, float]) -> list[dict[str, Any]]:
    """A finished point as its row: its index, its parameters (`param.<path>`) and its outcomes."""
    return [{"point": index, **{f"param.{k}": v for k, v in overrides.items()}, **outcome}]


def consolidate(folder: Path, total: int) -> pa.Table:
    """Every task's rows in task order, also written to points.parquet."""
    table = pa.concat_tables([read_table(folder / "points" / f"{i}.parquet") for i in range(total)])
    write_table(table, folder / "points.parquet")
    return table


def complete(folder: Path, manifest: dict[str, Any]) -> None:
    """Mark the work finished (the manifest is written last, so a folder is complete or visibly not)."""
    describe(folder, f"resim {manifest.get('kind', 'sweep')} {manifest.get('name', '')}".strip())
    write_manifest(folder, {**manifest, "complete": True})
