"""China's licensing office: applications wait for a reviewer, are decided after a random delay,
and are approved with the regime's approval probability; rejected ones are re-filed after a delay,
up to a limit, then abandoned.

With `reviewers` set, at most that many files are under review at once (FIFO queue), so delays
grow with the backlog, and each decision is an event. With unlimited reviewers a file's fate does
not depend on other files, and the regime is a known function of time, so the whole chain of
decisions and re-filings is drawn when the file is filed and only its final outcome is an event:
the same process, at a fraction of the events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import simpy

from resim.model.clock import after
from resim.model.regime import Regime
from resim.sampling import MonthlyDraws


class Buyer(NamedTuple):
    """What happens to a buyer's part of an order: it arrives, its licence is granted, or abandoned."""

    receive: Callable[[float], None]
    granted: Callable[[float], None]
    abandoned: Callable[[float], None]


Split = list[tuple[Buyer, float]]  # the buyers of one order and their shares of it (summing to 1)


@dataclass(frozen=True)
class LicenceDraws:
    """The luck of one product's licence files, keyed by filing month and attempt (see
    sampling.MonthlyDraws): decision delays, re-filing delays, approval uniforms, and the lead
    time of the shipment once a file is approved."""

    decision_delay_days: MonthlyDraws
    refile_delay_days: MonthlyDraws
    approval_u: MonthlyDraws
    shipping_days: MonthlyDraws


@dataclass(eq=False, slots=True)
class Application:
    """One file for `tonnes` of `product`, filed in month `month`, shared by several buyers."""

    product: str
    month: int
    split: Split
    tonnes: float
    on_approved: Callable[[Application], None]
    on_abandoned: Callable[[Application], None]
    rejections: int = 0
    queued_since: float = 0.0  # when it last joined the reviewers' queue (days)
    waited_days: float = 0.0  # total time spent waiting for a reviewer (finite review capacity)


class LicenceOffice:
    def __init__(self, env: simpy.Environment, regime: Regime, draws: dict[str, LicenceDraws],
                 max_refilings: int, reviewers: int | None):
        self.env, self.regime, self.draws = env, regime, draws
        self.max_refilings, self.reviewers = max_refilings, reviewers
        self.queue: deque[Application] = deque()
        self.in_review = 0
        # filed or awaiting re-filing, not yet settled; a dict keeps filing order, so sums are reproducible
        self.pending: dict[Application, None] = {}
        self.pending_tonnes = 0.0  # running total, updated in event order (so reproducible)

    def file(self, app: Application) -> None:
        self.pending[app] = None
        self.pending_tonnes += app.tonnes
        if self.reviewers is None:
            self._resolve_chain(app)
        else:
            self._enqueue(app)

    def _verdict(self, app: Application, day: float) -> str:
        """'approved', 'abandoned' or 'refile': the decision on `app`'s current attempt on `day`."""
        rules = self.regime.rules_at(day)
        if app.product in rules.banned:
            return "abandoned"
        if app.product not in rules.licensed or \
                self.draws[app.product].approval_u(app.month, app.rejections) < self.regime.approval_probability(day):
            return "approved"
        return "refile" if app.rejections < self.max_refilings else "abandoned"

    def _resolve_chain(self, app: Application) -> None:
        """Draw every decision and re-filing of `app` now; schedule only its final outcome."""
        draws, t, month = self.draws[app.product], self.env.now, app.month
        decision_delay, refile_delay = draws.decision_delay_days, draws.refile_delay_days
        while True:
            t += decision_delay(month, app.rejections)
            verdict = self._verdict(app, t)
            if verdict != "refile":
                break
            t += refile_delay(month, app.rejections)
            app.rejections += 1
        after(self.env, t - self.env.now, self._settle, app, verdict == "approved")

    def _enqueue(self, app: Application) -> None:
        app.queued_since = self.env.now
        if self.in_review < self.reviewers:  # type: ignore[operator]
            self._review(app)
        else:
            self.queue.append(app)

    def _review(self, app: Application) -> None:
        app.waited_days += self.env.now - app.queued_since
        self.in_review += 1
        after(self.env, self.draws[app.product].decision_delay_days(app.month, app.rejections), self._decide, app)

    def _decide(self, app: Application) -> None:
        self.in_review -= 1
        if self.queue:
            self._review(self.queue.popleft())
        verdict = self._verdict(app, self.env.now)
        if verdict == "refile":
            delay = self.draws[app.product].refile_delay_days(app.month, app.rejections)
            app.rejections += 1
            after(self.env, delay, self._enqueue, app)
        else:
            self._settle(app, verdict == "approved")

    def _settle(self, app: Application, approved: bool) -> None:
        del self.pending[app]
        self.pending_tonnes -= app.tonnes
        (app.on_approved if approved else app.on_abandoned)(app)
