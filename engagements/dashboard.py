"""The close-progress dashboard: one row per client engagement for a period.

Reads only, in a fixed number of queries whatever the number of clients:
1. the period's engagements with client, partner, work type, and counts of open
   exceptions and missing documents (subqueries);
2. their open tasks with assignees (the owner is the task for the current step);
3. the owners' deadline fit (capacity.selectors.deadline_fits, three queries);
4. when each finished engagement was delivered (the close-cycle metric).
Risk is red when the deadline has passed, nobody owns work due within two
business days, or the owner cannot finish everything on time (earliest deadline
first); amber within three business days or with open exceptions or missing
documents inside five; green otherwise.
"""

from __future__ import annotations

import calendar as month_calendar
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from capacity.selectors import deadline_fits
from core.calendar import BusinessCalendar
from engagements.choices import OPEN_TASK_STATUSES, Milestone, TaskRole
from engagements.milestones import Step, position, template_for
from engagements.models import (
    Engagement,
    EngagementMilestone,
    RequiredDocument,
    ReviewException,
    Task,
)

BEST_IN_CLASS_CLOSE_DAYS = 8  # seeds: best-in-class firms close in under 8 business days
RED, AMBER, GREEN = "red", "amber", "green"
DONE_CODES = {Milestone.DELIVERED, Milestone.CLOSED}


@dataclass(frozen=True)
class OpenTask:
    role: str
    assignee_id: int | None
    first_name: str | None
    last_name: str | None
    manager_id: int | None
    manager_first: str | None
    manager_last: str | None

    @property
    def name(self) -> str:
        return f"{self.first_name or ''} {self.last_name or ''}".strip()

    @property
    def manager_name(self) -> str:
        return f"{self.manager_first or ''} {self.manager_last or ''}".strip()


@dataclass(frozen=True)
class Filters:
    period: date  # any day in the month
    partner_id: int | None = None
    manager_id: int | None = None
    work_type_id: int | None = None
    milestone: str | None = None
    risk: str | None = None


@dataclass
class Row:
    engagement: Engagement
    steps: list[Step]
    step_number: int
    label: str
    client_name: str
    work_type_name: str
    owner_name: str
    owner_manager_id: int | None
    days_left: int
    risk: str
    risk_reason: str
    open_exceptions: int
    missing_documents: int
    close_days: int | None

    @property
    def percent(self) -> int:
        return round(100 * self.step_number / len(self.steps)) if self.steps else 0

    @property
    def step_count(self) -> int:
        return len(self.steps)


@dataclass
class Board:
    rows: list[Row]
    counts: list[tuple[str, int]]
    median_close_days: float | None
    best_in_class_days: int = BEST_IN_CLASS_CLOSE_DAYS
    partners: dict[int, str] = field(default_factory=dict)
    managers: dict[int, str] = field(default_factory=dict)
    work_types: dict[int, str] = field(default_factory=dict)


def month_bounds(day: date) -> tuple[date, date]:
    last = month_calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def _count(model: type, filter_q: Q) -> Coalesce:
    return Coalesce(
        Subquery(
            model.objects.filter(filter_q, engagement=OuterRef("pk"))
            .order_by()
            .values("engagement")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        0,
    )


def close_board(*, filters: Filters, today: date, calendar: BusinessCalendar) -> Board:
    start, end = month_bounds(filters.period)
    engagements = list(
        Engagement.objects.filter(period_end__gte=start, period_end__lte=end)
        .select_related("client__relationship_partner__user", "work_type")
        .only(
            "milestone",
            "due_date",
            "period_end",
            "work_type_id",
            "work_type__name",
            "work_type__milestone_template",
            "client__name",
            "client__relationship_partner_id",
            "client__relationship_partner__user__first_name",
            "client__relationship_partner__user__last_name",
            "client__relationship_partner__user__username",
        )
        .annotate(
            open_exceptions=_count(ReviewException, Q(resolved_at__isnull=True)),
            missing_documents=_count(RequiredDocument, Q(received_at__isnull=True)),
        )
        .order_by("client__name", "work_type__name", "pk")
    )
    ids = [e.pk for e in engagements]
    # Plain tuples, not model instances: this is the widest read on the page.
    tasks: dict[int, list[OpenTask]] = {}
    for row in (
        Task.objects.filter(engagement_id__in=ids, status__in=OPEN_TASK_STATUSES)
        .order_by("role", "due_date", "pk")
        .values_list(
            "engagement_id",
            "role",
            "assignee_id",
            "assignee__user__first_name",
            "assignee__user__last_name",
            "assignee__manager_id",
            "assignee__manager__user__first_name",
            "assignee__manager__user__last_name",
        )
    ):
        tasks.setdefault(row[0], []).append(OpenTask(*row[1:]))
    owners = {t.assignee_id for ts in tasks.values() for t in ts if t.assignee_id}
    fits = deadline_fits(staff_ids=sorted(owners), today=today, calendar=calendar)
    delivered = dict(
        EngagementMilestone.objects.filter(
            engagement_id__in=ids, milestone=Milestone.DELIVERED
        ).values_list("engagement_id", "reached_at")
    )

    rows: list[Row] = []
    partners: dict[int, str] = {}
    managers: dict[int, str] = {}
    work_types: dict[int, str] = {}
    for engagement in engagements:
        partner = engagement.client.relationship_partner
        if partner:
            partners[partner.pk] = partner.display_name
        work_types[engagement.work_type_id] = engagement.work_type.name
        owner_task = _owner_task(engagement, tasks.get(engagement.pk, []))
        if owner_task and owner_task.manager_id:
            managers[owner_task.manager_id] = owner_task.manager_name
        row = _row(engagement, owner_task, fits, delivered.get(engagement.pk), today, calendar)
        rows.append(row)

    counts = _milestone_counts(rows)
    cycles = [row.close_days for row in rows if row.close_days is not None]
    rows = [row for row in rows if _matches(row, filters)]
    return Board(
        rows=rows,
        counts=counts,
        median_close_days=statistics.median(cycles) if cycles else None,
        partners=dict(sorted(partners.items(), key=lambda kv: kv[1])),
        managers=dict(sorted(managers.items(), key=lambda kv: kv[1])),
        work_types=dict(sorted(work_types.items(), key=lambda kv: kv[1])),
    )


def _owner_task(engagement: Engagement, open_tasks: list[OpenTask]) -> OpenTask | None:
    """Review steps belong to the reviewer; everything else to the preparer."""
    in_review = engagement.milestone in (Milestone.IN_REVIEW, Milestone.PREPARATION_COMPLETE)
    wanted = TaskRole.REVIEWER if in_review else TaskRole.PREPARER
    for task in open_tasks:
        if task.role == wanted:
            return task
    return open_tasks[0] if open_tasks else None


def _row(
    engagement: Engagement,
    owner_task: OpenTask | None,
    fits: dict,
    delivered_at: datetime | None,
    today: date,
    calendar: BusinessCalendar,
) -> Row:
    steps = template_for(engagement.work_type)
    step_number = max(0, position(engagement.work_type, engagement.milestone))
    done = engagement.milestone in DONE_CODES or (steps and step_number == len(steps))
    if engagement.due_date >= today:
        days_left = calendar.business_days_between(today, engagement.due_date)
    else:
        days_left = -calendar.business_days_between(engagement.due_date, today)
    owner_id = owner_task.assignee_id if owner_task else None
    fit = fits.get(owner_id) if owner_id else None
    risk, reason = _risk(engagement, done, days_left, owner_task, fit)
    close_days = None
    if delivered_at is not None and engagement.period_end is not None:
        close_days = calendar.business_days_between(engagement.period_end, delivered_at.date())
    return Row(
        engagement=engagement,
        steps=steps,
        step_number=step_number,
        label=engagement.milestone_label,
        client_name=engagement.client.name,
        work_type_name=engagement.work_type.name,
        owner_name=owner_task.name if owner_id else ("—" if done else "Unassigned"),
        owner_manager_id=owner_task.manager_id if owner_id else None,
        days_left=days_left,
        risk=risk,
        risk_reason=reason,
        open_exceptions=engagement.open_exceptions,
        missing_documents=engagement.missing_documents,
        close_days=close_days,
    )


def _risk(engagement, done, days_left, owner_task, fit) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    if done:
        return GREEN, "Delivered"
    if days_left < 0:
        return RED, f"{-days_left} business day(s) past the deadline"
    if fit is not None and not fit.fits:
        return RED, f"Owner cannot finish everything on time (short {fit.shortfall:.1f} h)"
    if owner_task is not None and owner_task.assignee_id is None and days_left <= 2:
        return RED, "Due within 2 business days and nobody owns it"
    if days_left <= 3:
        return AMBER, f"{days_left} business day(s) left"
    if days_left <= 5 and (engagement.open_exceptions or engagement.missing_documents):
        return AMBER, "Open exceptions or missing documents close to the deadline"
    return GREEN, "On track"


def _milestone_counts(rows: list[Row]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    order: list[str] = []
    for row in rows:
        label = row.label
        if label not in counts:
            order.append(label)
            counts[label] = 0
        counts[label] += 1
    steps_order = {s.label: i for row in rows for i, s in enumerate(row.steps)}
    order.sort(key=lambda label: steps_order.get(label, -1))
    return [(label, counts[label]) for label in order]


def _matches(row: Row, filters: Filters) -> bool:
    engagement = row.engagement
    if filters.partner_id and engagement.client.relationship_partner_id != filters.partner_id:
        return False
    if filters.manager_id and row.owner_manager_id != filters.manager_id:
        return False
    if filters.work_type_id and engagement.work_type_id != filters.work_type_id:
        return False
    if filters.milestone and engagement.milestone != filters.milestone:
        return False
    return not (filters.risk and row.risk != filters.risk)
