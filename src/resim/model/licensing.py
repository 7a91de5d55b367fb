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
from dataclasses import dataclass, field
from typing import NamedTuple

import simpy

from resim.model.clock import after
from resim.model.regime import Regime
from resim.sampling import Bernoulli, EventSampler


class Buyer(NamedTuple):
    """What happens to a buyer's part of an order: it arrives, its licence is granted, or abandoned."""

    receive: Callable[[float], None]
    granted: Callable[[float], None]
    abandoned: Callable[[float], None]


@dataclass(eq=False)
class Application:
    """One file for `product`, covering several buyers' parts (tonnes)."""

    product: str
    parts: list[tuple[Buyer, float]]
    on_approved: Callable[[Application], None]
    on_abandoned: Callable[[Application], None]
    rejections: int = 0
    tonnes: float = field(init=False)

    def __post_init__(self) -> None:
        self.tonnes = sum(t for _, t in self.parts)


class LicenceOffice:
    def __init__(self, env: simpy.Environment, regime: Regime, decision_delay: EventSampler,
                 refile_delay: EventSampler, approve: Bernoulli, max_refilings: int,
                 reviewers: int | None):
        self.env, self.regime = env, regime
        self.decision_delay, self.refile_delay, self.approve = decision_delay, refile_delay, approve
        self.max_refilings, self.reviewers = max_refilings, reviewers
        self.queue: deque[Application] = deque()
        self.in_review = 0
        # filed or awaiting re-filing, not yet settled; a dict keeps filing order, so sums are reproducible
        self.pending: dict[Application, None] = {}
        self.pending_tonnes = 0.0  # running total, updated in event order (so reproducible)
        self.decisions = 0
        self.approvals = 0

    def file(self, app: Application) -> None:
        self.pending[app] = None
        self.pending_tonnes += app.tonnes
        if self.reviewers is None:
            self._resolve_chain(app)
        else:
            self._enqueue(app)

    def _resolve_chain(self, app: Application) -> None:
        """Draw every decision and re-filing of `app` now; schedule only its final outcome."""
        t = self.env.now
        while True:
            t += self.decision_delay()
            self.decisions += 1
            rules = self.regime.rules_at(t)
            if app.product in rules.banned:
                approved = False
                break
            if app.product not in rules.licensed or self.approve(self.regime.approval_probability(t)):
                approved = True
                break
            if app.rejections >= self.max_refilings:
                approved = False
                break
            app.rejections += 1
            t += self.refile_delay()
        if approved:
            self.approvals += 1
        after(self.env, t - self.env.now, self._settle, app, approved)

    def _enqueue(self, app: Application) -> None:
        if self.reviewers is None or self.in_review < self.reviewers:
            self._review(app)
        else:
            self.queue.append(app)

    def _review(self, app: Application) -> None:
        self.in_review += 1
        after(self.env, self.decision_delay(), self._decide, app)

    def _decide(self, app: Application) -> None:
        self.in_review -= 1
        if self.queue:
            self._review(self.queue.popleft())
        self.decisions += 1
        now = self.env.now
        rules = self.regime.rules_at(now)
        if app.product in rules.banned:
            self._settle(app, approved=False)
        elif app.product not in rules.licensed or self.approve(self.regime.approval_probability(now)):
            self.approvals += 1
            self._settle(app, approved=True)
        elif app.rejections < self.max_refilings:
            app.rejections += 1
            after(self.env, self.refile_delay(), self._enqueue, app)
        else:
            self._settle(app, approved=False)

    def _settle(self, app: Application, approved: bool) -> None:
        del self.pending[app]
        self.pending_tonnes -= app.tonnes
        (app.on_approved if approved else app.on_abandoned)(app)
