"""China's licensing office: applications wait for a reviewer, are decided after a random delay,
and are approved with the regime's approval probability; rejected ones are re-filed after a delay,
up to a limit, then abandoned.

With `reviewers` set, at most that many files are under review at once (FIFO queue), so delays
grow with the backlog; unlimited reviewers make every file start review at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import simpy

from resim.model.clock import after
from resim.model.regime import Regime
from resim.sampling import Bernoulli, EventSampler


@dataclass(eq=False)
class Application:
    product: str
    tonnes: float
    on_approved: Callable[[Application], None]
    on_abandoned: Callable[[Application], None]
    rejections: int = 0


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
        self.decisions = 0
        self.approvals = 0

    @property
    def pending_tonnes(self) -> float:
        return sum(app.tonnes for app in self.pending)

    def file(self, app: Application) -> None:
        self.pending[app] = None
        self._enqueue(app)

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
        self.pending.pop(app, None)
        (app.on_approved if approved else app.on_abandoned)(app)
