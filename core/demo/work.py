"""Plan the work: engagements with their timelines, who did each task, and where it stands.

1. ``plan_engagements``: for every client's services, the periods of the season
   around today, each with a planned time for every milestone and task step
   (one random stream per engagement, so adding a payroll run reshuffles nothing).
2. ``assign``: replay dispatch in time order over a weekly ledger.
3. ``settle``: cut every timeline at this morning.

Timelines copy what ``engagements.services`` does live: work waiting on
documents (1040, 1120) is dispatched when the last document arrives; other work
is dispatched when the engagement is created and started once its documents are
in. Assignees are chosen the way ``dispatch.engine`` ranks candidates.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from clients.choices import EntityType, ValueTier
from core.calendar import BusinessCalendar
from core.demo import names as words
from core.demo.specs import (
    EARLY_DOCUMENTS,
    MILESTONES,
    PREP_DONE,
    PREPARER_THRESHOLD,
    RECEIVED,
    REVIEWER_THRESHOLD,
    ClientSpec,
    DemoSize,
    EngagementSpec,
    Reference,
    StaffSpec,
    TaskSpec,
    add_months,
    half_hours,
    long_date,
    month_end,
    stream_rng,
)
from engagements.choices import (
    Complexity,
    DeadlineBasis,
    Priority,
    TaskRole,
    TaskStatus,
    TriggerEvent,
)
from engagements.deadlines import internal_due_date
from engagements.services import REVIEW_LEAD_BUSINESS_DAYS, review_hours


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
        self._pools: dict[tuple[str, str, int], tuple[list[str], frozenset[str]]] = {}

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

    def plan_engagements(
        self, clients: list[ClientSpec], staff: list[StaffSpec]
    ) -> list[EngagementSpec]:
        """Every engagement of the season that exists by now, with its planned timeline."""
        # The tax year being set up (second half of the year) or filed (first half).
        season = self.today.year if self.today.month >= 7 else self.today.year - 1
        engagements: list[EngagementSpec] = []
        for client in clients:
            for code in client.services:
                for period in self._periods(code, client, season):
                    spec = self._engagement(client, code, *period)
                    if spec is not None:
                        engagements.append(spec)
        self._requested_staff(engagements, staff)
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
        "1120": ((105, 150), (8, 25)),
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
        # 1. When the engagement opened and when everything it waits for was in hand.
        if code in ("monthly_bookkeeping", "month_end_close"):
            opened = self._at(self._bd(start, 0), rng)
            ready_day = self._bd(end, rng.randint(1, 4))
        else:
            (open_low, open_high), (ready_low, ready_high) = self.LEAD_DAYS[code]
            opened = self._at(
                self._on_or_before(due - timedelta(days=rng.randint(open_low, open_high))), rng
            )
            ready_day = due - timedelta(days=rng.randint(ready_low, ready_high))
        if opened > self.now:
            return None
        if late:
            ready_day += timedelta(days=rng.randint(3, 15))
        ready = max(self._at(ready_day, rng), self._later(opened, rng, 30, 600))
        checklist = list(wt.document_checklist)
        if not checklist:
            ready = opened
        documents = self._documents(checklist, opened, ready, end, rng)

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

        # 3. Timeline: dispatch, preparation, review, invoice, delivery, closing.
        gated = wt.trigger_event == TriggerEvent.DOCUMENTS_COMPLETE and bool(checklist)
        prep_assigned = self._later(ready if gated else opened, rng, 5, 180)
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
        prep_due = due
        tasks = []
        if wt.reviewer_required:
            prep_due = max(opened.date(), self._bd(due, -REVIEW_LEAD_BUSINESS_DAYS))
        titles = self._titles(code, client, label)
        tasks.append(
            TaskSpec(
                role=TaskRole.PREPARER,
                title=titles[0],
                estimated_hours=estimate,
                due_date=min(prep_due, due),
                planned=(prep_assigned, prep_accepted, prep_started, prep_done),
            )
        )
        review_started = review_done = prep_done
        if wt.reviewer_required:
            review_assigned = self._later(prep_done, rng, 5, 120)
            review_accepted = self._later(review_assigned, rng, 20, 600)
            review_started = self._days_later(review_accepted, rng, 0, 1)
            review_done = self._days_later(
                review_started, rng, *((2, 5) if code == "audit" else (0, 2))
            )
            tasks.append(
                TaskSpec(
                    role=TaskRole.REVIEWER,
                    title=titles[1],
                    estimated_hours=review_hours(estimate),
                    due_date=due,
                    planned=(review_assigned, review_accepted, review_started, review_done),
                )
            )
        instructions = rng.choice(words.ENGAGEMENT_INSTRUCTIONS) if rng.random() < 0.05 else ""
        invoiced = self._days_later(review_done, rng, 0, 2)
        delivered = self._days_later(invoiced, rng, 0, 3)
        closed = self._days_later(delivered, rng, 3, 15)
        # One time per milestone, in Milestone order. Documents are requested when the
        # engagement opens; work without a reviewer passes the review steps on completion.
        planned = [opened, opened, ready, prep_started, prep_done, review_started, review_done]
        planned += [invoiced, delivered, closed]
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
            planned=planned,
            documents=documents,
            tasks=tasks,
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

    def _requested_staff(self, engagements: list[EngagementSpec], staff: list[StaffSpec]) -> None:
        """A few clients ask for someone by name on one engagement; only for people who can do it."""
        rng = stream_rng(self.seed, "requests")
        by_name = {s.username: s for s in staff}
        for engagement in engagements:
            if rng.random() >= 0.025:
                continue
            pool, _members = self._pool(engagement, TaskRole.PREPARER, staff)
            valid = [
                by_name[u]
                for u in pool
                if self._certified(by_name[u], engagement, engagement.due_date)
            ]
            if valid:
                engagement.requested_staff = rng.choice(valid).username

    # Assignment ------------------------------------------------------------------

    def _min_seniority(self, engagement: EngagementSpec, role: str) -> int:
        wt = self.ref.work_types[engagement.work_type].work_type
        floor = engagement.client.min_seniority or 1
        if role == TaskRole.PREPARER:
            return max(floor, wt.min_seniority or 1)
        return max(floor, wt.reviewer_min_seniority or 1)

    def _pool(
        self, engagement: EngagementSpec, role: str, staff: list[StaffSpec]
    ) -> tuple[list[str], frozenset[str]]:
        """Who holds the work type's skills at level and the seniority floor, in roster
        order and as a set (cached: a handful of distinct pools serve every task)."""
        key = (engagement.work_type, role, self._min_seniority(engagement, role))
        if key not in self._pools:
            rules = self.ref.work_types[engagement.work_type].skills
            names = [
                s.username
                for s in staff
                if s.seniority >= key[2]
                and all(slug in s.skills and s.skills[slug].level >= level for slug, level in rules)
            ]
            self._pools[key] = (names, frozenset(names))
        return self._pools[key]

    def _certified(self, person: StaffSpec, engagement: EngagementSpec, through: date) -> bool:
        """Certifications the work needs stay valid until the task is due."""
        for slug, _level in self.ref.work_types[engagement.work_type].skills:
            until = person.skills[slug].certified_until
            if until is not None and until < through:
                return False
        return True

    def assign(self, staff: list[StaffSpec], engagements: list[EngagementSpec]) -> None:
        """Replay dispatch in time order over a weekly ledger.

        1. Collect every task whose planned assignment time has passed; sort by it.
        2. For each, weigh the qualified people (all of them, or a sample plus the
           client's regulars in the large size) the way the dispatch engine ranks:
           under the threshold first, then requested, client familiarity, lowest
           seniority for preparers, most free hours.
        3. Book the weighted hours over the business days the work occupies: from
           assignment to completion for work finished by now; from this morning to
           the due date for work still open (as the capacity ledger spreads it,
           overdue work landing today), so today's view stays under capacity.
        4. Nobody qualified: the engagement stops where dispatch would have escalated.
        """
        rng = stream_rng(self.seed, "assign")
        by_name = {s.username: s for s in staff}
        weights = {
            code: float(rules.work_type.complexity_weight)
            for code, rules in self.ref.work_types.items()
        }
        jobs = [
            (task.planned[0], order, index)
            for order, engagement in enumerate(engagements)
            for index, task in enumerate(engagement.tasks)
            if task.planned[0] <= self.now
        ]
        jobs.sort()
        if not jobs:
            return
        first_day = min(job[0] for job in jobs).date()
        last_day = max(max(e.due_date, e.tasks[0].planned[3].date()) for e in engagements)
        ledger = _WeeklyLedger(self.cal, first_day, last_day, staff)
        this_morning = self._bd(self.today, 0)
        familiarity: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        sample = self.size.candidate_sample
        for assigned_at, order, index in jobs:
            engagement = engagements[order]
            task = engagement.tasks[index]
            preparer = engagement.tasks[0].assignee if index else None
            if index and preparer is None:
                continue  # nobody prepared it, so the review never became ready
            pool, members = self._pool(engagement, task.role, staff)
            regulars = familiarity[(engagement.client.key, task.role)]
            candidates = pool if len(pool) <= sample else rng.sample(pool, sample)
            extra = [
                u for u in (engagement.requested_staff, engagement.client.preferred_staff) if u
            ]
            extra += sorted(regulars, key=lambda u: -regulars[u])[:3]
            candidates = list(dict.fromkeys(candidates + [u for u in extra if u in members]))
            start, end = assigned_at.date(), task.planned[3].date()
            if task.planned[3] > self.now:
                start = max(start, this_morning)
                end = max(task.due_date, start)
            shares = ledger.spread(start, end)
            hours = (
                float(task.estimated_hours or engagement.estimated_hours or 2)
                * weights[engagement.work_type]
            )
            threshold = PREPARER_THRESHOLD if index == 0 else REVIEWER_THRESHOLD
            best: tuple[object, ...] | None = None
            chosen: str | None = None
            for username in candidates:
                person = by_name[username]
                if username == preparer or not self._certified(person, engagement, task.due_date):
                    continue
                peak = ledger.peak_after(username, shares, hours)
                over = peak > threshold
                rank = (
                    over,
                    round(peak, 2) if over else 0.0,
                    username != engagement.requested_staff,
                    -regulars.get(username, 0),
                    person.seniority if index == 0 else 0,
                    -round(ledger.free_weeks(username, shares), 1),
                    rng.random(),
                )
                if best is None or rank < best:
                    best, chosen = rank, username
            if chosen is None:
                engagement.cap = RECEIVED + 1 if index == 0 else PREP_DONE + 1
                continue
            task.assignee = chosen
            regulars[chosen] += 1
            ledger.book(chosen, shares, hours)

    # Where everything stands this morning ------------------------------------------

    def settle(self, engagements: list[EngagementSpec]) -> None:
        """Cut every timeline at ``now``: the milestone reached, task statuses, documents in."""
        now = self.now
        for engagement in engagements:
            reached = [t for t in engagement.planned[: engagement.cap] if t <= now]
            engagement.reached = reached
            engagement.milestone = MILESTONES[len(reached) - 1]
            engagement.received = [
                (name, at if at <= now else None) for name, at in engagement.documents
            ]
            for task in engagement.tasks:
                if task.assignee is None:
                    continue
                assigned, accepted, started, completed = task.planned
                task.assigned_at = assigned
                if completed <= now:
                    task.status = TaskStatus.COMPLETED
                    task.accepted_at, task.started_at, task.completed_at = (
                        accepted,
                        started,
                        completed,
                    )
                elif started <= now:
                    task.status = TaskStatus.IN_PROGRESS
                    task.accepted_at, task.started_at = accepted, started
                elif accepted <= now:
                    task.status = TaskStatus.ACCEPTED
                    task.accepted_at = accepted
                else:
                    task.status = TaskStatus.ASSIGNED


class _WeeklyLedger:
    """Hours booked per person per week, each booking spread evenly over its business days.

    Week ``w`` starts on a Monday; a week's capacity is the person's weekly hours
    scaled by its business days (a holiday week holds four days of work, not five).
    """

    def __init__(
        self, calendar: BusinessCalendar, first_day: date, last_day: date, staff: list[StaffSpec]
    ) -> None:
        self.day0 = first_day - timedelta(days=first_day.weekday())
        days = (last_day - self.day0).days + 14
        self.cumulative = [0]
        for offset in range(days):
            is_business = calendar.is_business_day(self.day0 + timedelta(days=offset))
            self.cumulative.append(self.cumulative[-1] + int(is_business))
        weeks = days // 7 + 1
        self.week_days = [self._count(w * 7, w * 7 + 6) for w in range(weeks)]
        self.weekly = {s.username: float(s.weekly_capacity_hours) or 0.1 for s in staff}
        self.load = {s.username: [0.0] * weeks for s in staff}

    def _count(self, first: int, last: int) -> int:
        last = min(last, len(self.cumulative) - 2)
        return self.cumulative[last + 1] - self.cumulative[first] if last >= first else 0

    def spread(self, start: date, end: date) -> list[tuple[int, float]]:
        """(week, share of the hours) for work done on the business days from start to end."""
        first, last = (start - self.day0).days, (end - self.day0).days
        total = self._count(first, last)
        if not total:
            return [(first // 7, 1.0)]
        shares = []
        for week in range(first // 7, last // 7 + 1):
            days = self._count(max(first, week * 7), min(last, week * 7 + 6))
            if days:
                shares.append((week, days / total))
        return shares

    def _capacity(self, username: str, week: int) -> float:
        return self.weekly[username] * max(self.week_days[week], 1) / 5

    def peak_after(self, username: str, shares: list[tuple[int, float]], hours: float) -> float:
        """Utilization of the fullest week touched, once ``hours`` are added."""
        row = self.load[username]
        return max((row[w] + hours * share) / self._capacity(username, w) for w, share in shares)

    def free_weeks(self, username: str, shares: list[tuple[int, float]]) -> float:
        """Unbooked hours in the weeks touched, in weeks of this person's capacity."""
        row = self.load[username]
        free = sum(self._capacity(username, w) - row[w] for w, _ in shares)
        return free / self.weekly[username]

    def book(self, username: str, shares: list[tuple[int, float]], hours: float) -> None:
        row = self.load[username]
        for week, share in shares:
            row[week] += hours * share
