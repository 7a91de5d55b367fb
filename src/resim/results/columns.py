"""The column dictionary: every series column a run writes, with its unit, its meaning and what it
is per (a flow during the month, a level at the month's end, or a mean over the month). Runs write
it beside their series (columns.csv), the Parquet schema carries each column's unit, and
docs/outputs.md is rendered from it."""

from __future__ import annotations

from typing import NamedTuple

from resim.scenario.schema import Scenario


class Column(NamedTuple):
    name: str
    unit: str
    meaning: str
    per: str  # "month (flow)", "month end (level)" or "month (mean)"


FLOW, LEVEL, MEAN = "month (flow)", "month end (level)", "month (mean)"
T = "t NdFeB"

TOTALS: dict[str, tuple[str, str, str]] = {  # name -> (unit, meaning, per)
    "demand_units": ("vehicles", "EV sales planned this month (before any shortage), all segments", FLOW),
    "built_units": ("vehicles", "vehicles built: ferrite-motor ones and those with the magnets they needed", FLOW),
    "vehicles_not_built": ("vehicles", "attempted (new demand plus backlog) minus built", FLOW),
    "lost_units": ("vehicles", "unbuilt vehicles not deferred: lost sales", FLOW),
    "backlog_units": ("vehicles", "deferred vehicles waiting to be built next month (decays with a half-life)", LEVEL),
    "ferrite_units": ("vehicles", "vehicles built on ferrite or magnet-free motors", FLOW),
    "demand_t": (T, "NdFeB the month's vehicles needed (new demand and backlog, less ferrite ones)", FLOW),
    "used_t": (T, "NdFeB used in vehicles built", FLOW),
    "shortfall_t": (T, "NdFeB needed but not on hand: demand_t - used_t", FLOW),
    "delivered_china_t": (T, "magnets from China landed at makers (the opening pipeline included)", FLOW),
    "delivered_motor_t": (T, "magnets inside motors imported whole from China, landed", FLOW),
    "delivered_non_china_t": (T, "magnets from non-China makers (Japan, Korea/Vietnam, USA, Europe), landed", FLOW),
    "delivered_recycling_t": (T, "recycled magnets, landed", FLOW),
    "delivered_domestic_t": (T, "magnets from India's own plants, landed", FLOW),
    "delivered_stockpile_t": (T, "magnets released from the strategic stockpile", FLOW),
    "delivered_chain_t": (T, "magnets used from stock held along the chain (tier-1s, sub-assemblies) beyond the "
                             "makers' own: the chain stock's fall while it kept lines running", FLOW),
    "maker_stock_t": (T, "magnets on hand at makers, all grades, the chain's stock and the stockpile's released "
                         "reserve included", LEVEL),
    "chain_stock_t": (T, "of maker_stock_t, held along the chain (tier-1 motor makers, sub-assemblies in transit)",
                      LEVEL),
    "cover_days": ("days", "mean stock on hand over the month divided by the month's need per day", MEAN),
    "in_transit_t": (T, "magnets shipped and not yet landed", LEVEL),
    "held_at_port_t": (T, "magnets waiting at a Chinese port for a licence", LEVEL),
    "licences_pending": ("files", "licence files open (filed, not yet settled)", LEVEL),
    "licences_pending_t": (T, "tonnes waiting on open licence files", LEVEL),
    "licences_decided": ("files", "licence files settled this month (approved or abandoned)", FLOW),
    "licences_approved": ("files", "licence files approved this month", FLOW),
    "domestic_output_t": (T, "magnets made by India's plants (EV share)", FLOW),
    "domestic_warehouse_t": (T, "plants' finished magnets not yet sold", LEVEL),
    "dytb_short_t": ("t NdFeB", "Dy/Tb-grade output the plants made as light grade for want of Dy+Tb", FLOW),
    "stockpile_t": (T, "strategic stockpile not yet released (counted from the start, released from its ready date)",
                    LEVEL),
    "magnet_spend_inr": ("INR", "what makers paid for magnets landed (motor duty and lost subsidy included)", FLOW),
    "premium_inr": ("INR", "of which above China's export price", FLOW),
    "value_not_built_inr": ("INR", "ex-showroom value of vehicles not built", FLOW),
}
PER_GROUP = {  # name -> meaning, per segment and per maker group
    "demand_t": "NdFeB needed", "used_t": "NdFeB used", "shortfall_t": "NdFeB short",
    "delivered_t": "magnets landed, all sources", "stock_t": "magnets on hand at the month's end",
    "demand_units": "vehicles planned (before any shortage)", "vehicles_not_built": "vehicles not built",
    "lost_units": "vehicles lost",
}
VEHICLES = ("demand_units", "vehicles_not_built", "lost_units")  # per-group columns counted in vehicles
GROUP_ONLY = {  # name -> (unit, meaning, per), per maker group only
    "licence_cover_share": ("share", "share of the month in which the group could ship Dy/Tb-grade magnets from "
                                     "China without a new licence (not licensed then, a valid licence of its own, "
                                     "or a general licence naming it)", MEAN),
}


def dictionary(scenario: Scenario) -> list[Column]:
    """Every column of `scenario`'s series, in the order the model writes them."""
    from resim.model.simulation import columns  # the model owns the order

    out = []
    for name in columns(scenario):
        if name in TOTALS:
            out.append(Column(name, *TOTALS[name]))
            continue
        base, _, who = name.partition(".")
        if base in GROUP_ONLY:
            unit, meaning, per = GROUP_ONLY[base]
            out.append(Column(name, unit, f"{meaning}, maker group {who}", per))
            continue
        kind = "maker group" if "." in who else "segment"
        unit = "vehicles" if base in VEHICLES else T
        out.append(Column(name, unit, f"{PER_GROUP[base]}, {kind} {who}",
                          LEVEL if base == "stock_t" else FLOW))
    return out


def unit_of(column: str) -> str:
    """A series column's unit (per-segment and per-group columns take their total's)."""
    base = column.split(".", 1)[0]
    if base in TOTALS:
        return TOTALS[base][0]
    if base in GROUP_ONLY:
        return GROUP_ONLY[base][0]
    return "vehicles" if base in VEHICLES else T


def markdown(scenario: Scenario) -> str:
    """docs/outputs.md: the dictionary of series columns, as a table."""
    rows = [c for c in dictionary(scenario) if "." not in c.name]
    lines = ["# Outputs: the series columns", "",
             "Written by `resim run` to `series.parquet` (one row per replication and reported month; dates as",
             "dates), with each column's unit in the Parquet field metadata and the whole dictionary in",
             "`columns.csv` beside it. Generated from `resim.results.columns` (a test keeps this page current).", "",
             "Every other table resim writes (summaries, replications, sweep points, comparisons, indices,",
             "draws) carries each column's unit in its Parquet field metadata too, and every results folder has",
             "a Frictionless Data Package descriptor, `datapackage.json`, listing its tables with each field's",
             "type and unit, for tools that cannot see Parquet metadata (polars, DuckDB). `open_run`,",
             "`open_sweep`, `open_comparison` and `open_sensitivity` give them as DataFrames with dates as",
             "dates and the units in `attrs[\"units\"]`.", "",
             "| column | unit | per | meaning |", "|---|---|---|---|"]
    lines += [f"| `{c.name}` | {c.unit} | {c.per} | {c.meaning} |" for c in rows]
    lines += ["", "Per segment and per maker group (`column.segment`, `column.segment.group`, e.g.",
              "`shortfall_t.e2w.small_makers`):", "", "| column | unit | per | meaning |", "|---|---|---|---|"]
    lines += [f"| `{name}.<segment>[.<group>]` | {unit_of(name)} | {LEVEL if name == 'stock_t' else FLOW} | {meaning} |"
              for name, meaning in PER_GROUP.items()]
    lines += [f"| `{name}.<segment>.<group>` | {unit} | {per} | {meaning} (per maker group only) |"
              for name, (unit, meaning, per) in GROUP_ONLY.items()]
    return "\n".join(lines) + "\n"
