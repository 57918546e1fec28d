"""Replay the firm's history up to this morning: who asked for whom, who took each
task, and where every engagement and task stands now.

1. ``request_staff``: a few clients ask for someone by name.
2. ``assign``: replay dispatch in time order over a weekly ledger.
3. ``settle``: cut every timeline at this morning.

Who may take a task and in what order come from ``dispatch.engine`` itself
(``eligibility`` and ``ranking``); only the capacity check is the replay's own,
a weekly ledger that is fast enough for the large firm.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time

from capacity.ledger import StaffCalendar
from capacity.policy import DEFAULT_THRESHOLDS
from demo.ledger import WeeklyLedger
from demo.specs import (
    DemoSize,
    EngagementSpec,
    ExceptionSpec,
    Reference,
    StaffSpec,
    stream_rng,
)
from demo.timeline import NEEDS_PREPARER, NEEDS_REVIEWER, reachable
from dispatch.engine import CandidateSnapshot, HeldSkill, SkillRequirement, TaskToPlace
from dispatch.engine.eligibility import eligibility_problem, seniority_floor
from dispatch.engine.ranking import rank_key
from engagements.choices import Milestone, Priority, TaskRole, TaskStatus

# Before any certification can have lapsed: the pools ignore expiry, which each
# task checks through its own due date.
BEFORE_ANY_EXPIRY = date.min


class DispatchReplay:
    """Assignments and today's state for the engagements one (seed, size, today) planned."""

    def __init__(self, *, seed: int, size: DemoSize, today: date, reference: Reference) -> None:
        self.seed = seed
        self.size = size
        self.today = today
        self.now = datetime.combine(today, time(9, 0))  # "as of this morning"
        self.ref = reference
        self.cal = reference.calendar
        self._pools: dict[tuple[str, str, int | None], tuple[list[str], frozenset[str]]] = {}
        self._people: dict[str, CandidateSnapshot] = {}

    def request_staff(self, engagements: list[EngagementSpec], staff: list[StaffSpec]) -> None:
        """A few clients ask for someone by name on one engagement; only for people who can do it."""
        rng = stream_rng(self.seed, "requests")
        self._know(staff)
        by_name = {s.username: s for s in staff}
        for engagement in engagements:
            if rng.random() >= 0.025:
                continue
            facts = self._facts(engagement, TaskRole.PREPARER, engagement.due_date)
            pool, _members = self._pool(engagement, facts, staff)
            valid = [
                by_name[u]
                for u in pool
                if eligibility_problem(facts, self._people[u], engagement.due_date) is None
            ]
            if valid:
                engagement.requested_staff = rng.choice(valid).username

    # Assignment ------------------------------------------------------------------

    def _facts(
        self,
        engagement: EngagementSpec,
        role: str,
        due_date: date,
        preparer: str | None = None,
    ) -> TaskToPlace:
        """The task as the engine sees it: staff ids are roster numbers."""
        rules = self.ref.work_types[engagement.work_type]
        wt = rules.work_type
        return TaskToPlace(
            task_id=0,
            role=role,
            client_id=0,
            due_date=due_date,
            estimated_hours=None,
            required_skills=tuple(SkillRequirement(slug, level) for slug, level in rules.skills),
            complexity=engagement.complexity,
            client_min_seniority=engagement.client.min_seniority,
            work_type_min_seniority=wt.min_seniority,
            reviewer_min_seniority=wt.reviewer_min_seniority,
            max_seniority=(
                wt.reviewer_max_seniority
                if role == TaskRole.REVIEWER
                else wt.preparer_max_seniority
            ),
            urgent=engagement.priority == Priority.URGENT,
            engagement_requested_staff_id=self._number(engagement.requested_staff),
            client_preferred_staff_id=self._number(engagement.client.preferred_staff),
            preparer_id=self._number(preparer),
        )

    def _number(self, username: str | None) -> int | None:
        person = self._people.get(username) if username else None
        return person.staff_id if person else None

    def _know(self, staff: list[StaffSpec]) -> None:
        """Everyone as the engine's candidate (skills and seniority; capacity is the ledger's)."""
        if self._people:
            return
        for person in staff:
            self._people[person.username] = CandidateSnapshot(
                staff_id=person.number,
                name=person.username,
                seniority=person.seniority,
                calendar=StaffCalendar(
                    float(person.weekly_capacity_hours), frozenset(person.working_days)
                ),
                skills={
                    slug: HeldSkill(skill.level, skill.certified_until)
                    for slug, skill in person.skills.items()
                },
            )

    def _pool(
        self, engagement: EngagementSpec, facts: TaskToPlace, staff: list[StaffSpec]
    ) -> tuple[list[str], frozenset[str]]:
        """Who the engine finds eligible for the work type, role and seniority floor
        (certifications aside), in roster order and as a set (cached: a handful of
        distinct pools serve every task)."""
        self._know(staff)
        key = (engagement.work_type, facts.role, seniority_floor(facts))
        if key not in self._pools:
            general = TaskToPlace(
                task_id=0,
                role=facts.role,
                client_id=0,
                due_date=facts.due_date,
                estimated_hours=None,
                required_skills=facts.required_skills,
                client_min_seniority=key[2],
                max_seniority=facts.max_seniority,
            )
            names = [
                s.username
                for s in staff
                if eligibility_problem(general, self._people[s.username], BEFORE_ANY_EXPIRY) is None
            ]
            self._pools[key] = (names, frozenset(names))
        return self._pools[key]

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
        self._know(staff)
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
            facts = self._facts(engagement, task.role, task.due_date, preparer)
            pool, members = self._pool(engagement, facts, staff)
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
            threshold = DEFAULT_THRESHOLDS.preparer if index == 0 else DEFAULT_THRESHOLDS.reviewer
            best: tuple[object, ...] | None = None
            chosen: str | None = None
            for username in candidates:
                person = self._people[username]
                # Certified through the due date: the history must still look right then.
                if eligibility_problem(facts, person, task.due_date) is not None:
                    continue
                peak = ledger.peak_after(username, shares, hours)
                over = peak > threshold
                rank = (
                    over,
                    round(peak, 2) if over else 0.0,
                    *rank_key(
                        facts,
                        staff_id=person.staff_id,
                        familiarity=regulars.get(username, 0),
                        seniority=person.seniority,
                        free_hours=round(ledger.free_weeks(username, shares), 1),
                    ),
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
