"""A strategic stockpile of Dy/Tb-grade magnets (usable in any design), released to makers whose
stock falls below a cover threshold, up to a monthly cap; never replenished within a run."""

from __future__ import annotations

from resim.model.makers import Maker
from resim.model.supply import pro_rata


class Stockpile:
    def __init__(self, tonnes: float, release_below_weeks: float, max_release_t_per_month: float | None):
        self.tonnes = self.initial_t = tonnes
        self.release_below_weeks = release_below_weeks
        self.max_release = float("inf") if max_release_t_per_month is None else max_release_t_per_month
        self.released_month_t = 0.0

    def release(self, makers: list[Maker], days: int) -> None:
        """At month start, after makers plan: top each short maker up to the threshold cover."""
        self.released_month_t = 0.0
        if self.tonnes <= 0:
            return
        want = []
        for maker in makers:
            need_per_week = sum(maker.plan.need_t.values()) / days * 7
            want.append(max(0.0, need_per_week * self.release_below_weeks - sum(maker.stock.values())))
        got = pro_rata(want, min(self.tonnes, self.max_release))
        for maker, tonnes in zip(makers, got, strict=True):
            if tonnes > 0:
                maker.receive("dytb", tonnes, ordered=False)
                self.tonnes -= tonnes
                self.released_month_t += tonnes
