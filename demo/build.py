"""Build the demo firm: read the reference rows, plan, and write what is missing.

The load reads the natural keys that already exist (usernames, demo client and
engagement ids, recurring plans by client and work type) in a constant number of
queries and ``bulk_create``s only what is missing, in batches, inside one
transaction. A row that exists is left as it is, children included: once built,
the demo belongs to whoever is clicking through it.
"""

from __future__ import annotations

import time as clock
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from itertools import islice
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.db.models import Count, Q
from django.utils import timezone

from capacity.selectors import capacity_policy
from clients.choices import ExternalSource
from clients.models import Client, ClientExternalId
from core.calendar import firm_calendar
from demo.people import PeoplePlanner
from demo.recurring import plan_recurring
from demo.replay import DispatchReplay
from demo.specs import (
    ADMIN_USERNAME,
    BATCH_SIZE,
    DEMO_PASSWORD,
    SIZES,
    WORK_ORDER,
    BuildResult,
    DemoConflictError,
    DemoPlan,
    DemoSize,
    EngagementSpec,
    Reference,
    TaskSpec,
    WorkTypeRules,
)
from demo.work import WorkPlanner
from dispatch.models import DispatchDecision
from engagements.choices import (
    HELD_TASK_STATUSES,
    EngagementSource,
    Milestone,
    TaskRole,
    TaskStatus,
)
from engagements.milestones import template_for
from engagements.models import (
    Engagement,
    EngagementMilestone,
    MilestoneSource,
    MilestoneTransition,
    RecurringPlan,
    RequiredDocument,
    ReviewException,
    Task,
    WorkType,
    WorkTypeSkill,
)
from staff.choices import Role, SkillCategory
from staff.models import SkillTag, StaffMember, StaffSkill, TimeOff
from staff.services import staff_member_sync_role, staff_members_sync_roles_bulk

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=models.Model)


def _batches(items: Iterable[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _bulk_create(model: type[ModelT], rows: Iterable[ModelT]) -> int:
    """Insert ``rows`` in batches without holding more than one batch of instances."""
    created = 0
    for batch in _batches(rows):
        model.objects.bulk_create(batch, batch_size=BATCH_SIZE)
        created += len(batch)
    return created


def _require_pks(rows: Sequence[models.Model]) -> None:
    """Children are written against the ids ``bulk_create`` hands back (PostgreSQL, and
    SQLite from 3.35 on); without them the load cannot link anything."""
    if rows and rows[-1].pk is None:
        raise RuntimeError("This database does not return ids from bulk inserts.")


def reference_load() -> Reference:
    """The active work types with their skill rules and milestone templates, and skill
    tags (three queries)."""
    rules: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for work_type_id, slug, level in WorkTypeSkill.objects.values_list(
        "work_type_id", "skill__slug", "min_level"
    ).order_by("work_type_id", "skill__slug"):
        rules[work_type_id].append((slug, level))
    work_types = {
        wt.code: WorkTypeRules(
            work_type=wt, skills=tuple(rules[wt.pk]), template=tuple(template_for(wt))
        )
        for wt in WorkType.objects.filter(active=True, code__in=WORK_ORDER)
    }
    skill_ids: dict[str, int] = {}
    industry_ids: dict[str, int] = {}
    for pk, slug, category in SkillTag.objects.values_list("pk", "slug", "category"):
        skill_ids[slug] = pk
        if category == SkillCategory.INDUSTRY:
            industry_ids[slug] = pk
    return Reference(
        work_types=work_types,
        skill_ids=skill_ids,
        industry_ids=industry_ids,
        calendar=firm_calendar(),
        seasons=capacity_policy(day=timezone.localdate()).seasons,
    )


def demo_plan(*, seed: int, size: DemoSize, today: date, reference: Reference) -> DemoPlan:
    """The whole firm as specs: pure and deterministic for (seed, size, today, reference)."""
    people = PeoplePlanner(seed=seed, size=size, today=today, reference=reference)
    staff = people.plan_staff()
    clients = people.plan_clients(staff)
    engagements = WorkPlanner(
        seed=seed, size=size, today=today, reference=reference
    ).plan_engagements(clients)
    replay = DispatchReplay(seed=seed, size=size, today=today, reference=reference)
    replay.request_staff(engagements, staff)
    replay.assign(staff, engagements)
    replay.settle(engagements)
    recurring_plans = plan_recurring(
        seed=seed,
        size=size,
        today=today,
        work_types=reference.work_types,
        clients=clients,
        engagements=engagements,
    )
    return DemoPlan(
        size=size,
        seed=seed,
        today=today,
        staff=staff,
        clients=clients,
        engagements=engagements,
        recurring_plans=recurring_plans,
    )


def _in_chunks(values: Sequence[T], size: int = 900) -> Iterator[Sequence[T]]:
    # Under SQLite's classic 999-variable limit for IN (...) lists.
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _aware(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=tz)


class _Loader:
    """Writes a DemoPlan, skipping whatever already exists by natural key."""

    def __init__(self, plan: DemoPlan, reference: Reference, password_hash: str) -> None:
        self.plan = plan
        self.ref = reference
        self.password_hash = password_hash
        self.tz = timezone.get_default_timezone()
        self.created: dict[str, int] = defaultdict(int)
        self.staff_ids: dict[str, int] = {}
        self.user_ids: dict[str, int] = {}

    def load(self) -> dict[str, int]:
        self._staff()
        client_ids = self._clients()
        self._engagements(client_ids)
        self._recurring_plans(client_ids)
        return dict(self.created)

    def _staff(self) -> None:
        user_model = get_user_model()
        specs = self.plan.staff
        usernames = [s.username for s in specs] + [ADMIN_USERNAME]
        users: dict[str, AbstractUser] = {}
        for chunk in _in_chunks(usernames):
            users.update((u.username, u) for u in user_model.objects.filter(username__in=chunk))
        slack_owner = {s.slack_member_id: s.username for s in specs}
        for chunk in _in_chunks(list(slack_owner)):
            for slack_id, username in StaffMember.objects.filter(
                slack_member_id__in=chunk
            ).values_list("slack_member_id", "user__username"):
                if slack_owner[slack_id] != username:
                    raise DemoConflictError(
                        f"Slack id {slack_id} belongs to {username}, but this seed builds "
                        f"{slack_owner[slack_id]}: the database holds a demo firm from another "
                        "--seed. Use that seed or a fresh database."
                    )
        new_users = [
            user_model(
                username=s.username,
                first_name=s.first_name,
                last_name=s.last_name,
                email=s.email,
                password=self.password_hash,
            )
            for s in specs
            if s.username not in users
        ]
        if ADMIN_USERNAME not in users:
            new_users.append(
                user_model(
                    username=ADMIN_USERNAME,
                    first_name="Firm",
                    last_name="Admin",
                    email=f"{ADMIN_USERNAME}@{SIZES['demo'].email_domain}",
                    password=self.password_hash,
                    is_staff=True,
                    is_superuser=True,
                )
            )
        self.created["users"] += _bulk_create(user_model, new_users)
        _require_pks(new_users)
        users.update((u.username, u) for u in new_users)

        members: dict[str, StaffMember] = {}
        users_by_id = {u.pk: u for u in users.values()}
        for chunk in _in_chunks([users[s.username].pk for s in specs]):
            for member in StaffMember.objects.filter(user_id__in=chunk):
                member.user = users_by_id[member.user_id]
                members[member.user.username] = member
        fresh = [s for s in specs if s.username not in members]
        # Partners first, then managers, then everyone else: each tier points at the one above.
        for tier in ((Role.PARTNER,), (Role.MANAGER,), (Role.SENIOR, Role.STAFF)):
            rows = [
                StaffMember(
                    user=users[s.username],
                    role=s.role,
                    seniority=s.seniority,
                    title=s.title,
                    manager=members.get(s.manager) if s.manager else None,
                    weekly_capacity_hours=s.weekly_capacity_hours,
                    working_days=s.working_days,
                    cost_rate=s.cost_rate,
                    bill_rate=s.bill_rate,
                    slack_member_id=s.slack_member_id,
                    mobile=s.mobile,
                )
                for s in fresh
                if s.role in tier
            ]
            self.created["staff members"] += _bulk_create(StaffMember, rows)
            _require_pks(rows)
            members.update((row.user.username, row) for row in rows)
        self.staff_ids = {username: member.pk for username, member in members.items()}
        self.user_ids = {username: user.pk for username, user in users.items()}
        ordered = [members[s.username] for s in specs]
        if self.plan.size.bulk_role_sync:
            staff_members_sync_roles_bulk(staff_members=ordered)
        else:
            for member in ordered:
                staff_member_sync_role(staff_member=member)
        # Skills and time off only for people created now: existing ones are left as they are.
        self.created["staff skills"] += _bulk_create(
            StaffSkill,
            (
                StaffSkill(
                    staff_member_id=self.staff_ids[s.username],
                    skill_id=self.ref.skill_ids[skill.slug],
                    level=skill.level,
                    certified_until=skill.certified_until,
                )
                for s in fresh
                for skill in s.skills.values()
            ),
        )
        self.created["time off"] += _bulk_create(
            TimeOff,
            (
                TimeOff(
                    staff_member_id=self.staff_ids[s.username],
                    start_date=block.start_date,
                    end_date=block.end_date,
                    hours_per_day=block.hours_per_day,
                    reason=block.reason,
                )
                for s in fresh
                for block in s.time_off
            ),
        )

    def _clients(self) -> dict[str, int]:
        """Client ids by demo key; new clients get their external id and industry tags."""
        prefix = f"{self.plan.size.key_prefix}-c"
        existing: dict[str, int] = {}
        names = {c.key: c.name for c in self.plan.clients}
        for key, client_id, name in ClientExternalId.objects.filter(
            source=ExternalSource.DEMO, external_id__startswith=prefix
        ).values_list("external_id", "client_id", "client__name"):
            if key in names and names[key] != name:
                raise DemoConflictError(
                    f"Demo client {key} is {name!r} here but {names[key]!r} in this plan: the "
                    "database holds a demo firm from another --seed. Use that seed or a fresh database."
                )
            existing[key] = client_id
        fresh = [c for c in self.plan.clients if c.key not in existing]
        ids = dict(existing)
        for batch in _batches(fresh):
            rows = [
                Client(
                    name=c.name,
                    entity_type=c.entity_type,
                    value_tier=c.value_tier,
                    min_seniority=c.min_seniority,
                    billing_model=c.billing_model,
                    retainer_amount=c.retainer_amount,
                    contact_name=c.contact_name,
                    email=c.email,
                    mobile=c.mobile,
                    relationship_partner_id=self.staff_ids[c.relationship_partner],
                    preferred_staff_id=self.staff_ids[c.preferred_staff]
                    if c.preferred_staff
                    else None,
                    payment_plan=c.payment_plan,
                    autopay=c.autopay,
                    account_hold=c.account_hold,
                    notes=c.notes,
                )
                for c in batch
            ]
            Client.objects.bulk_create(rows, batch_size=BATCH_SIZE)
            _require_pks(rows)
            ids.update((c.key, row.pk) for c, row in zip(batch, rows, strict=True))
        self.created["clients"] += len(fresh)
        self.created["client external ids"] += _bulk_create(
            ClientExternalId,
            (
                ClientExternalId(
                    client_id=ids[c.key], source=ExternalSource.DEMO, external_id=c.key
                )
                for c in fresh
            ),
        )
        through = Client.industry_tags.through
        self.created["client industry tags"] += _bulk_create(
            through,
            (
                through(client_id=ids[c.key], skilltag_id=self.ref.industry_ids[slug])
                for c in fresh
                for slug in c.industries
                if slug in self.ref.industry_ids
            ),
        )
        return ids

    def _engagements(self, client_ids: dict[str, int]) -> None:
        """New engagements, then their checklist, timeline (milestone times and the
        matching system transitions), tasks and review exceptions."""
        prefix = f"{self.plan.size.key_prefix}-c"
        existing = set(
            Engagement.objects.filter(
                source=EngagementSource.DEMO, external_id__startswith=prefix
            ).values_list("external_id", flat=True)
        )
        fresh = [e for e in self.plan.engagements if e.key not in existing]
        work_type_ids = {code: rules.work_type.pk for code, rules in self.ref.work_types.items()}
        staff_ids = self.staff_ids
        ids: list[int] = []
        for batch in _batches(fresh):
            rows = [
                Engagement(
                    client_id=client_ids[e.client.key],
                    work_type_id=work_type_ids[e.work_type],
                    name=e.name,
                    period_start=e.period_start,
                    period_end=e.period_end,
                    milestone=e.milestone,
                    due_date=e.due_date,
                    estimated_hours=e.estimated_hours,
                    complexity=e.complexity,
                    priority=e.priority,
                    requested_staff_id=staff_ids[e.requested_staff] if e.requested_staff else None,
                    special_instructions=e.special_instructions,
                    source=EngagementSource.DEMO,
                    external_id=e.key,
                )
                for e in batch
            ]
            Engagement.objects.bulk_create(rows, batch_size=BATCH_SIZE)
            _require_pks(rows)
            ids.extend(row.pk for row in rows)
        self.created["engagements"] += len(fresh)
        pairs = list(zip(ids, fresh, strict=True))
        tz = self.tz
        self.created["required documents"] += _bulk_create(
            RequiredDocument,
            (
                RequiredDocument(engagement_id=pk, name=name, received_at=_aware(at, tz))
                for pk, e in pairs
                for name, at in e.received
            ),
        )
        self.created["milestone times"] += _bulk_create(
            EngagementMilestone,
            (
                EngagementMilestone(engagement_id=pk, milestone=code, reached_at=_aware(at, tz))
                for pk, e in pairs
                for code, at in e.reached
            ),
        )
        # The state machine's audit trail: one system move per step, from the one before.
        self.created["milestone transitions"] += _bulk_create(
            MilestoneTransition,
            (
                MilestoneTransition(
                    engagement_id=pk,
                    from_milestone=e.reached[i - 1][0] if i else Milestone.NEW,
                    to_milestone=code,
                    source=MilestoneSource.SYSTEM,
                    at=_aware(at, tz),
                )
                for pk, e in pairs
                for i, (code, at) in enumerate(e.reached)
            ),
        )
        # Reviewer tasks of engagements with exceptions are kept to link them by id.
        reviewer_rows: dict[int, Task] = {}

        def task_row(pk: int, e: EngagementSpec, t: TaskSpec) -> Task:
            row = Task(
                engagement_id=pk,
                role=t.role,
                title=t.title,
                assignee_id=staff_ids[t.assignee] if t.assignee else None,
                estimated_hours=t.estimated_hours,
                status=t.status,
                due_date=t.due_date,
                assigned_at=_aware(t.assigned_at, tz),
                accepted_at=_aware(t.accepted_at, tz),
                started_at=_aware(t.started_at, tz),
                completed_at=_aware(t.completed_at, tz),
            )
            if e.exceptions and t.role == TaskRole.REVIEWER:
                reviewer_rows[pk] = row
            if t.decisions:
                decided.append((row, t))
            return row

        decided: list[tuple[Task, TaskSpec]] = []
        self.created["tasks"] += _bulk_create(
            Task, (task_row(pk, e, t) for pk, e in pairs for t in e.tasks)
        )
        _require_pks(list(reviewer_rows.values()))
        _require_pks([row for row, _t in decided])
        self._decisions(decided)
        user_ids = self.user_ids
        exceptions = []
        for pk, e in pairs:
            if not e.exceptions:
                continue
            assignee = next(t.assignee for t in e.tasks if t.role == TaskRole.REVIEWER)
            reviewer = user_ids[assignee] if assignee else None
            for x in e.exceptions:
                exceptions.append(
                    ReviewException(
                        engagement_id=pk,
                        task_id=reviewer_rows[pk].pk,
                        note=x.note,
                        raised_by_id=reviewer,
                        raised_at=_aware(x.raised_at, tz),
                        resolved_at=_aware(x.resolved_at, tz),
                        resolved_by_id=reviewer if x.resolved_at else None,
                        resolution=x.resolution,
                    )
                )
        self.created["review exceptions"] += _bulk_create(ReviewException, exceptions)

    def _decisions(self, decided: list[tuple[Task, TaskSpec]]) -> None:
        """The history's decision log: the engine's decisions as ``dispatch.services``
        records them, staff ids in the candidate tables turned into the rows' ids."""
        by_number = {s.number: self.staff_ids[s.username] for s in self.plan.staff}
        user_ids, tz = self.user_ids, self.tz
        rows: list[DispatchDecision] = []
        for task, spec in decided:
            for logged in spec.decisions:
                decision = logged.decision
                candidates = [row.as_dict() for row in decision.candidates]
                for row in candidates:
                    row["staff_id"] = by_number[row["staff_id"]]  # type: ignore[index]
                reasons = list(decision.reasons)
                if logged.threshold is not None:
                    reasons.insert(
                        0, f"Threshold raised to {logged.threshold:.0%} for this task by a manager."
                    )
                record = DispatchDecision(
                    task_id=task.pk,
                    trigger=logged.trigger,
                    outcome=decision.outcome.value,
                    assignee_id=(by_number[decision.assignee_id] if decision.assignee_id else None),
                    reasons=reasons,
                    rule_path=list(decision.rule_path),
                    candidates=candidates,
                    candidate_count=decision.candidate_count or len(candidates),
                    rejections=[list(item) for item in decision.rejections],
                    urgent_override=decision.urgent_override,
                    requested_override=decision.requested_override,
                    over_threshold=decision.over_threshold,
                    actor_id=user_ids[logged.actor] if logged.actor else None,
                    confirmed_at=_aware(logged.confirmed_at, tz),
                    confirmed_by_id=user_ids[logged.confirmed_by] if logged.confirmed_by else None,
                )
                record.created_at = _aware(logged.at, tz)
                rows.append(record)
        at = [row.created_at for row in rows]
        self.created["dispatch decisions"] += _bulk_create(DispatchDecision, rows)
        _require_pks(rows)
        # bulk_create stamps auto_now_add fields with now: put the history's times back.
        for row, moment in zip(rows, at, strict=True):
            row.created_at = moment
        DispatchDecision.objects.bulk_update(rows, ["created_at"], batch_size=BATCH_SIZE)

    def _recurring_plans(self, client_ids: dict[str, int]) -> None:
        """The plans missing by (client, work type); one that exists is left as it is."""
        prefix = f"{self.plan.size.key_prefix}-c"
        existing = set(
            RecurringPlan.objects.filter(
                client__external_ids__source=ExternalSource.DEMO,
                client__external_ids__external_id__startswith=prefix,
            ).values_list("client_id", "work_type_id")
        )
        work_type_ids = {code: rules.work_type.pk for code, rules in self.ref.work_types.items()}
        self.created["recurring plans"] += _bulk_create(
            RecurringPlan,
            (
                RecurringPlan(
                    client_id=client_ids[p.client_key],
                    work_type_id=work_type_ids[p.work_type],
                    starts_on=p.starts_on,
                    event_rule=p.event_rule,
                    estimated_hours=p.estimated_hours,
                    requested_staff_id=self.staff_ids[p.requested_staff]
                    if p.requested_staff
                    else None,
                )
                for p in self.plan.recurring_plans
                if (client_ids[p.client_key], work_type_ids[p.work_type]) not in existing
            ),
        )


def _planned_counts(plan: DemoPlan) -> dict[str, int]:
    engagements = plan.engagements
    return {
        "users": len(plan.staff) + 1,
        "staff members": len(plan.staff),
        "staff skills": sum(len(s.skills) for s in plan.staff),
        "time off": sum(len(s.time_off) for s in plan.staff),
        "clients": len(plan.clients),
        "client external ids": len(plan.clients),
        "client industry tags": sum(len(c.industries) for c in plan.clients),
        "engagements": len(engagements),
        "required documents": sum(len(e.received) for e in engagements),
        "milestone times": sum(len(e.reached) for e in engagements),
        "milestone transitions": sum(len(e.reached) for e in engagements),
        "tasks": sum(len(e.tasks) for e in engagements),
        "review exceptions": sum(len(e.exceptions) for e in engagements),
        "dispatch decisions": sum(len(t.decisions) for e in engagements for t in e.tasks),
        "recurring plans": len(plan.recurring_plans),
    }


def demo_build(*, seed: int = 42, size: str = "demo", today: date | None = None) -> BuildResult:
    """Plan the demo firm and write whatever of it is missing, in one transaction.

    Safe to run again: the second run finds every natural key and creates nothing.
    Raises DemoConflictError when the database holds demo rows from another seed.
    """
    started = clock.perf_counter()
    today = today or timezone.localdate()
    reference = reference_load()
    plan = demo_plan(seed=seed, size=SIZES[size], today=today, reference=reference)
    # One hash for everyone: hashing per user would take minutes at 1,000 people.
    password_hash = make_password(DEMO_PASSWORD)
    with transaction.atomic():
        created = _Loader(plan, reference, password_hash).load()
    planned = _planned_counts(plan)
    return BuildResult(
        plan=plan,
        planned=planned,
        created={label: created.get(label, 0) for label in planned},
        seconds=clock.perf_counter() - started,
    )


def demo_logins(plan: DemoPlan) -> list[tuple[str, str, str]]:
    """(username, role, password): per role, the person with the most to act on now —
    work awaiting their acceptance first, then open work (an empty queue makes a poor
    demo) — then the admin. Read from the database, so a second run prints the same."""
    usernames = [s.username for s in plan.staff]
    counts = {
        row["user__username"]: row
        for row in StaffMember.objects.filter(user__username__in=usernames)
        .values("user__username")
        .annotate(
            awaiting=Count("tasks", filter=Q(tasks__status=TaskStatus.ASSIGNED)),
            held=Count("tasks", filter=Q(tasks__status__in=HELD_TASK_STATUSES)),
        )
    }
    rows = []
    for role, label in (
        (Role.PARTNER, "partner"),
        (Role.MANAGER, "manager"),
        (Role.SENIOR, "senior"),
        (Role.STAFF, "associate"),
    ):
        people = [s for s in plan.staff if s.role == role and s.username in counts]
        if people:
            person = max(
                people,
                key=lambda s: (
                    counts[s.username]["awaiting"],
                    counts[s.username]["held"],
                    -s.number,
                ),
            )
            rows.append((person.username, label, DEMO_PASSWORD))
    rows.append((ADMIN_USERNAME, "admin (superuser)", DEMO_PASSWORD))
    return rows


def demo_report(result: BuildResult, *, morning: list[str] | None = None) -> list[str]:
    """The command's output: counts, time, this morning's events, and the logins to try."""
    plan = result.plan
    lines = [
        f"Demo firm ({plan.size.name}, seed {plan.seed}, as of {plan.today.isoformat()}) "
        f"in {result.seconds:.1f} s",
        "",
        f"  {'rows':<22}{'created':>9}{'in plan':>10}",
    ]
    for label, planned in result.planned.items():
        lines.append(f"  {label:<22}{result.created[label]:>9,}{planned:>10,}")
    if morning:
        lines += ["", *morning]
    lines += ["", "Demo logins:", f"  {'username':<32}{'role':<20}password"]
    lines += [
        f"  {username:<32}{role:<20}{password}" for username, role, password in demo_logins(plan)
    ]
    return lines
