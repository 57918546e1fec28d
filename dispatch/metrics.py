"""Engine metrics, weekly and by work type: how well dispatch is placing the work.

The seeds' "measure and tune the engine" (step 6) and its feedback loop: average
utilization and the spread between the busiest and the idlest, on-time completion,
escalations, the time from document receipt to assignment, and the share of
automatic assignments a person had to be taken off — a work type above 20 % has
tags or thresholds that need tuning.

Weeks run Monday to Sunday in the firm's time zone; the window is the last ``weeks``
weeks, the current one included (to date), oldest first.

1. Utilization, as a manager saw it on each Monday morning: the capacity ledger's
   committed hours that week for the work each active person held then (assigned
   before the Monday, not completed by it; its estimate: what was logged by that
   morning is not recorded apart),
   against their available hours that week. The mean over the people with hours
   available, and the spread: busiest minus idlest.
2. On-time completion: tasks completed in the week on or before their due date,
   of all completed that week.
3. Escalations opened in the week (and how many of those are resolved).
4. Document receipt to assignment: for preparer tasks of engagements with a
   document checklist, from the last required document's arrival to the task's
   first assignment after it; median and 90th percentile by week of assignment.
5. Reassigned auto-assignments: assignments the engine made on its own (not a
   manager's override) whose person did not keep the task — they asked off, or the
   task was later assigned to someone else — with why (their reason, or the later
   assignment's). A work type above ``REASSIGNED_FLAG_SHARE`` with at least
   ``REASSIGNED_MIN_SAMPLE`` auto-assignments is flagged.

Queries: eleven, whatever the size of the firm or the window (people, their skills,
time off and held work for utilization; one aggregate each for completion,
escalations and reassignment; the receipt-to-assignment durations; two for the
reasons; the open escalations), and two for the capacity policy when its cache is
cold.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from capacity.ledger import EPSILON, OpenWork, committed_between
from capacity.policy import Policy
from capacity.selectors import capacity_policy, remaining_weighted_hours, staff_calendars
from core.calendar import BusinessCalendar, firm_calendar
from dispatch.choices import DecisionOutcome, EscalationStatus, Trigger
from dispatch.models import DispatchDecision, Escalation, ReassignmentRequest
from engagements.choices import TaskRole, TaskStatus
from engagements.models import RequiredDocument, Task
from staff.models import StaffMember, StaffSkill

WEEK_CHOICES = (4, 8, 13, 26)
DEFAULT_WEEKS = 8
REASSIGNED_FLAG_SHARE = 0.20
REASSIGNED_MIN_SAMPLE = 5
# How many reasons each work type lists (the most recent first).
REASONS_SHOWN = 5

ASKED_OFF = "Asked off by the assignee"


def _week_of(value: date | datetime) -> date:
    day = timezone.localtime(value).date() if isinstance(value, datetime) else value
    return day - timedelta(days=day.weekday())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` quantile by linear interpolation (as PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Durations:
    """Hours from document receipt to assignment."""

    hours: tuple[float, ...] = ()

    @property
    def count(self) -> int:
        return len(self.hours)

    @property
    def median(self) -> float | None:
        return statistics.median(self.hours) if self.hours else None

    @property
    def p90(self) -> float | None:
        return _percentile(self.hours, 0.9)


@dataclass(frozen=True)
class Rate:
    """``part`` of ``whole``, e.g. tasks on time of tasks completed."""

    part: int = 0
    whole: int = 0

    @property
    def share(self) -> float | None:
        return self.part / self.whole if self.whole else None

    @property
    def percent(self) -> int | None:
        share = self.share
        return None if share is None else round(share * 100)


@dataclass(frozen=True)
class Reason:
    kind: str  # asked off, or the later assignment's trigger in words
    text: str
    at: datetime


@dataclass(frozen=True)
class WeekMetrics:
    week: date  # the Monday
    current: bool
    utilization_mean: float | None
    utilization_low: float | None
    utilization_high: float | None
    people: int  # with hours available that week
    over_threshold: int
    on_time: Rate
    escalations: int
    escalations_resolved: int
    receipt_to_assignment: Durations
    reassigned: Rate

    @property
    def spread(self) -> float | None:
        if self.utilization_low is None or self.utilization_high is None:
            return None
        return self.utilization_high - self.utilization_low


@dataclass(frozen=True)
class WorkTypeMetrics:
    name: str
    on_time: Rate
    escalations: int
    receipt_to_assignment: Durations
    reassigned: Rate
    reasons: tuple[Reason, ...]
    reasons_by_kind: tuple[tuple[str, int], ...]

    @property
    def needs_tuning(self) -> bool:
        share = self.reassigned.share
        return (
            share is not None
            and self.reassigned.whole >= REASSIGNED_MIN_SAMPLE
            and share > REASSIGNED_FLAG_SHARE
        )

    @property
    def too_few(self) -> bool:
        return 0 < self.reassigned.whole < REASSIGNED_MIN_SAMPLE


@dataclass(frozen=True)
class EngineMetrics:
    today: date
    weeks: tuple[WeekMetrics, ...]
    work_types: tuple[WorkTypeMetrics, ...]
    open_escalations: int
    totals: dict[str, object] = field(default_factory=dict)

    @property
    def this_week(self) -> WeekMetrics:
        return self.weeks[-1]

    @property
    def last_week(self) -> WeekMetrics | None:
        return self.weeks[-2] if len(self.weeks) > 1 else None

    @property
    def flagged(self) -> tuple[WorkTypeMetrics, ...]:
        return tuple(w for w in self.work_types if w.needs_tuning)


# 1. Utilization on each Monday morning ----------------------------------------


def _utilization(
    mondays: Sequence[date], today: date, calendar: BusinessCalendar
) -> dict[date, tuple[list[float], int]]:
    """For each Monday: every active person's utilization that week (those with hours
    available), and how many were over their threshold (four queries)."""
    first, last_end = mondays[0], mondays[-1] + timedelta(days=7)
    members = list(
        StaffMember.objects.filter(active=True).prefetch_related(
            Prefetch("staff_skills", queryset=StaffSkill.objects.select_related("skill"))
        )
    )
    rows = (
        Task.objects.filter(assignee__isnull=False, assigned_at__lt=_midnight(last_end))
        .exclude(status__in=(TaskStatus.CANCELLED, TaskStatus.UNASSIGNED))
        .filter(Q(completed_at__isnull=True) | Q(completed_at__gte=_midnight(first)))
        .values_list(
            "assignee_id",
            "pk",
            "due_date",
            "estimated_hours",
            "engagement__work_type__complexity_weight",
            "assigned_at",
            "completed_at",
        )
    )
    held: dict[int, list[tuple[OpenWork, datetime, datetime | None]]] = defaultdict(list)
    horizon = last_end
    for assignee_id, pk, due, estimate, weight, assigned_at, completed_at in rows:
        item = OpenWork(task_id=pk, due_date=due, hours=remaining_weighted_hours(estimate, weight))
        assert assigned_at is not None  # filtered on it
        held[assignee_id].append((item, assigned_at, completed_at))
        horizon = max(horizon, due)
    calendars = staff_calendars(members=members, today=first, horizon=horizon, calendar=calendar)
    policy = capacity_policy(day=today)
    result: dict[date, tuple[list[float], int]] = {}
    for monday in mondays:
        morning = _midnight(monday)
        sunday = monday + timedelta(days=6)
        seasonal = Policy(seasons=policy.seasons, day=monday)
        shares: list[float] = []
        over = 0
        for member in members:
            staff_calendar = calendars[member.pk]
            available = staff_calendar.available(monday, sunday)
            if available <= EPSILON:
                continue
            work = [
                w
                for w, assigned_at, completed_at in held.get(member.pk, ())
                if assigned_at < morning and (completed_at is None or completed_at >= morning)
            ]
            share = committed_between(staff_calendar, work, monday, monday, sunday) / available
            shares.append(share)
            threshold = seasonal.thresholds_for(s.skill.slug for s in member.staff_skills.all())
            over += share > threshold.preparer + EPSILON
        result[monday] = (shares, over)
    return result


# 2-5. Aggregates by (week, work type) ------------------------------------------

WORK_TYPE = "task__engagement__work_type__name"


def _completion(start: datetime, end: datetime) -> list[tuple[date, str, int, int]]:
    rows = (
        Task.objects.filter(
            status=TaskStatus.COMPLETED, completed_at__gte=start, completed_at__lt=end
        )
        .annotate(week=TruncWeek("completed_at"))
        .values("week", "engagement__work_type__name")
        .annotate(
            total=Count("id"),
            on_time=Count("id", filter=Q(completed_at__date__lte=F("due_date"))),
        )
        .order_by()
    )
    return [
        (_week_of(r["week"]), r["engagement__work_type__name"], r["total"], r["on_time"])
        for r in rows
    ]


def _escalations(start: datetime, end: datetime) -> list[tuple[date, str, int, int]]:
    rows = (
        Escalation.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(week=TruncWeek("created_at"))
        .values("week", WORK_TYPE)
        .annotate(
            total=Count("id"),
            resolved=Count("id", filter=Q(status=EscalationStatus.RESOLVED)),
        )
        .order_by()
    )
    return [(_week_of(r["week"]), r[WORK_TYPE], r["total"], r["resolved"]) for r in rows]


def _auto_assignments(start: datetime, end: datetime) -> QuerySet[DispatchDecision]:
    """Assignments the engine made on its own in the window (no manager's override)."""
    return DispatchDecision.objects.filter(
        outcome=DecisionOutcome.ASSIGNED,
        is_override=False,
        created_at__gte=start,
        created_at__lt=end,
    ).exclude(trigger__in=(Trigger.MANUAL, Trigger.ESCALATION_ACTION, Trigger.CONFIRMATION))


def _replaced_later() -> Exists:
    """A later assignment of the same task went to someone else."""
    return Exists(
        DispatchDecision.objects.filter(
            task_id=OuterRef("task_id"),
            outcome=DecisionOutcome.ASSIGNED,
            created_at__gte=OuterRef("created_at"),
            pk__gt=OuterRef("pk"),
        ).exclude(assignee_id=OuterRef("assignee_id"))
    )


def _reassignment(start: datetime, end: datetime) -> list[tuple[date, str, int, int]]:
    rows = (
        _auto_assignments(start, end)
        .annotate(
            asked_off=Exists(ReassignmentRequest.objects.filter(decision_id=OuterRef("pk"))),
            replaced=_replaced_later(),
            week=TruncWeek("created_at"),
        )
        .values("week", WORK_TYPE)
        .annotate(
            total=Count("id"),
            reassigned=Count("id", filter=Q(asked_off=True) | Q(replaced=True)),
        )
        .order_by()
    )
    return [(_week_of(r["week"]), r[WORK_TYPE], r["total"], r["reassigned"]) for r in rows]


def _reasons(start: datetime, end: datetime) -> dict[str, list[Reason]]:
    """Why auto-assignments in the window were undone, per work type (two queries)."""
    auto = _auto_assignments(start, end)
    reasons: dict[str, list[Reason]] = defaultdict(list)
    for work_type, reason, at in ReassignmentRequest.objects.filter(
        decision__in=auto.values("pk")
    ).values_list(WORK_TYPE, "reason", "created_at"):
        reasons[work_type].append(Reason(ASKED_OFF, reason, at))
    # A later assignment to someone else (a manager by hand, an escalation, a move);
    # the dispatch that follows an ask-off is the ask-off's, counted above.
    earlier = auto.filter(task_id=OuterRef("task_id"), pk__lt=OuterRef("pk")).exclude(
        assignee_id=OuterRef("assignee_id")
    )
    later = (
        DispatchDecision.objects.filter(outcome=DecisionOutcome.ASSIGNED, created_at__gte=start)
        .exclude(trigger=Trigger.REASSIGNMENT)
        .filter(Exists(earlier))
    )
    labels = dict(Trigger.choices)
    for work_type, trigger, override, logged, at in later.values_list(
        WORK_TYPE, "trigger", "override_reason", "reasons", "created_at"
    ):
        kind = "Reassigned by a manager" if trigger == Trigger.MANUAL else labels.get(trigger, "")
        text = override or (logged[0] if isinstance(logged, list) and logged else "")
        reasons[work_type].append(Reason(str(kind), str(text), at))
    for items in reasons.values():
        items.sort(key=lambda r: r.at, reverse=True)
    return reasons


def _receipt_to_assignment(start: datetime, end: datetime) -> list[tuple[date, str, float]]:
    """(week of assignment, work type, hours) for preparer tasks assigned after their
    engagement's last required document arrived (one query)."""
    first_assigned = Subquery(
        DispatchDecision.objects.filter(task_id=OuterRef("pk"), outcome=DecisionOutcome.ASSIGNED)
        .order_by()
        .values("task_id")
        .annotate(first=Min("created_at"))
        .values("first")[:1]
    )
    last_document = Subquery(
        RequiredDocument.objects.filter(engagement_id=OuterRef("engagement_id"))
        .order_by()
        .values("engagement_id")
        .annotate(last=Max("received_at"))
        .values("last")[:1]
    )
    outstanding = Exists(
        RequiredDocument.objects.filter(
            engagement_id=OuterRef("engagement_id"), received_at__isnull=True
        )
    )
    rows = (
        Task.objects.filter(role=TaskRole.PREPARER, assigned_at__isnull=False)
        .annotate(
            assigned=Coalesce(first_assigned, F("assigned_at")),
            documents_in=last_document,
            outstanding=outstanding,
        )
        .filter(assigned__gte=start, assigned__lt=end, documents_in__isnull=False)
        .filter(outstanding=False, assigned__gte=F("documents_in"))
        .values_list("assigned", "documents_in", "engagement__work_type__name")
    )
    return [
        (_week_of(assigned), name, (assigned - documents_in).total_seconds() / 3600)
        for assigned, documents_in, name in rows
    ]


def _by_week(rows: Iterable[tuple[date, str, int, int]]) -> dict[date, Rate]:
    """(week, work type, whole, part) rows summed by week."""
    parts: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for week, _name, whole, part in rows:
        parts[week][0] += part
        parts[week][1] += whole
    return {k: Rate(part=v[0], whole=v[1]) for k, v in parts.items()}


def _by_work_type(rows: Iterable[tuple[date, str, int, int]]) -> dict[str, Rate]:
    """(week, work type, whole, part) rows summed by work type."""
    parts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _week, name, whole, part in rows:
        parts[name][0] += part
        parts[name][1] += whole
    return {k: Rate(part=v[0], whole=v[1]) for k, v in parts.items()}


def engine_metrics(
    *, today: date, weeks: int = DEFAULT_WEEKS, calendar: BusinessCalendar | None = None
) -> EngineMetrics:
    """The engine's figures for the last ``weeks`` weeks (module docstring: definitions)."""
    calendar = calendar or firm_calendar()
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]
    start, end = _midnight(mondays[0]), _midnight(this_monday + timedelta(days=7))

    utilization = _utilization(mondays, today, calendar)
    completion = _completion(start, end)
    escalations = _escalations(start, end)
    reassignment = _reassignment(start, end)
    durations = _receipt_to_assignment(start, end)
    reasons = _reasons(start, end)
    open_escalations = Escalation.objects.filter(status=EscalationStatus.OPEN).count()

    on_time_by_week = _by_week(completion)
    reassigned_by_week = _by_week(reassignment)
    escalations_by_week: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for week, _name, total, resolved in escalations:
        escalations_by_week[week][0] += total
        escalations_by_week[week][1] += resolved
    hours_by_week: dict[date, list[float]] = defaultdict(list)
    hours_by_type: dict[str, list[float]] = defaultdict(list)
    for week, name, hours in durations:
        hours_by_week[week].append(hours)
        hours_by_type[name].append(hours)

    week_rows = []
    for monday in mondays:
        shares, over = utilization[monday]
        week_rows.append(
            WeekMetrics(
                week=monday,
                current=monday == this_monday,
                utilization_mean=statistics.fmean(shares) if shares else None,
                utilization_low=min(shares) if shares else None,
                utilization_high=max(shares) if shares else None,
                people=len(shares),
                over_threshold=over,
                on_time=on_time_by_week.get(monday, Rate()),
                escalations=escalations_by_week[monday][0],
                escalations_resolved=escalations_by_week[monday][1],
                receipt_to_assignment=Durations(tuple(hours_by_week.get(monday, ()))),
                reassigned=reassigned_by_week.get(monday, Rate()),
            )
        )

    on_time_by_type = _by_work_type(completion)
    reassigned_by_type = _by_work_type(reassignment)
    escalations_by_type: dict[str, int] = defaultdict(int)
    for _week, name, total, _resolved in escalations:
        escalations_by_type[name] += total
    names = sorted({*on_time_by_type, *reassigned_by_type, *escalations_by_type, *hours_by_type})
    type_rows = []
    for name in names:
        listed = reasons.get(name, [])
        kinds: dict[str, int] = defaultdict(int)
        for reason in listed:
            kinds[reason.kind] += 1
        type_rows.append(
            WorkTypeMetrics(
                name=name,
                on_time=on_time_by_type.get(name, Rate()),
                escalations=escalations_by_type.get(name, 0),
                receipt_to_assignment=Durations(tuple(hours_by_type.get(name, ()))),
                reassigned=reassigned_by_type.get(name, Rate()),
                reasons=tuple(listed[:REASONS_SHOWN]),
                reasons_by_kind=tuple(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))),
            )
        )
    type_rows.sort(key=lambda w: (not w.needs_tuning, -(w.reassigned.share or 0), w.name))
    all_durations = Durations(tuple(h for _w, _n, h in durations))
    return EngineMetrics(
        today=today,
        weeks=tuple(week_rows),
        work_types=tuple(type_rows),
        open_escalations=open_escalations,
        totals={
            "on_time": Rate(
                sum(r.part for r in on_time_by_week.values()),
                sum(r.whole for r in on_time_by_week.values()),
            ),
            "reassigned": Rate(
                sum(r.part for r in reassigned_by_week.values()),
                sum(r.whole for r in reassigned_by_week.values()),
            ),
            "escalations": sum(v[0] for v in escalations_by_week.values()),
            "receipt_to_assignment": all_durations,
        },
    )
