"""A strategic stockpile of Dy/Tb-grade magnets (usable in any magnet design), released to a maker
group when it reviews with less on hand than the release cover, up to a monthly cap; higher-priority
groups review first. Ready from a date (a lever built now, in a scenario that starts in the past);
never replenished within a run.

Released magnets are the group's reserve: a last resort used only once its own magnets run out,
and not counted in the position it orders on. So a stockpile changes no order, no licence file and
no draw of luck: replication by replication it can only reduce the shortfall."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resim.model.licensing import STOCKPILE, Shipment
from resim.model.stock import RESERVE

if TYPE_CHECKING:
    from resim.model.makers import MakerGroup


class Stockpile:
    def __init__(self, tonnes: float, release_below_weeks: float, max_release_t_per_month: float | None,
                 ready_day: float = 0.0):
        self.tonnes = self.initial_t = tonnes
        self.ready_day = ready_day
        self.release_below_days = release_below_weeks * 7
        self.max_release = float("inf") if max_release_t_per_month is None else max_release_t_per_month
        self.released_month_t = 0.0

    def release(self, group: MakerGroup, day: float) -> None:
        """Top `group` up to the release cover, as far as the stockpile and this month's cap allow."""
        if self.tonnes <= 0 or day < self.ready_day:
            return
        need_per_day = sum(group.stock.rate)
        want = need_per_day * self.release_below_days - group.stock.total()
        give = min(want, self.tonnes, self.max_release - self.released_month_t)
        if give > 0:
            self.tonnes -= give
            self.released_month_t += give
            group.receive([Shipment(group, RESERVE, give, "", STOCKPILE)], day)

    def close_month(self) -> float:
        out, self.released_month_t = self.released_month_t, 0.0
        return out
