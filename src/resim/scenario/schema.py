"""The scenario schema: what a scenario YAML file may say, with units in field names.

Numeric fields are `Param`s (a number, a `{ref: id}` to `seeds/`, or a distribution). Fields marked
`EventDays` are drawn afresh for every event; all others once per replication (uncertainty about
the world). The schema knows nothing of the model; `resim schema` prints it as JSON Schema.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from resim.folders import FolderName
from resim.scenario.params import (
    CoverMonths,
    CoverWeeks,
    EventDays,
    Fraction,
    Growth,
    KgPerVehicle,
    NonNegative,
    Param,
    PositiveEventDays,
    Scale,
    ServiceLevel,
    TonnesPerYear,
    VehiclesPerYear,
)

Product = Literal["dytb_magnet", "light_magnet", "dytb_oxide", "ndpr_oxide", "motor"]
Grade = Literal["dytb", "light"]
LicenceClass = Literal["maker", "tier1", "plant"]  # applicants: EV makers, global tier-1 suppliers, domestic plants
def _not_a_boolean(value: Any) -> Any:
    """YAML reads `on`, `yes` and `true` as booleans, which pydantic would take as 1: refuse them."""
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is a yes/no, not a number; allowed: a number")
    return value


MAX_SEED = 2**63 - 1  # seeds fit a signed 64-bit integer: Parquet, pandas and EMA Workbench hold them
Count = Annotated[int, BeforeValidator(_not_a_boolean)]  # a whole number that a boolean must not pass for
Number = Annotated[float, BeforeValidator(_not_a_boolean)]
PositiveDays = Annotated[float, Field(gt=0), BeforeValidator(_not_a_boolean)]  # constraint first: JSON Schema


FIRST_YEAR, LAST_YEAR = 1900, 2200  # the calendar a scenario may use


def month_start(start: dt.date, k: int) -> dt.date:
    """The first day of the k-th month after `start`'s month (k = 0: `start`'s own)."""
    m = start.month - 1 + k
    return dt.date(start.year + m // 12, m % 12 + 1, 1)


class Section(BaseModel):
    """A section of a scenario file: unknown keys refused, NaN and infinity refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


class RuleSet(Section):
    """What China's export rules require for each product flowing to India."""

    licensed: list[Product] = Field(default_factory=list, description="Products needing a licence.")
    banned: list[Product] = Field(default_factory=list, description="Products not exported at all.")
    approval_probability: Fraction | None = Field(
        None, description="Overrides china.licensing.approval_probability (every class) while these rules hold."
    )
    class_approval_probability: dict[LicenceClass, Fraction] = Field(
        default_factory=dict, description="Per applicant class, overriding approval_probability while these hold."
    )
    may_license: dict[Product, Fraction] = Field(
        default_factory=dict, description="Products these rules license with a probability: a choice the legal "
        "texts do not settle, decided once per replication (the outcome is reported like a regime outcome).")
    non_china_exposed_share: Fraction = Field(
        0.0, description="Share of non-China magnet makers' output for India held back by an extraterritorial rule."
    )
    source: str = Field("", description="Seed ids (comma-separated) or the rationale for what these rules "
                                        "license and ban: listed by `resim sources` as a structural choice.")
    note: str = ""


class Outcome(Section):
    """One possible outcome of an uncertain regime change (e.g. what happens when a pause ends)."""

    name: str
    probability: Number = Field(ge=0, le=1)
    rules: str
    shift_days: Count = Field(0, description="Move the change earlier (<0) or later (>0), in days.")


class RegimeChange(Section):
    """From `from` (+ `delay_days`) on, `rules` apply; or one of `outcomes`; both drawn once per replication."""

    from_: dt.date = Field(alias="from")
    rules: str | None = None
    outcomes: list[Outcome] | None = None
    delay_days: NonNegative = Field(0.0, description="Uncertain delay after `from` before the change takes effect.")
    note: str = ""

    @model_validator(mode="after")
    def _one_of(self) -> RegimeChange:
        if (self.rules is None) == (self.outcomes is None):
            raise ValueError("give exactly one of `rules` or `outcomes`")
        if self.outcomes is not None:
            total = sum(o.probability for o in self.outcomes)
            if abs(total - 1) > 1e-9:
                raise ValueError(f"outcome probabilities must sum to 1 (got {total:g})")
        return self


class Licensing(Section):
    """How China decides licence applications: each applicant (a maker group, the domestic plants)
    files its own, decided independently."""

    approval_probability: Fraction = Field(description="Chance that one decision is an approval.")
    class_approval_probability: dict[LicenceClass, Fraction] = Field(
        default_factory=dict, description="Per applicant class (e.g. tier1): overrides approval_probability."
    )
    validity_days: NonNegative = Field(
        0.0, description="A granted licence covers the applicant's shipments for this long (0: the filed ones only)."
    )
    decision_delay_days: EventDays = Field(description="Filing (or start of review) to decision.")
    decision_delay_scale: Scale = Field(
        1.0, description="This world's multiplier on every decision delay and on the delay applicants plan on, "
                         "drawn once per replication (1: the delays as given): how slow the office is this time, "
                         "a factor calibration can fit.")
    refile_delay_days: EventDays = Field(description="Rejection to re-filing.")
    max_refilings: Count = Field(ge=0, description="Rejections after which an order is abandoned.")
    reviewers: Annotated[int, Field(ge=1), BeforeValidator(_not_a_boolean)] | None = Field(
        None, description="Files reviewed at once; null = unlimited (no backlog effect)."
    )
    general_licences_from: dt.date | None = Field(
        None, description="From this date, groups that are named customers of general-licence holders ship freely."
    )
    renewal_lead_days: NonNegative | None = Field(
        None, description="Days before a licence expires that its holder files to renew it; null: the mean "
                          "decision delay, scaled (so that the renewal lands about when the licence lapses).")


class China(Section):
    rule_sets: dict[str, RuleSet]
    regimes: list[RegimeChange] = Field(min_length=1, description="Dated timeline; later entries win.")
    licensing: Licensing
    export_processing_days: PositiveEventDays = Field(
        description="Order to the Chinese border (production, paperwork); the rules then in force decide."
    )
    lead_time_days: EventDays = Field(description="Shipping and customs, Chinese border to Indian maker.")
    lead_time_scale: Scale = Field(
        1.0, description="This world's multiplier on every China shipping lead time, drawn once per replication "
                         "(1: the lead times as given): how slow the route is this time, a factor calibration can fit.")
    lead_time_spread: Scale = Field(
        1.0, description="This world's factor on the spread of China's shipping lead times around their median, on a "
                         "log scale (1: as given; 2: a lognormal's sigma doubled), drawn once per replication: how "
                         "erratic the route is this time (inspections, held cargo), a factor calibration can fit.")
    motor_extra_lead_days: NonNegative = Field(
        0.0, description="Extra lead time of motors imported whole (assembly in China, longer logistics)."
    )

    @model_validator(mode="after")
    def _in_order(self) -> China:
        # (that each named rule set exists is checked by the loader, which knows the lines)
        dates = [c.from_ for c in self.regimes]
        if dates != sorted(dates):
            raise ValueError("regimes must be in date order")
        return self


class Group(Section):
    """Makers within a segment that share a design and a way of buying: a share of the segment's
    vehicles, with their own parameters where they differ from the segment's (unset: inherited)."""

    share: Number = Field(ge=0, le=1, description="Share of the segment's vehicles (a segment's groups sum to 1).")
    ndfeb_kg_per_vehicle: KgPerVehicle | None = Field(None, description="NdFeB magnet per vehicle (null: the "
                                                                       "segment's).")
    dytb_grade_share: Fraction | None = Field(None, description="Share of NdFeB vehicles needing Dy/Tb grades.")
    min_dytb_grade_share: Fraction | None = Field(None, description="That share once light-REE redesigns qualify.")
    redesign_to_light_ree_months: NonNegative | None = Field(
        None, description="From a control on Dy/Tb-grade magnets to qualified light-REE designs."
    )
    inventory_cover_weeks: CoverWeeks | None = Field(None, description="Mean on-hand magnet cover.")
    chain_cover_weeks: CoverWeeks | None = Field(
        None, description="Stock held for the group along its supply chain (tier-1s, sub-assemblies), in weeks of need."
    )
    non_china_access: Fraction = Field(
        1.0, description="Share of non-China suppliers' India capacity this group can contract for (0: none)."
    )
    motor_import_start_share: Fraction = Field(
        0.0, description="Share of the group's NdFeB vehicles on motors imported whole from China at the start."
    )
    motor_import_max_share: Fraction = Field(
        0.0, description="Most of the group's NdFeB vehicles that can switch to motors imported whole from China."
    )
    motor_shift_per_month: Fraction = Field(0.0, description="How fast that share can grow, per month.")
    licence_class: LicenceClass = Field("maker", description="Applicant class, for the licence odds.")
    general_licence_customer: Fraction = Field(
        0.0, description="Chance that its Chinese suppliers hold general licences naming it (drawn per replication)."
    )
    priority: Count = Field(0, description="Higher first when the stockpile is shared out.")


class Segment(Section):
    """An EV segment: demand and design, split into maker groups (one group `all` if none given)."""

    units_per_year: VehiclesPerYear = Field(description="Vehicles per year at base_date.")
    base_date: dt.date
    growth_per_year: Growth = Field(description="Growth of sales a year, without a shortage.")
    ndfeb_kg_per_vehicle: KgPerVehicle = Field(description="NdFeB magnet in one vehicle's motors.")
    dytb_grade_share: Fraction = Field(description="Share of NdFeB vehicles needing Dy/Tb grades.")
    min_dytb_grade_share: Fraction = Field(description="That share once light-REE redesigns qualify.")
    chain_cover_weeks: CoverWeeks = Field(
        0.0, description="Stock held along the supply chain (tier-1 motor makers, sub-assemblies in transit) beyond "
                         "the makers' own cover, in weeks of need: used once the makers' own is gone.")
    ferrite_share_start: Fraction = Field(0.0, description="Share on ferrite/magnet-free motors at start.")
    ferrite_share_target: Fraction = Field(0.0, description="Share reached at ferrite_target_date.")
    ferrite_target_date: dt.date | None = None
    vehicle_value_inr: NonNegative = Field(0.0, description="Ex-factory value of one vehicle, INR.")
    groups: dict[str, Group] = Field(default_factory=lambda: {"all": Group(share=1.0)}, min_length=1,
                                     description="Maker groups; their shares sum to 1 (checked by the loader).")


class Review(Section):
    """When makers review their position: every `period_days` (null: continuously, reordering when
    the position falls to the reorder point), and at once on every regime change and licence refused for good."""

    period_days: PositiveDays | None = Field(14.0, description="Days between reviews; null = continuous review.")
    order_batch_days: Number = Field(
        0.0, ge=0, description="Smallest order, in days of need (continuous review needs > 0)."
    )

    @model_validator(mode="after")
    def _continuous_needs_a_batch(self) -> Review:
        if self.period_days is None and self.order_batch_days <= 0:
            raise ValueError("continuous review (period_days: null) needs order_batch_days > 0")
        return self


class Demand(Section):
    segments: dict[str, Segment] = Field(min_length=1)
    inventory_cover_weeks: CoverWeeks = Field(description="Makers' mean on-hand cover (all grades), beyond the "
                                                           "safety stock for lead-time spread.")
    service_level: ServiceLevel = Field(
        0.5, description="Chance that an order arrives before the cover runs out, which sets the safety stock "
                         "held for the spread of lead times (0.5: none).")
    redesign_to_light_ree_months: NonNegative = Field(
        description="From a control on Dy/Tb-grade magnets to qualified light-REE designs."
    )
    non_china_min_share: Fraction = Field(description="Ordered outside China even when China is open (contracts).")
    licence_applicants_per_group: Count = Field(
        1, ge=1, le=64, description="Firms in a maker group that apply for China's licences on their own; the group's "
                                    "orders needing a licence are theirs in equal parts.")
    non_china_carry_months: Count = Field(
        1, ge=0, le=24, description="Months a group can still call contracted non-China volumes it left uncalled."
    )
    review: Review = Field(default_factory=Review)
    deferred_share: Fraction = Field(0.0, description="Share of vehicles not built that buyers wait for.")
    backlog_half_life_days: PositiveDays = Field(60.0, description="Half of a waiting backlog gives up in this time.")


class Supplier(Section):
    """A non-China magnet source (an import supplier, or domestic recycling)."""

    kind: Literal["import", "recycling"] = "import"
    capacity_t_per_year: TonnesPerYear = Field(description="Capacity available to Indian EV makers.")
    available_from: dt.date | None = None
    ramp_months: NonNegative = Field(0.0, description="From available to full capacity.")
    lead_time_days: EventDays = Field(description="Order to delivery at the Indian maker.")
    premium_share: NonNegative = Field(0.0, description="Price premium over China's price; cheaper first.")
    dytb_secured_share: Fraction = Field(
        1.0, description="Dy/Tb-grade output kept when China restricts Dy/Tb oxide."
    )
    grades: list[Grade] = Field(default_factory=lambda: ["dytb", "light"])  # type: ignore[arg-type]
    share_before_contracts: Fraction = Field(
        1.0, description="Share of the capacity Indian buyers can get before new contracts qualify."
    )
    qualification_months: NonNegative = Field(
        0.0, description="From the first control on Dy/Tb-grade magnets to qualified contracts (full capacity)."
    )
    china_exposure_share: Fraction = Field(
        0.0, description="Share of output lost to China's measures against this supplier's country."
    )
    exposed_from: dt.date | None = None


class Plant(Section):
    """One domestic REPM plant under the 6,000 t/yr scheme (all plants share these specs)."""

    capacity_t_per_year: TonnesPerYear = Field(description="Nameplate magnet capacity of one plant.")
    award_delay_months: NonNegative = Field(description="Tender to award.")
    commissioning_months: NonNegative = Field(description="Award to first output.")
    ramp_months: NonNegative = Field(description="First output to full output.")
    utilisation: Fraction = Field(description="Saleable output as a share of nameplate once ramped.")


class Domestic(Section):
    ev_share: Fraction = Field(
        description="Share of the plants' capacity and inputs serving EV makers (rest: other uses)."
    )
    plants: Count = Field(ge=0, le=20)
    plant: Plant
    tender_date: dt.date
    dytb_output_share: Fraction = Field(description="Share of the plants' output made as Dy/Tb grade.")
    ndpr_oxide_t_per_t_magnet: NonNegative = Field(description="NdPr oxide a tonne of magnet takes.")
    dytb_content_share: Fraction = Field(description="Dy+Tb mass share in Dy/Tb-grade magnets.")
    irel_ndpr_oxide_start_t_per_year: TonnesPerYear = Field(description="IREL's NdPr oxide for magnets at first.")
    irel_ndpr_oxide_target_t_per_year: TonnesPerYear = Field(description="IREL's NdPr oxide for magnets once "
                                                                         "ramped.")
    irel_ramp_start: dt.date
    irel_ramp_months: NonNegative = Field(description="IREL's ramp from start to target.")
    non_china_ndpr_oxide_t_per_year: TonnesPerYear = Field(description="NdPr oxide from outside China for the "
                                                                       "plants.")
    lead_time_days: EventDays = Field(description="Plant to maker.")
    cost_premium_share: NonNegative = Field(
        0.0, description="Domestic magnets' price over China's (net of incentives); makers buy cheapest first."
    )
    warehouse_cap_months: CoverMonths | None = Field(
        None, description="Months of a customer's share of possible output the plants keep unsold; beyond it, "
                          "the customer buys from them first (null: it buys only when cheapest or in need).")


class HeavyRee(Section):
    alt_dytb_t_per_year: TonnesPerYear = Field(description="Non-China Dy+Tb available to Indian plants.")
    domestic_dytb_t_per_year: TonnesPerYear = Field(description="Dy+Tb India separates itself.")
    non_china_magnet_dytb_t_per_year: TonnesPerYear | None = Field(
        None, description="Non-China Dy+Tb non-China magnet makers can put into magnets for India (null: no limit)."
    )
    non_china_magnet_dytb_added_t_per_year: TonnesPerYear = Field(0.0, description="Added from the date below.")
    non_china_magnet_dytb_added_from: dt.date | None = None
    magnet_dytb_content_share: Fraction = Field(0.05, description="Dy+Tb mass share in Dy/Tb-grade magnets.")


class Stockpile(Section):
    initial_cover_days: NonNegative = Field(
        0.0, description="Strategic stock when it is ready, in days of EV NdFeB demand then (Dy/Tb grade)."
    )
    ready_date: dt.date | None = Field(
        None, description="The stockpile is built by this date and nothing is released before it (default: start).")
    release_below_cover_weeks: NonNegative = Field(
        2.0, description="Release to a maker whose stock covers fewer weeks than this."
    )
    max_release_t_per_month: NonNegative | None = None


class Prices(Section):
    """Prices that weigh a lever against its cost (INR per kg of magnet, China's export price)."""

    china_inr_per_kg: dict[Grade, NonNegative] = Field(
        default_factory=lambda: {"dytb": 0.0, "light": 0.0},  # type: ignore[arg-type]
        description="China's export price by grade."
    )
    motor_duty_share: Fraction = Field(0.0, description="Customs duty on motors imported whole.")
    motor_magnet_value_share: Fraction = Field(
        0.3, description="Magnets' share of an imported motor's value (to price motors per kg of magnet)."
    )
    motor_subsidy_loss_inr_per_vehicle: NonNegative = Field(
        0.0, description="Local-fitment subsidy lost by a vehicle with an imported motor."
    )


class Levers(Section):
    stockpile: Stockpile = Field(default_factory=Stockpile)


class Scenario(Section):
    name: FolderName
    question: str = Field(description="The question this scenario answers.")
    title: str | None = Field(None, max_length=120, description="A human name for reports and charts (default: the "
                              "name); a file that extends another does not inherit it.")
    start: dt.date
    horizon_months: Count = Field(ge=1, le=600)
    report_from: dt.date | None = Field(
        None, description="First month reported (a month's first day within the horizon); the months before it "
                          "only set the state of stocks, licences and contracts (known history). Default: start.")
    replications: Count = Field(1000, ge=1, le=200_000)
    seed: Count = Field(0, ge=0, le=MAX_SEED)
    posterior: str | None = Field(
        None, description="A finished calibration folder (relative to the file that sets it): the world parameters "
                          "it fitted are drawn from its accepted sets, one per replication, by weight.")
    china: China
    demand: Demand
    suppliers: dict[str, Supplier] = Field(default_factory=dict)
    domestic: Domestic
    heavy_ree: HeavyRee
    prices: Prices = Field(default_factory=Prices)
    levers: Levers = Field(default_factory=Levers)
    key_assumptions: list[str] = Field(
        default_factory=list, description="Dotted paths of the parameters a report shows first, as the key "
                                          "assumptions, in order (`resim sources` lists every path).")

    @model_validator(mode="after")
    def _start_is_month_start(self) -> Scenario:
        if self.start.day != 1:
            raise ValueError(f"start must be the first day of a month (got {self.start})")
        return self

    @field_validator("start")
    @classmethod
    def _start_in_calendar(cls, v: dt.date) -> dt.date:
        if not FIRST_YEAR <= v.year <= LAST_YEAR - 50:  # the horizon is at most 600 months: 50 years
            raise ValueError(f"must fall within {FIRST_YEAR}-{LAST_YEAR - 50}; allowed: a first of a "
                             f"month in those years, so that the horizon ends by {LAST_YEAR}")
        return v


    @field_validator("report_from")
    @classmethod
    def _report_from_in_horizon(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start, months = info.data.get("start"), info.data.get("horizon_months")
        if v is None or start is None or months is None:
            return v
        end = month_start(start, months)
        if v.day != 1 or not start <= v < end:
            raise ValueError(f"must be the first day of a month from start {start} to before the horizon's end "
                             f"{end} (got {v})")
        return v

    @property
    def report_offset(self) -> int:
        """Months simulated before the first reported month."""
        if self.report_from is None:
            return 0
        return (self.report_from.year - self.start.year) * 12 + self.report_from.month - self.start.month

    @property
    def reported_months(self) -> int:
        return self.horizon_months - self.report_offset

    @property
    def end(self) -> dt.date:
        """First day after the horizon."""
        return month_start(self.start, self.horizon_months)

    @property
    def reported_dates(self) -> list[dt.date]:
        """The first day of each reported month: the dates of every monthly table a run writes."""
        return [month_start(self.start, k) for k in range(self.report_offset, self.horizon_months)]


def rule_sets_in_force(scenario: Scenario) -> list[str]:
    """The rule sets some regime change can bring into force, in file order."""
    used = {change.rules for change in scenario.china.regimes if change.rules is not None}
    used |= {o.rules for change in scenario.china.regimes for o in change.outcomes or []}
    return [name for name in scenario.china.rule_sets if name in used]


KEY = r"[A-Za-z0-9_]+"  # a name the file chooses: a segment, group, rule set, supplier


def json_schema(overlay: bool = False) -> dict[str, Any]:
    """The scenario JSON Schema, with the loader's bounds. `overlay`: for a file that `extends:`
    another, where every field is optional and a dotted key (`a.b.c: 1`, relative to the level it
    is written at) or a `+` append (`regimes+: [...]`) stands for a path into the scenario: each
    path is checked against the field it reaches, so a dotted typo or an out-of-range value fails
    in an editor as it fails in the loader."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": f"urn:resim:schema:{'overlay' if overlay else 'scenario'}",
              **Scenario.model_json_schema(by_alias=True)}
    if not overlay:
        return schema
    defs = schema["$defs"]
    sections = {cls.__name__ for cls in _subclasses(Section)}
    for node in [schema, *(d for name, d in defs.items() if name in sections)]:
        paths = {f"^{path}$": json.loads(json.dumps(leaf)) for path, leaf in _paths(node, defs, sections).items()
                 if "\\." in path or path.endswith("\\+")}
        if paths:
            node["patternProperties"] = paths

    def relax(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("required", None)
            for value in node.values():
                relax(value)
        elif isinstance(node, list):
            for value in node:
                relax(value)

    relax(schema)
    schema["properties"]["extends"] = {"type": "string", "description": "The scenario file this one overrides."}
    schema["title"] = "resim scenario overlay (a file with extends:)"
    return schema


def _subclasses(cls: type) -> list[type]:
    direct: list[type] = cls.__subclasses__()
    return [sub for child in direct for sub in (child, *_subclasses(child))]


def _paths(node: dict[str, Any], defs: dict[str, Any], sections: set[str]) -> dict[str, Any]:
    """Every path below an object's properties, as a regular expression, with the schema it reaches."""
    return {re.escape(name) + rest: leaf for name, sub in node.get("properties", {}).items()
            for rest, leaf in _below(sub, defs, sections)}


def _below(schema: dict[str, Any], defs: dict[str, Any], sections: set[str]) -> list[tuple[str, Any]]:
    """(path suffix, schema) for a field with `schema`: the field itself, then what lies below it:
    a section's fields, a mapping's entries (any name), a list's items (by index) and its append."""
    out: list[tuple[str, Any]] = [("", schema)]
    refs = [s["$ref"] for s in (schema, *schema.get("anyOf", [])) if "$ref" in s]
    section = refs[0].rsplit("/", 1)[-1] if len(refs) == 1 else None
    if section in sections:
        out += [(r"\." + rest, leaf) for rest, leaf in _paths(defs[section], defs, sections).items()]
    elif schema.get("type") == "object" and isinstance(schema.get("additionalProperties"), dict):
        out += [(r"\." + KEY + rest, leaf) for rest, leaf in _below(schema["additionalProperties"], defs, sections)]
    elif schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        out.append((r"\+", schema))
        out += [(r"\.[0-9]+" + rest, leaf) for rest, leaf in _below(schema["items"], defs, sections)]
    return out


__all__ = ["Scenario", "Param"]
