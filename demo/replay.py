"""Replay the firm's history up to this morning: who asked for whom, who took each
task, and where every engagement and task stands now.

1. ``request_staff``: a few clients ask for someone by name.
2. ``assign``: replay dispatch in time order through ``dispatch.engine.decide``.
3. ``settle``: cut every timeline at this morning.

Who may take a task, whether they have room and in what order all come from
``dispatch.engine`` and ``capacity.ledger`` themselves: the demo keeps no rule of
its own, so the firm it builds is one the live engine would have built.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from capacity.ledger import OpenWork, StaffCalendar
from capacity.policy import Policy
from core.calendar import BusinessCalendar
from demo.specs import (
    DecisionSpec,
    DemoSize,
    EngagementSpec,
    ExceptionSpec,
    Reference,
    StaffSpec,
    TaskSpec,
    stream_rng,
)
from demo.timeline import NEEDS_PREPARER, NEEDS_REVIEWER, reachable
from dispatch.choices import Trigger
from dispatch.engine import (
    CandidateSnapshot,
    Decision,
    HeldSkill,
    Outcome,
    SkillRequirement,
    TaskToPlace,
    decide,
)
from dispatch.engine.eligibility import eligibility_problem, seniority_floor
from dispatch.sweeps import PROXIMITY_BUSINESS_DAYS
from engagements.choices import Milestone, Priority, TaskRole, TaskStatus
from staff.choices import Role

# Before any certification can have lapsed: the pools ignore expiry, which each
# task checks through its own due date.
BEFORE_ANY_EXPIRY = date.min


class _Desks:
    """Everyone's open work through the replay, and their engine snapshot at a moment.

    A person's snapshot (and the load profile the engine builds from it) is kept
    until their open work changes or the day moves on, as the live roster keeps it.
    """

    def __init__(
        self,
        staff: list[StaffSpec],
        cal: BusinessCalendar,
        reference: Reference,
        first_day: date,
        last_day: date,
    ) -> None:
        holidays = frozenset(cal.holidays_between(first_day, last_day + timedelta(days=60)))
        self.people = {s.username: s for s in staff}
        self.calendars = {
            s.username: StaffCalendar(
                float(s.weekly_capacity_hours),
                frozenset(s.working_days),
                holidays,
                _time_off(s, cal),
            )
            for s in staff
        }
        self.seasons = reference.seasons
        # Open work per person: (work, the moment it is finished).
        self.open: dict[str, list[tuple[OpenWork, datetime]]] = defaultdict(list)
        self._snapshots: dict[str, tuple[date, CandidateSnapshot]] = {}

    def snapshot(self, username: str, moment: datetime) -> CandidateSnapshot:
        day = moment.date()
        kept = self._snapshots.get(username)
        if kept is not None and kept[0] == day:
            return kept[1]
        person = self.people[username]
        work = [item for item in self.open[username] if item[1] > moment]
        self.open[username] = work
        thresholds = Policy(seasons=self.seasons, day=day).thresholds_for(person.skills)
        snapshot = CandidateSnapshot(
            staff_id=person.number,
            name=f"{person.first_name} {person.last_name}",
            seniority=person.seniority,
            calendar=self.calendars[username],
            skills={
                slug: HeldSkill(skill.level, skill.certified_until)
                for slug, skill in person.skills.items()
            },
            open_work=tuple(sorted((w for w, _ in work), key=lambda w: (w.due_date, w.task_id))),
            threshold=thresholds.preparer,
            reviewer_threshold=thresholds.reviewer,
        )
        self._snapshots[username] = (day, snapshot)
        return snapshot

    def book(self, username: str, work: OpenWork, *, done_at: datetime) -> None:
        self.open[username].append((work, done_at))
        self._snapshots.pop(username, None)


# What a manager did with an escalation in the firm's past: let the task go to someone
# this busy (the escalation page's "raise the threshold") and dispatch it again.
HISTORY_THRESHOLD_RAISES = (1.0, 1.2)


def _resolved(
    facts: TaskToPlace, snapshots: tuple[CandidateSnapshot, ...], day: date
) -> list[tuple[Decision, float | None]]:
    """The decisions that placed the task in the firm's history, each with the threshold
    a manager raised it to (None: the rule's own): the engine's choice; a requested
    staffer it wanted confirmed, confirmed; an escalation, the threshold raised for the
    task and the engine asked again. The last one names nobody when even that failed."""
    decision = decide(facts, snapshots, day)
    made = [(decision, None)]
    if decision.outcome != Outcome.ESCALATED:
        return made
    for threshold in HISTORY_THRESHOLD_RAISES:
        decision = decide(replace(facts, threshold_override=threshold), snapshots, day)
        if decision.assignee_id is not None:
            made.append((decision, threshold))
            break
    return made


def _time_off(person: StaffSpec, cal: BusinessCalendar) -> dict[date, float]:
    away: dict[date, float] = {}
    for block in person.time_off:
        for day in cal.business_days(block.start_date, block.end_date):
            away[day] = float(block.hours_per_day)
    return away


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
        self._names: dict[int, str] = {}
        self._first_partner: str | None = None

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
            self._names[person.number] = person.username
        self._first_partner = next((s.username for s in staff if s.role == Role.PARTNER), None)

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

    def _dispatched_at(
        self, engagement: EngagementSpec, task: TaskSpec
    ) -> tuple[datetime, str] | None:
        """When dispatch placed ``task`` and what triggered it; None while it waits.

        Its trigger (the engagement opening, the documents in, the preparation done)
        at the planned time; or, when its due date came within the sweep's horizon
        first (``dispatch.sweeps``), the first sweep of that day, if it had an
        estimate and existed by then. Today's sweep has not run yet: work coming
        within reach today is its. An earlier assignment moves the planned
        acceptance with it; the work itself still waits for what it needs.
        """
        assigned, accepted, started, completed = task.planned
        trigger = task.trigger
        if task.estimated_hours is not None:
            reach = self.cal.add_business_days(task.due_date, -PROXIMITY_BUSINESS_DAYS)
            swept = max(datetime.combine(reach, time(0, 5)), engagement.steps[0][1])
            if swept < assigned and swept.date() < self.today:
                accepted = min(started, swept + (accepted - assigned))
                assigned, trigger = swept, Trigger.DEADLINE_PROXIMITY
                task.planned = (assigned, accepted, started, completed)
        return (assigned, trigger) if assigned <= self.now else None

    def assign(self, staff: list[StaffSpec], engagements: list[EngagementSpec]) -> None:
        """Replay dispatch in time order with the dispatch engine itself.

        1. Collect every task dispatched before this morning (``_dispatched_at``);
           sort by that moment.
        2. For each, hand ``dispatch.engine.decide`` the qualified people (all of them,
           or a sample plus the client's regulars in the large size) as they stood
           then: their open work (what they had been given and not finished by that
           moment), their calendars with holidays and time off, the season's
           thresholds. The engine's choice takes the task, as it would have live.
        3. Where the engine asked a manager, the manager answered (``_resolved``).
        4. Nobody qualified at all: the engagement stops where dispatch escalated it.

        The work still open this morning is then exactly what the capacity ledger
        reads, so nobody's figures today contradict the decisions that built them.
        """
        rng = stream_rng(self.seed, "assign")
        self._know(staff)
        jobs = []
        for order, engagement in enumerate(engagements):
            for index, task in enumerate(engagement.tasks):
                placed = self._dispatched_at(engagement, task)
                if placed is not None:
                    jobs.append((placed[0], order, index, placed[1]))
        jobs.sort()
        if not jobs:
            return
        first_day = jobs[0][0].date()
        last_day = max(max(e.due_date, e.tasks[0].planned[3].date()) for e in engagements)
        desks = _Desks(staff, self.cal, self.ref, first_day, last_day)
        weights = {
            code: float(rules.work_type.complexity_weight)
            for code, rules in self.ref.work_types.items()
        }
        managers = {s.username: s.manager for s in staff}
        familiarity: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        sample = self.size.candidate_sample
        for assigned_at, order, index, trigger in jobs:
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
            # A task without an estimate was given one by a manager before it went out.
            hours = float(task.estimated_hours or engagement.estimated_hours or 2)
            facts = replace(
                facts,
                task_id=order * 2 + index + 1,
                estimated_hours=hours,
                weight=weights[engagement.work_type],
                client_history={self._people[u].staff_id: n for u, n in regulars.items()},
            )
            snapshots = tuple(desks.snapshot(u, assigned_at) for u in candidates)
            made = _resolved(facts, snapshots, assigned_at.date())
            final = made[-1][0]
            if final.assignee_id is None:
                missing = NEEDS_PREPARER if index == 0 else NEEDS_REVIEWER
                engagement.cap = reachable(engagement.steps, missing)
                continue
            chosen = self._names[final.assignee_id]
            task.assignee = chosen
            regulars[chosen] += 1
            # The ledger reads what the row will hold: no estimate, no hours.
            booked = float(task.estimated_hours or 0) * facts.weight
            desks.book(chosen, replace(facts.as_open_work, hours=booked), done_at=task.planned[3])
            if self.size.decision_log:
                task.decisions = self._logged(made, trigger, assigned_at, managers.get(chosen))

    def _logged(
        self,
        made: list[tuple[Decision, float | None]],
        trigger: str,
        at: datetime,
        manager: str | None,
    ) -> list[DecisionSpec]:
        """The decision log row of a history assignment, as the live services write it:
        the engine's decision; the manager's re-dispatch with the threshold raised when
        nobody had room; a requested staffer confirmed by their manager an hour later."""
        manager = manager or self._first_partner
        decision, threshold = made[-1]
        spec = DecisionSpec(trigger=trigger, decision=decision, at=at)
        if threshold is not None:
            # The escalation before it was resolved the same morning; the log keeps the
            # decision that placed the task, with the manager's raised threshold.
            spec.trigger, spec.actor, spec.threshold = Trigger.ESCALATION_ACTION, manager, threshold
        if decision.outcome == Outcome.NEEDS_CONFIRMATION:
            spec.confirmed_at, spec.confirmed_by = at + timedelta(hours=1), manager
        return [spec]

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
