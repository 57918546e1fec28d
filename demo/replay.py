"""Replay the firm's history up to this morning: who asked for whom, who took each
task, and where every engagement and task stands now.

1. ``request_staff``: a few clients ask for someone by name.
2. ``assign``: replay dispatch in time order over a weekly ledger.
3. ``settle``: cut every timeline at this morning.

Assignees are chosen the way ``dispatch.engine`` ranks candidates.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time

from demo.ledger import WeeklyLedger
from demo.specs import (
    PREPARER_THRESHOLD,
    REVIEWER_THRESHOLD,
    DemoSize,
    EngagementSpec,
    ExceptionSpec,
    Reference,
    StaffSpec,
    stream_rng,
)
from demo.timeline import NEEDS_PREPARER, NEEDS_REVIEWER, reachable
from engagements.choices import Milestone, TaskRole, TaskStatus


class DispatchReplay:
    """Assignments and today's state for the engagements one (seed, size, today) planned."""

    def __init__(self, *, seed: int, size: DemoSize, today: date, reference: Reference) -> None:
        self.seed = seed
        self.size = size
        self.today = today
        self.now = datetime.combine(today, time(9, 0))  # "as of this morning"
        self.ref = reference
        self.cal = reference.calendar
        self._pools: dict[tuple[str, str, int], tuple[list[str], frozenset[str]]] = {}

    def request_staff(self, engagements: list[EngagementSpec], staff: list[StaffSpec]) -> None:
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
        ledger = WeeklyLedger(self.cal, first_day, last_day, staff)
        this_morning = self.cal.add_business_days(self.today, 0)
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
                missing = NEEDS_PREPARER if index == 0 else NEEDS_REVIEWER
                engagement.cap = reachable(engagement.steps, missing)
                continue
            task.assignee = chosen
            regulars[chosen] += 1
            ledger.book(chosen, shares, hours)

    # Where everything stands this morning ------------------------------------------

    def settle(self, engagements: list[EngagementSpec]) -> None:
        """Cut every timeline at ``now``: the steps reached, review exceptions raised (open
        ones only while the engagement is still in review), task statuses, documents in."""
        now = self.now
        for engagement in engagements:
            reached = [
                (code, at) for code, at, _needs in engagement.steps[: engagement.cap] if at <= now
            ]
            engagement.reached = reached
            engagement.milestone = reached[-1][0] if reached else Milestone.NEW
            if engagement.exceptions:
                engagement.exceptions = self._exceptions_by_now(engagement)
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

    def _exceptions_by_now(self, engagement: EngagementSpec) -> list[ExceptionSpec]:
        """Exceptions raised by now during a review that happened; one resolved later is
        still open, and an open one keeps the engagement in review (the state machine
        refuses to move past), so it is only kept there."""
        if Milestone.IN_REVIEW not in {code for code, _at in engagement.reached}:
            return []
        kept = []
        for exception in engagement.exceptions:
            if exception.raised_at > self.now:
                continue
            if exception.resolved_at is not None and exception.resolved_at > self.now:
                exception.resolved_at, exception.resolution = None, ""
            if exception.resolved_at is None and engagement.milestone != Milestone.IN_REVIEW:
                continue
            kept.append(exception)
        return kept
