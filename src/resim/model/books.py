"""The books: at each month end, the month's system-wide figures (what arrived by source, what
is in transit, held at port, pending, in the warehouse and the stockpile); and the checks, at every
month end (after every event in validation runs): no stock is negative, and each node's books
balance: maker groups (opening + received = used + stock), the plants' inputs (received = consumed
+ stock), and all magnets (what came in = used + stocks + in transit + warehouse + stockpile).
Tolerances are relative to the flows.

Compiled with the model (setup.py): run in the interpreter, the monthly check was 7% of a
replication of pause_ends over 120 months (21.2 -> 19.0 ms a replication), the figures 5%."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Final

from mypy_extensions import mypyc_attr

from resim.model.licensing import SOURCE_INDEX, SOURCES
from resim.model.stock import GRADES

if TYPE_CHECKING:
    from resim.model.domestic import DomesticPlants
    from resim.model.licensing import LicenceOffice
    from resim.model.makers import MakerGroup
    from resim.model.stockpile import Stockpile
    from resim.model.supply import Shipping

DELIVERED: Final = {"china": "delivered_china_t", "china_motor": "delivered_motor_t",  # magnet sources: column
                    "non_china": "delivered_non_china_t", "recycling": "delivered_recycling_t",
                    "domestic": "delivered_domestic_t"}
MAGNET_SOURCES: Final = tuple(DELIVERED)
CAME_IN: Final = tuple(s for s in DELIVERED if s != "domestic")  # domestic magnets were made in India
OTHER_COLUMNS: Final = [*DELIVERED.values(), "delivered_stockpile_t", "domestic_output_t", "dytb_short_t",
                        "in_transit_t", "held_at_port_t", "licences_pending", "licences_pending_t",
                        "licences_decided", "licences_approved", "domestic_warehouse_t",
                        "stockpile_t"]  # monthly figures not kept per group, in the order of `close_month`


@mypyc_attr(native_class=False)  # compiled, a class cannot inherit from AssertionError
class ConservationError(AssertionError):
    """The bookkeeping created or lost material: a bug, never a modelling outcome."""


class Books:
    def __init__(self, groups: list[MakerGroup], plants: DomesticPlants, stockpile: Stockpile, shipping: Shipping,
                 start: dt.date):
        self.groups, self.plants, self.stockpile, self.shipping, self.start = groups, plants, stockpile, shipping, start
        self.opening_t = total([g.opening_t for g in groups])

    def close_month(self, office: LicenceOffice, day: float) -> list[float]:
        """The month ending on `day`: its OTHER_COLUMNS figures (its tallies reset), once the books are checked."""
        shipping, plants, stockpile = self.shipping, self.plants, self.stockpile
        arrived = shipping.arrived_month_t
        output, dytb_short = plants.close_month(day)
        in_transit = total([shipping.in_transit_t[SOURCE_INDEX[s]] for s in MAGNET_SOURCES])
        at_port = total([g.at_port[0] + g.at_port[1] + g.at_port[2] for g in self.groups])
        row = [arrived[SOURCE_INDEX[source]] for source in DELIVERED] + [
            stockpile.close_month(), output, dytb_short, in_transit, at_port, float(len(office.pending)),
            office.pending_tonnes(), float(office.decided_month), float(office.approved_month),
            total(list(plants.warehouse.values())), stockpile.tonnes]
        for k in range(len(arrived)):
            arrived[k] = 0.0
        office.decided_month = office.approved_month = 0
        self.check(day)
        return row

    def check(self, now: float) -> None:
        """Raise ConservationError, naming the date and the node, if the books do not hold at `now`."""
        groups, plants, stockpile, shipping = self.groups, self.plants, self.stockpile, self.shipping
        shipped = total(list(shipping.shipped_t))
        scale = 1.0 + self.opening_t + stockpile.initial_t + shipped + plants.produced_t
        tolerance = 1e-9 * scale
        if self._lowest_t() < -tolerance:  # the nodes' names are built only when one is negative
            node, tonnes = min(self._nodes(), key=lambda n: n[1])
            raise ConservationError(f"{self._when(now)}: {node} is negative: {tonnes:g} t")
        for g in groups:
            if abs(g.imbalance_t()) > tolerance:
                raise ConservationError(
                    f"{self._when(now)}: group {g.name}: opening {g.opening_t:g} + received {g.received_t:g} != used "
                    f"{g.stock.used_total:g} + stock {g.stock.total():g} t")
        if abs(plants.input_imbalance_t()) > tolerance:
            raise ConservationError(f"{self._when(now)}: plants' inputs: received {plants.received} != consumed "
                                    f"{plants.consumed} + stock {plants.stock} t")
        came_in = self.opening_t + stockpile.initial_t + plants.produced_t + total(
            [shipping.shipped_t[SOURCE_INDEX[s]] for s in CAME_IN])
        accounted = (total([g.stock.used_total + g.stock.total() for g in groups])
                     + total([shipping.in_transit_t[SOURCE_INDEX[s]] for s in MAGNET_SOURCES])
                     + total(list(plants.warehouse.values())) + stockpile.tonnes)
        if abs(came_in - accounted) > tolerance:
            raise ConservationError(
                f"{self._when(now)}: all magnets: came in {came_in:g} t, accounted for {accounted:g} t")

    def _lowest_t(self) -> float:
        lowest = self.stockpile.tonnes
        for g in self.groups:
            for t in g.stock.level:
                lowest = min(lowest, t)
            for t in g.pipeline:
                lowest = min(lowest, t)
        for t in self.plants.stock:
            lowest = min(lowest, t)
        for t in self.plants.warehouse.values():
            lowest = min(lowest, t)
        for t in self.shipping.in_transit_t:
            lowest = min(lowest, t)
        return lowest

    def _nodes(self) -> list[tuple[str, float]]:
        groups, plants = self.groups, self.plants
        return [(f"group {g.name} {GRADES[k]} stock", g.stock.level[k]) for g in groups for k in range(4)] + [
            (f"group {g.name} {GRADES[k]} on order", g.pipeline[k]) for g in groups for k in range(3)] + [
            ("plants' NdPr oxide", plants.stock[0]), ("plants' Dy/Tb", plants.stock[1]),
            ("plants' warehouse", min(plants.warehouse.values())), ("stockpile", self.stockpile.tonnes)] + [
            (f"{source} in transit", t) for source, t in zip(SOURCES, self.shipping.in_transit_t, strict=True)]

    def _when(self, now: float) -> str:
        return f"{self.start + dt.timedelta(days=now)} (day {now:.2f})"


def total(values: list[float]) -> float:
    """sum(values) as a float (compiled, mypyc's `sum` over these floats failed: "int object expected")."""
    out = 0.0
    for v in values:
        out += v
    return out
