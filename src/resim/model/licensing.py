"""China's licensing office: each applicant (a maker group, the domestic plants) holds at most one
open file per product; shipments that reach the border needing a licence wait at the port on that
file. A file is decided after a random delay and approved with the odds of the applicant's class;
a rejected file is re-filed after a delay, up to a limit, then abandoned and its shipments go
back. An approval releases the file's shipments and, with a validity period, lets the applicant's
later shipments pass until it expires. Applicants are decided independently of one another.

With `reviewers` set, at most that many files are under review at once (FIFO queue), so delays
grow with the backlog and each decision is an event. With unlimited reviewers a file's fate does
not depend on other files and the regime is a known function of time, so its whole chain of
decisions is drawn when it is filed and only its outcome is an event: the same process, in fewer
events.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import simpy
from mypy_extensions import mypyc_attr

from resim.model.clock import after, clock_now
from resim.model.regime import Regime

FILES_PER_SPAN: Final = 64  # an applicant's files per product and rule span with their own luck (later ones wrap)
SOURCES: Final[tuple[str, ...]] = ("china", "china_motor", "non_china", "recycling", "domestic", "inputs_china",
                                   "inputs_non_china", "stockpile", "opening")  # where a lot comes from
SOURCE_INDEX: Final = {name: i for i, name in enumerate(SOURCES)}
# A lot carries its source as an index into SOURCES (tallies by source are arrays), named by these
# constants (tests/test_model.py ties each to its name)  # speed: inlined constants, not a name lookup
CHINA: Final = 0
CHINA_MOTOR: Final = 1
NON_CHINA: Final = 2
RECYCLING: Final = 3
DOMESTIC: Final = 4
INPUTS_CHINA: Final = 5
INPUTS_NON_CHINA: Final = 6
STOCKPILE: Final = 7
OPENING: Final = 8


class Shipment:
    """Tonnes of one grade for one buyer, from order to arrival (or cancellation)."""

    __slots__ = ("buyer", "grade", "tonnes", "product", "source", "inr_per_t", "premium_inr_per_t")

    def __init__(self, buyer: Buyer, grade: int, tonnes: float, product: str, source: int, inr_per_t: float = 0.0,
                 premium_inr_per_t: float = 0.0):
        self.buyer, self.grade, self.tonnes, self.product, self.source = buyer, grade, tonnes, product, source
        self.inr_per_t, self.premium_inr_per_t = inr_per_t, premium_inr_per_t


@mypyc_attr(allow_interpreted_subclasses=True)  # the oracles' buyers (analysis/oracles.py) stay plain Python
class Buyer:
    """What a buyer of shipments must do (maker groups and the domestic plants)."""

    index: int  # position among the buyers: keys this buyer's draws

    def receive(self, lots: list[Shipment], now: float) -> None:
        """`lots` (of this buyer, one consignment) land at `now`, the clock's time."""
        raise NotImplementedError

    def cancelled(self, shipment: Shipment) -> None:
        raise NotImplementedError

    def held(self, shipment: Shipment) -> None:
        """`shipment` waits at the Chinese port for a licence."""

    def released(self, shipment: Shipment) -> None:
        """`shipment` leaves the port (shipped or sent back)."""

    def licence_outcome(self, approved: bool) -> None:
        """One of this buyer's files was settled."""


@dataclass(eq=False)
class Applicant:
    """A licence applicant: its class, the licences it holds and its open files."""

    name: str
    applicant_class: str
    index: int
    buyer: Buyer
    general_customer: bool = False  # named customer of a Chinese general-licence holder
    valid_until: dict[str, float] = field(default_factory=dict)  # product -> last day a licence covers
    licence_spans: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # product -> (granted, until)
    refused_at: dict[str, float] = field(default_factory=dict)  # product -> when its last file was abandoned
    files: dict[str, LicenceFile] = field(default_factory=dict)  # product -> open file
    filed: dict[tuple[str, int], int] = field(default_factory=dict)  # (product, rule span) -> files keyed in it

    def holds_licence(self, product: str, day: float) -> bool:
        until = self.valid_until.get(product)
        return until is not None and until >= day

    def refused_on(self, product: str, day: float) -> bool:
        """Was its last file for `product` abandoned on `day`?"""
        refused = self.refused_at.get(product)
        return refused is not None and refused == day


Draw = Callable[[int, int], float]  # (file number, slot) -> a draw: KeyedDraws.draw, or an oracle's own keying


@dataclass(frozen=True)
class LicenceDraws:
    """The luck of one product's licence files, keyed by file number and slot (applicant, attempt):
    decision delays, re-filing delays and approval uniforms. A file's number is its place among the
    applicant's files for the product decided under the same rules (the n-th file of the k-th span
    of constant rules; a file still open when the rules change is renumbered as the next file under
    the new ones, and decided afresh with all its attempts). So it has the same luck in every
    scenario, whenever it is filed: raising the approval odds turns refusals into approvals and
    never the reverse, and once the rules change both scenarios meet the same luck again, however
    many files each filed before and whichever straddled the change. Paired replications of
    pause_ends (400) worse by over 1 t with better 2026 odds: numbered over the whole run 22, by
    span at filing 19, renumbered at a change 14 (12 of the 14 in worlds where those odds end in
    November 2026 or January 2027); keyed by filing week, 14 against 5 of 100 worse with better
    odds. With six firms a group, 13 (all in those worlds: a renumbered file kept the attempts it
    had spent, so it was abandoned months before the same file in a paired run that filed after
    the change, and every later file lagged); with a renumbered file's attempts restored, 3."""

    decision_delay_days: Draw
    refile_delay_days: Draw
    approval_u: Draw


@dataclass(eq=False, slots=True)
class LicenceFile:
    """One applicant's file for one product, and the shipments waiting at the port on it."""

    applicant: Applicant
    product: str
    number: int  # keys its luck: the applicant's n-th file for this product in the k-th rule span
    slot: int  # first keyed draw of this file; attempt k uses slot + k
    shipments: list[Shipment]
    rejections: int = 0
    queued_since: float = 0.0  # when it last joined the reviewers' queue (days)
    waited_days: float = 0.0  # total time spent waiting for a reviewer (finite review capacity)

    @property
    def tonnes(self) -> float:
        out = 0.0  # sum() over a list of boxed floats, compiled, costs a generic add a lot
        for s in self.shipments:
            out += s.tonnes
        return out

    def withdraw(self, grade: int, tonnes: float) -> float:
        """Take up to `tonnes` of `grade` off the waiting shipments (latest first); return how much."""
        taken = 0.0
        for s in reversed(self.shipments):
            if s.grade == grade and taken < tonnes:
                cut = min(s.tonnes, tonnes - taken)
                s.tonnes -= cut
                taken += cut
        return taken


class LicenceOffice:
    def __init__(self, env: simpy.Environment, regime: Regime, draws: dict[str, LicenceDraws], max_refilings: int,
                 reviewers: int | None, validity_days: float, applicants: int,
                 on_decided: Callable[[LicenceFile, bool], None], renewal_lead_days: float | None = None):
        self.env, self.regime, self.draws = env, regime, draws
        self.max_refilings, self.reviewers, self.validity_days = max_refilings, reviewers, validity_days
        self.renewal_lead_days = renewal_lead_days  # None: licences are not renewed ahead of expiry
        self.attempts = max_refilings + 1
        self.applicants, self.on_decided = applicants, on_decided
        self.queue: deque[LicenceFile] = deque()
        self.in_review = 0
        self.pending: dict[LicenceFile, None] = {}  # open files in filing order (reproducible sums)
        self.approved_month = 0  # files approved this month (reset by the recorder)
        self.decided_month = 0  # files settled this month, approved or abandoned

    @staticmethod
    def slots(applicants: int, attempts: int) -> int:
        return applicants * attempts

    def hold(self, applicant: Applicant, shipment: Shipment) -> None:
        """`shipment` needs a licence its applicant lacks: it waits at the port on the open file."""
        self._open_file(applicant, shipment.product).shipments.append(shipment)

    def _open_file(self, applicant: Applicant, product: str) -> LicenceFile:
        """The applicant's open file for `product`, filed now if it has none."""
        file = applicant.files.get(product)
        if file is None:
            file = applicant.files[product] = LicenceFile(applicant, product, -1, applicant.index * self.attempts, [])
            self._key(file, clock_now(self.env))
            self._file(file)
        return file

    def _key(self, file: LicenceFile, day: float) -> None:
        """Key `file`'s luck from `day` on: its place among the applicant's files for the product
        under the rules in force on `day` (a file still open when the rules change meets the new
        rules' luck, as the next file under them)."""
        span = self.regime.span_at(day)
        if file.number < 0 or file.number // FILES_PER_SPAN != span:
            if file.number >= 0:  # decided afresh under the new rules, with its full set of attempts
                file.rejections = 0
            applicant, product = file.applicant, file.product
            n = applicant.filed.get((product, span), 0)
            applicant.filed[product, span] = n + 1
            file.number = span * FILES_PER_SPAN + n % FILES_PER_SPAN

    def _renew(self, applicant: Applicant, product: str, expires: float) -> None:
        """Renewal time for a licence that expires on `expires`: file again if the licence was not
        renewed meanwhile, no file is open and the product still needs a licence."""
        rules = self.regime.rules_at(clock_now(self.env))
        if applicant.valid_until.get(product, -math.inf) == expires and product in rules.licensed and \
                product not in rules.banned and product not in applicant.files:
            self._open_file(applicant, product)

    def _file(self, file: LicenceFile) -> None:
        self.pending[file] = None
        if self.reviewers is None:
            self._resolve_chain(file)
        else:
            self._enqueue(file)

    def _verdict(self, file: LicenceFile, day: float) -> str:
        """'approved', 'abandoned' or 'refile': the decision on `file`'s current attempt on `day`."""
        rules = self.regime.rules_at(day)
        if file.product in rules.banned:
            return "abandoned"
        odds = self.regime.approval_probability(day, file.applicant.applicant_class)
        if file.product not in rules.licensed or \
                self.draws[file.product].approval_u(file.number, file.slot + file.rejections) < odds:
            return "approved"
        return "refile" if file.rejections < self.max_refilings else "abandoned"

    def _resolve_chain(self, file: LicenceFile) -> None:
        """Draw every decision and re-filing of `file` now; schedule only its outcome."""
        draws, now = self.draws[file.product], clock_now(self.env)
        t = now
        while True:
            t += draws.decision_delay_days(file.number, file.slot + file.rejections)
            self._key(file, t)
            verdict = self._verdict(file, t)
            if verdict != "refile":
                break
            t += draws.refile_delay_days(file.number, file.slot + file.rejections)
            file.rejections += 1
        after(self.env, t - now, self._settle, file, verdict == "approved")

    def _enqueue(self, file: LicenceFile) -> None:
        file.queued_since = clock_now(self.env)
        if self.in_review < self.reviewers:  # type: ignore[operator]
            self._review(file)
        else:
            self.queue.append(file)

    def _review(self, file: LicenceFile) -> None:
        file.waited_days += clock_now(self.env) - file.queued_since
        self.in_review += 1
        delay = self.draws[file.product].decision_delay_days(file.number, file.slot + file.rejections)
        after(self.env, delay, self._decide, file)

    def _decide(self, file: LicenceFile) -> None:
        self.in_review -= 1
        if self.queue:
            self._review(self.queue.popleft())
        self._key(file, clock_now(self.env))
        verdict = self._verdict(file, clock_now(self.env))
        if verdict == "refile":
            delay = self.draws[file.product].refile_delay_days(file.number, file.slot + file.rejections)
            file.rejections += 1
            after(self.env, delay, self._enqueue, file)
        else:
            self._settle(file, verdict == "approved")

    def _settle(self, file: LicenceFile, approved: bool) -> None:
        del self.pending[file]
        applicant = file.applicant
        if applicant.files.get(file.product) is file:
            del applicant.files[file.product]
        if approved:
            now = clock_now(self.env)
            expires = applicant.valid_until[file.product] = max(now + self.validity_days,
                                                                applicant.valid_until.get(file.product, -math.inf))
            applicant.licence_spans.setdefault(file.product, []).append((now, expires))
            if self.renewal_lead_days is not None and self.validity_days > 0:  # file to renew before it lapses
                after(self.env, max(0.0, expires - self.renewal_lead_days - now), self._renew, applicant,
                      file.product, expires)
            self.approved_month += 1
        else:
            applicant.refused_at[file.product] = clock_now(self.env)
        self.decided_month += 1
        self.on_decided(file, approved)

    def pending_tonnes(self) -> float:
        """Tonnes waiting at the port on open files (speed: renewal files hold none, so they are
        skipped: -1.2% instructions a replication of pause_ends at six firms, 287.0M -> 283.7M, the same sum)."""
        out = 0.0
        for f in self.pending:
            if f.shipments:
                out += f.tonnes
        return out
