"""Plan the work: engagements with their timelines (who did it and where it stands
now are ``demo.replay``'s part).

``plan_engagements``: for every client's services, the periods of the season
around today, each with a planned time for every phase of the work and every
task step (one random stream per engagement, so adding a payroll run reshuffles
nothing), placed on the steps of the work type's milestone template
(``demo.timeline``).

Timelines copy what ``engagements.services`` and the state machine do live: the
first step is entered when the engagement opens; the preparer is dispatched on
entering the template's ``dispatch_preparer`` step (when the last document
arrives for returns and closes, at once for audits, payroll and advisory); the
preparer starting and finishing, then the reviewer, move the engagement along.
Monthly bookkeeping and close are laid out so last month's close dashboard looks
like a real firm's.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from clients.choices import EntityType, ValueTier
from demo import names as words
from demo.specs import (
    EARLY_DOCUMENTS,
    ClientSpec,
    DemoSize,
    EngagementSpec,
    ExceptionSpec,
    Reference,
    TaskSpec,
    add_months,
    half_hours,
    long_date,
    month_end,
    stream_rng,
)
from demo.timeline import (
    CLOSED,
    DELIVERED,
    INVOICED,
    PHASES,
    PREP_DONE,
    PREP_STARTED,
    READY,
    REVIEW_DONE,
    REVIEW_STARTED,
    dispatch_phase,
    plan_steps,
)
from dispatch.choices import Trigger
from engagements.choices import (
    Complexity,
    DeadlineBasis,
    Milestone,
    Priority,
    TaskRole,
)
from engagements.deadlines import internal_due_date
from engagements.models import WorkType
from engagements.services import REVIEW_LEAD_BUSINESS_DAYS, review_hours

MONTHLY_WORK = frozenset({"monthly_bookkeeping", "month_end_close"})
# Business days from period end to delivery: 6 to 11, median 8 (cumulative weight
# passes half at 8).
CLOSE_CYCLE_DAYS = (6, 7, 8, 9, 10, 11)
CLOSE_CYCLE_WEIGHTS = (1.5, 2.5, 3.0, 2.0, 1.2, 0.8)
# A close the reviewer holds on an open exception; one whose exception was resolved.
HOLD_OPEN, HOLD_RESOLVED = "open", "resolved"


@dataclass(slots=True)
class _Times:
    """One engagement's planned times; tasks as (assigned, accepted, started, completed)."""

    opened: datetime
    ready: datetime
    prep: tuple[datetime, datetime, datetime, datetime]
    review: tuple[datetime, datetime, datetime, datetime] | None
    invoiced: datetime
    delivered: datetime
    closed: datetime
    exception: tuple[datetime, datetime | None] | None = None  # (raised, resolved)

    def phases(self) -> list[datetime]:
        """A time per phase (demo.timeline); work without review passes it on completion."""
        if self.review:
            review_started, review_done = self.review[2], self.review[3]
        else:
            review_started = review_done = self.prep[3]
        times = [self.opened] * PHASES
        times[READY] = self.ready
        times[PREP_STARTED], times[PREP_DONE] = self.prep[2], self.prep[3]
        times[REVIEW_STARTED], times[REVIEW_DONE] = review_started, review_done
        times[INVOICED], times[DELIVERED], times[CLOSED] = (
            self.invoiced,
            self.delivered,
            self.closed,
        )
        return times


class WorkPlanner:
    """Engagements, assignments and today's state for one (seed, size, today)."""

    def __init__(self, *, seed: int, size: DemoSize, today: date, reference: Reference) -> None:
        self.seed = seed
        self.size = size
        self.today = today
        self.now = datetime.combine(today, time(9, 0))  # "as of this morning"
        self.ref = reference
        self.cal = reference.calendar
        self._bd_cache: dict[tuple[date, int], date] = {}
        self._due_cache: dict[tuple[str, date | None, date | None], date] = {}
        self._holds: dict[str, str] = {}

    # Calendar arithmetic, memoised: the large size asks the same questions 10^5 times.
    def _bd(self, day: date, days: int) -> date:
        key = (day, days)
        if key not in self._bd_cache:
            self._bd_cache[key] = self.cal.add_business_days(day, days)
        return self._bd_cache[key]

    def _on_or_before(self, day: date) -> date:
        return self.cal.previous_business_day(day)

    def _due(self, code: str, *, period_end: date | None, event_date: date | None) -> date:
        key = (code, period_end, event_date)
        if key not in self._due_cache:
            self._due_cache[key] = internal_due_date(
                self.ref.work_types[code].work_type,
                calendar=self.cal,
                period_end=period_end,
                event_date=event_date,
            )
        return self._due_cache[key]

    def _at(self, day: date, rng: random.Random) -> datetime:
        """Some time in business hours on ``day`` (rolled to a business day)."""
        day = self._bd(day, 0)
        return datetime.combine(day, time(8, 0)) + timedelta(minutes=rng.randint(0, 9 * 60))

    def _later(self, moment: datetime, rng: random.Random, low: int, high: int) -> datetime:
        """``low``..``high`` minutes later, pushed into the next business morning if after hours."""
        result = moment + timedelta(minutes=rng.randint(low, high))
        if result.time() > time(18, 0) or not self.cal.is_business_day(result.date()):
            next_day = self._bd(result.date(), 1)
            result = datetime.combine(next_day, time(8, 0)) + timedelta(minutes=rng.randint(0, 90))
        return result

    def _days_later(self, moment: datetime, rng: random.Random, low: int, high: int) -> datetime:
        days = rng.randint(low, high)
        if days == 0:
            return self._later(moment, rng, 15, 240)
        return self._at(self._bd(moment.date(), days), rng)

    # Engagements ------------------------------------------------------------------

    def plan_engagements(self, clients: list[ClientSpec]) -> list[EngagementSpec]:
        """Every engagement of the season that exists by now, with its planned timeline."""
        # The tax year being set up (second half of the year) or filed (first half).
        season = self.today.year if self.today.month >= 7 else self.today.year - 1
        engagements: list[EngagementSpec] = []
        self._holds = self._pick_holds(clients)
        for client in clients:
            for code in client.services:
                for period in self._periods(code, client, season):
                    spec = self._engagement(client, code, *period)
                    if spec is not None:
                        engagements.append(spec)
        return engagements

    def _periods(
        self, code: str, client: ClientSpec, season: int
    ) -> Iterator[tuple[date, date, date | None, str]]:
        """(period start, period end, event date, label) for each engagement of ``code``."""
        if code in ("1040", "1120", "1099"):
            for year in range(season - self.size.tax_years_back, season + 1):
                yield date(year, 1, 1), date(year, 12, 31), None, str(year)
        elif code in ("monthly_bookkeeping", "month_end_close"):
            this_month = self.today.replace(day=1)
            for back in range(self.size.months_back, -1, -1):
                start = add_months(this_month, -back)
                yield start, month_end(start.year, start.month), None, f"{start:%B %Y}"
        elif code == "payroll":
            for start, end, pay_day in self._pay_runs(client):
                yield start, end, pay_day, long_date(pay_day)
        elif code == "cfo_advisory":
            this_month = self.today.replace(day=1)
            for offset in range(-self.size.advisory_months_back, 2):
                month = add_months(this_month, offset)
                session = self._on_or_before(month.replace(day=15))
                yield month, month_end(month.year, month.month), session, long_date(session)
        elif code == "audit":
            month = client.fiscal_year_end_month
            year = self.today.year + 1
            while month_end(year, month) - timedelta(days=90) > self.today:
                year -= 1
            for back in range(self.size.tax_years_back, -1, -1):
                end = month_end(year - back, month)
                after = end + timedelta(days=1)
                yield after.replace(year=after.year - 1), end, None, f"FY{end.year}"

    def _pay_runs(self, client: ClientSpec) -> Iterator[tuple[date, date, date]]:
        """Pay periods whose (business-day) pay date falls in the window around today."""
        first = self.today - timedelta(days=self.size.payroll_days_back)
        last = self.today + timedelta(days=self.size.payroll_days_ahead)
        if client.payroll_biweekly:
            # Every other Friday; half the clients pay on the odd weeks.
            parity = int(client.key[-1]) % 2
            friday = first + timedelta(days=(4 - first.weekday()) % 7)
            while friday <= last:
                if (friday.toordinal() // 7) % 2 == parity:
                    end = friday - timedelta(days=5)
                    yield end - timedelta(days=13), end, self._on_or_before(friday)
                friday += timedelta(days=7)
            return
        month = first.replace(day=1)
        while month <= last:
            for start, end in (
                (month, month.replace(day=15)),
                (month.replace(day=16), month_end(month.year, month.month)),
            ):
                pay_day = self._on_or_before(end)
                if first <= pay_day <= last:
                    yield start, end, pay_day
            month = add_months(month, 1)

    # Calendar days before the due date: (engagement opened), (everything in hand).
    LEAD_DAYS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
        "1040": ((130, 175), (10, 55)),
        "1120": ((105, 150), (10, 50)),
        "1099": ((55, 75), (5, 16)),
        "payroll": ((8, 16), (1, 5)),
        "cfo_advisory": ((20, 35), (2, 6)),
        "audit": ((200, 240), (45, 90)),
    }

    def _engagement(
        self, client: ClientSpec, code: str, start: date, end: date, event: date | None, label: str
    ) -> EngagementSpec | None:
        rules = self.ref.work_types[code]
        wt = rules.work_type
        key = f"{client.key}:{code}:{(event or end).isoformat()}"
        rng = stream_rng(self.seed, key)
        if wt.deadline_basis == DeadlineBasis.ENGAGEMENT:
            due = self._on_or_before(end + timedelta(days=rng.randint(150, 180)))
        else:
            due = self._due(code, period_end=end, event_date=event)
        # Some work runs late (client slow, staff busy) -- but not audits: with no time
        # logged, a late audit counts its full estimate against this week.
        late = rng.random() < 0.08 and code != "audit"
        # 1. When the engagement opened.
        if code in MONTHLY_WORK:
            opened = self._at(self._bd(start, 0), rng)
        else:
            open_low, open_high = self.LEAD_DAYS[code][0]
            opened = self._at(
                self._on_or_before(due - timedelta(days=rng.randint(open_low, open_high))), rng
            )
        if opened > self.now:
            return None

        # 2. Size and shape.
        key_account = client.value_tier == ValueTier.KEY
        complexity = rng.choices(
            (Complexity.LOW, Complexity.MEDIUM, Complexity.HIGH),
            weights=(10, 40, 50) if key_account else (25, 55, 20),
        )[0]
        low, high = {
            Complexity.LOW: (0.6, 0.9),
            Complexity.MEDIUM: (0.9, 1.2),
            Complexity.HIGH: (1.3, 1.9),
        }[complexity]
        default = float(wt.default_estimated_hours or 4)
        planned_hours = default * rng.uniform(low, high)
        estimate = None if rng.random() < 0.03 else half_hours(planned_hours)
        priority = wt.priority
        roll = rng.random()
        if roll < 0.02:
            priority = Priority.URGENT
        elif key_account and priority in (Priority.LOW, Priority.NORMAL) and roll < 0.3:
            priority = Priority.HIGH

        # 3. Timeline: documents in, dispatch, preparation, review, invoice, delivery, closing.
        checklist = list(wt.document_checklist)
        gate = dispatch_phase(rules.template, wt.trigger_event, bool(checklist))
        hold = self._holds.get(key)
        if code in MONTHLY_WORK:
            times = self._monthly_times(wt, end, due, opened, gate, planned_hours, late, hold, rng)
        else:
            times = self._times(code, wt, due, opened, gate, planned_hours, late, rng)
        documents = self._documents(checklist, opened, times.ready, end, rng)
        titles = self._titles(code, client, label)
        prep_due = due
        if wt.reviewer_required:
            prep_due = max(opened.date(), self._bd(due, -REVIEW_LEAD_BUSINESS_DAYS))
        tasks = [
            TaskSpec(
                role=TaskRole.PREPARER,
                title=titles[0],
                estimated_hours=estimate,
                due_date=min(prep_due, due),
                planned=times.prep,
                trigger=(
                    Trigger.DOCUMENTS_RECEIVED if gate == READY else Trigger.ENGAGEMENT_CREATED
                ),
            )
        ]
        if times.review is not None:
            tasks.append(
                TaskSpec(
                    role=TaskRole.REVIEWER,
                    title=titles[1],
                    estimated_hours=review_hours(estimate),
                    due_date=due,
                    planned=times.review,
                    trigger=Trigger.PRIOR_TASK_COMPLETED,
                )
            )
        instructions = rng.choice(words.ENGAGEMENT_INSTRUCTIONS) if rng.random() < 0.05 else ""
        exceptions = []
        if times.exception is not None:
            exceptions.append(self._review_exception(times.exception, end, rng))
        return EngagementSpec(
            key=key,
            client=client,
            work_type=code,
            name=titles[2],
            period_start=start,
            period_end=end,
            due_date=due,
            estimated_hours=estimate,
            complexity=complexity,
            priority=priority,
            requested_staff=None,
            special_instructions=instructions,
            steps=plan_steps(rules.template, times.phases()),
            documents=documents,
            tasks=tasks,
            exceptions=exceptions,
        )

    def _times(
        self,
        code: str,
        wt: WorkType,
        due: date,
        opened: datetime,
        gate: int,
        planned_hours: float,
        late: bool,
        rng: random.Random,
    ) -> _Times:
        """Timeline from the due date backwards: documents in a few weeks before it, work
        dispatched when its gate opens, then preparation, review, invoice and delivery."""
        ready_low, ready_high = self.LEAD_DAYS[code][1]
        ready_day = due - timedelta(days=rng.randint(ready_low, ready_high))
        if late:
            ready_day += timedelta(days=rng.randint(3, 15))
        ready = max(self._at(ready_day, rng), self._later(opened, rng, 30, 600))
        if not wt.document_checklist:
            ready = opened
        prep_assigned = self._later(ready if gate == READY else opened, rng, 5, 180)
        prep_accepted = self._later(prep_assigned, rng, 20, 900)
        delay = rng.randint(2, 8) if late else 0
        prep_started = self._days_later(max(prep_accepted, ready), rng, 0, 2 + delay)
        # Hours of focus a day: audits are fieldwork, other work shares the day.
        focus = rng.uniform(5, 8) if code == "audit" else rng.uniform(3, 6)
        work_days = max(0, math.ceil(planned_hours / focus) - 1)
        if work_days:
            prep_done = self._at(self._bd(prep_started.date(), work_days), rng)
        else:
            prep_done = self._later(prep_started, rng, 60, 300)
        review = None
        review_done = prep_done
        if wt.reviewer_required:
            review_assigned = self._later(prep_done, rng, 5, 120)
            review_accepted = self._later(review_assigned, rng, 20, 600)
            review_started = self._days_later(review_accepted, rng, 0, 1)
            review_done = self._days_later(
                review_started, rng, *((2, 5) if code == "audit" else (0, 2))
            )
            review = (review_assigned, review_accepted, review_started, review_done)
        invoiced = self._days_later(review_done, rng, 0, 2)
        delivered = self._days_later(invoiced, rng, 0, 3)
        return _Times(
            opened=opened,
            ready=ready,
            prep=(prep_assigned, prep_accepted, prep_started, prep_done),
            review=review,
            invoiced=invoiced,
            delivered=delivered,
            closed=self._days_later(delivered, rng, 3, 15),
        )

    def _monthly_times(
        self,
        wt: WorkType,
        end: date,
        due: date,
        opened: datetime,
        gate: int,
        planned_hours: float,
        late: bool,
        hold: str | None,
        rng: random.Random,
    ) -> _Times:
        """Bookkeeping and close, laid out in business days after the period ends so the
        close dashboard looks like a real firm's.

        1. Draw the close cycle (business days from period end to delivery, 6–11,
           median 8) and the day the last statement arrives (1–3).
        2. Fit the work in between: the preparer starts the same or the next day and
           finishes shortly before the review; invoicing and delivery at the end.
        3. A late client sends the statements 8–12 business days later than that, and
           everything follows (the stragglers of the month still open on the dashboard).
        4. ``hold``: a close the reviewer is holding on an open exception started its
           review a week or so ago and finishes after today; one whose exception was
           resolved spends at least a day in review.
        5. Events on the same day get increasing times within business hours.
        """
        cycle = rng.choices(CLOSE_CYCLE_DAYS, weights=CLOSE_CYCLE_WEIGHTS)[0]
        ready_at = rng.randint(1, 3)
        started = ready_at + rng.randint(0, 1)
        invoiced = cycle - rng.choice((0, 0, 1))
        focus = rng.uniform(3, 6)
        work_days = max(0, math.ceil(planned_hours / focus) - 1)
        review = wt.reviewer_required
        if review:
            review_done = invoiced - rng.randint(0, 1)
            review_started = max(started, review_done - rng.randint(0, 1))
            if hold == HOLD_OPEN:
                # About a week after period end, but by yesterday early in the month.
                by_yesterday = self.cal.business_days_between(end, self._bd(self.today, -1))
                review_started = max(started, min(rng.randint(6, 9), by_yesterday))
            elif hold == HOLD_RESOLVED:
                review_done = max(review_done, review_started + 1)
            finish_by = review_started
        else:
            review_done = review_started = invoiced
            finish_by = invoiced
        prep_done = min(max(started + work_days, finish_by - 1), finish_by)
        # A firm that keeps its deadlines: the work is done by its internal due dates
        # (the review's two business days before the engagement's), delivery may trail.
        due_offset = self.cal.business_days_between(end, due)
        prep_due_offset = due_offset - REVIEW_LEAD_BUSINESS_DAYS if review else due_offset
        prep_done = min(prep_done, prep_due_offset)
        if review and hold is None:
            review_done = min(review_done, due_offset)
            review_started = min(review_started, review_done)
        delay = rng.randint(8, 12) if late and hold is None else 0
        offsets = [ready_at, started, prep_done, review_started, review_done, invoiced, cycle]
        for i in range(1, len(offsets)):
            offsets[i] = max(offsets[i], offsets[i - 1])
        offsets = [offset + delay for offset in offsets]
        days = [self._bd(end, offset) for offset in offsets]
        if review and hold == HOLD_OPEN:
            # Waiting on the client: the review finishes after today, the rest follows.
            days[4] = max(self._bd(self.today, rng.randint(1, 4)), self._bd(days[3], 1))
            days[5] = self._bd(days[4], rng.randint(0, 1))
            days[6] = self._bd(days[5], rng.randint(0, 2))
        (
            ready_day,
            start_day,
            done_day,
            review_start_day,
            review_done_day,
            invoice_day,
            delivery_day,
        ) = days
        names = ["ready"]
        order = [ready_day]
        early = gate != READY  # dispatched when the engagement opened, before the period ended
        if early:
            prep_assigned = self._later(opened, rng, 5, 180)
            prep_accepted = self._later(prep_assigned, rng, 20, 900)
        else:
            names += ["prep_assigned", "prep_accepted"]
            order += [ready_day, ready_day]
        names += ["prep_started", "prep_done"]
        order += [start_day, done_day]
        if review:
            names += ["review_assigned", "review_accepted", "review_started"]
            order += [done_day, done_day, review_start_day]
            if hold == HOLD_OPEN:
                # Raised within a few days of starting the review, by yesterday at the latest.
                last = min(self._bd(review_start_day, rng.randint(0, 3)), self._bd(self.today, -1))
                names.append("raised")
                order.append(max(review_start_day, last))
            elif hold == HOLD_RESOLVED:
                names += ["raised", "resolved"]
                order += [review_start_day, review_done_day]
            names.append("review_done")
            order.append(review_done_day)
        names += ["invoiced", "delivered"]
        order += [invoice_day, delivery_day]
        at = dict(zip(names, self._in_day_order(order, rng), strict=True))
        if not early:
            prep_assigned, prep_accepted = at["prep_assigned"], at["prep_accepted"]
        if not wt.document_checklist:
            at["ready"] = opened
        return _Times(
            opened=opened,
            ready=at["ready"],
            prep=(prep_assigned, prep_accepted, at["prep_started"], at["prep_done"]),
            review=(
                at["review_assigned"],
                at["review_accepted"],
                at["review_started"],
                at["review_done"],
            )
            if review
            else None,
            invoiced=at["invoiced"],
            delivered=at["delivered"],
            closed=self._days_later(at["delivered"], rng, 3, 15),
            exception=(at["raised"], at.get("resolved")) if "raised" in at else None,
        )

    def _in_day_order(self, days: list[date], rng: random.Random) -> list[datetime]:
        """A time in business hours on each (non-decreasing) day, increasing along the list."""
        times: list[datetime] = []
        start = 0
        while start < len(days):
            stop = start
            while stop < len(days) and days[stop] == days[start]:
                stop += 1
            morning = datetime.combine(days[start], time(8, 0))
            for minute in sorted(rng.sample(range(9 * 60 + 30), stop - start)):
                times.append(morning + timedelta(minutes=minute))
            start = stop
        return times

    def _pick_holds(self, clients: list[ClientSpec]) -> dict[str, str]:
        """Closes of the period being closed now (last month) that meet a review exception:
        a few the reviewer is holding on an open one, and one resolved along the way."""
        code = "month_end_close"
        rules = self.ref.work_types.get(code)
        if rules is None or Milestone.IN_REVIEW not in {s.code for s in rules.template}:
            return {}
        period = add_months(self.today.replace(day=1), -1)
        end = month_end(period.year, period.month).isoformat()
        keys = [f"{c.key}:{code}:{end}" for c in clients if code in c.services]
        rng = stream_rng(self.seed, "review-exceptions")
        held = min(len(keys), max(3, round(len(keys) * 0.12)))
        resolved = min(len(keys) - held, max(1, round(len(keys) * 0.04)))
        picked = rng.sample(keys, held + resolved)
        return {key: HOLD_OPEN if i < held else HOLD_RESOLVED for i, key in enumerate(picked)}

    def _review_exception(
        self, exception: tuple[datetime, datetime | None], period_end: date, rng: random.Random
    ) -> ExceptionSpec:
        """What the reviewer found, at the times the timeline gave it."""
        note, resolution = rng.choice(words.REVIEW_EXCEPTIONS)
        values = {
            "amount": f"{rng.randint(8_000, 1_250_000) / 100:,.2f}",
            "month": f"{period_end:%B}",
            "vendor": rng.choice(words.VENDORS),
        }
        raised, resolved = exception
        return ExceptionSpec(
            note=note.format(**values),
            raised_at=raised,
            resolved_at=resolved,
            resolution=resolution.format(**values) if resolved else "",
        )

    def _documents(
        self,
        checklist: list[str],
        opened: datetime,
        ready: datetime,
        period_end: date,
        rng: random.Random,
    ) -> list[tuple[str, datetime]]:
        """When each checklist item arrives: the last one exactly when everything is in."""
        if not checklist:
            return []
        after_period = datetime.combine(period_end + timedelta(days=1), time(7, 0))
        arrivals = []
        for name in checklist:
            earliest = opened if name in EARLY_DOCUMENTS else max(opened, after_period)
            span = max(0.0, (ready - earliest).total_seconds())
            arrivals.append(min(ready, earliest + timedelta(seconds=rng.random() * span)))
        last = max(range(len(arrivals)), key=lambda i: (arrivals[i], i))
        arrivals[last] = ready
        return list(zip(checklist, arrivals, strict=True))

    def _titles(self, code: str, client: ClientSpec, label: str) -> tuple[str, str, str]:
        """(preparer task, reviewer task, engagement name)."""
        if code == "1040":
            return "Prepare 1040", "Review 1040", f"{label} Form 1040"
        if code == "1120":
            form = "1120-S" if client.entity_type == EntityType.S_CORP else "1120"
            return f"Prepare {form}", f"Review {form}", f"{label} Form {form}"
        if code == "1099":
            return f"Prepare 1099s {label}", f"Review 1099s {label}", f"{label} Forms 1099-NEC"
        if code == "monthly_bookkeeping":
            return f"Bookkeeping {label}", "", f"Bookkeeping {label}"
        if code == "month_end_close":
            return f"Close {label}", f"Review close {label}", f"Month-end close {label}"
        if code == "payroll":
            return f"Process payroll for {label}", "", f"Payroll run {label}"
        if code == "audit":
            return (
                f"Audit fieldwork {label}",
                f"Audit review {label}",
                f"{label} financial statement audit",
            )
        return f"Prepare CFO session {label}", "", f"CFO advisory session {label}"
