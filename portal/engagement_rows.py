"""Engagements as the pages show them: progress, owner, days left and risk.

The close dashboard (one period), the client list (the worst risk of each client's
open work) and the client page (its open engagements) read the same rows, so a
risk or a milestone label is the same on every page.

Reads only, in a fixed number of queries whatever the number of engagements:
1. the engagements with client, partner, work type, and counts of open exceptions
   and missing documents, and when each was delivered and closed (subqueries);
2. their work types (the milestone templates);
3. their open tasks with assignees (the owner is the task for the current step);
4. the owners' deadline fit (``capacity.selectors.deadline_fits``: two queries, their
   working hours come with the tasks).

Risk, in order:
- delivered or closed: green; invoiced: never red (the work is done) — green, or
  amber when delivery is past the deadline;
- red when the deadline has passed, when the owner cannot finish this work on time
  (earliest deadline first: the first deadline that breaks is this one's or an
  earlier one), or when nobody owns work due within two business days;
- amber within three business days, or with open exceptions or missing documents
  inside five; green otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from capacity.ledger import DeadlineFit
from capacity.selectors import StaffHours, deadline_fits
from core.calendar import BusinessCalendar
from core.formatting import counted, hours
from engagements.choices import OPEN_TASK_STATUSES, Milestone, TaskRole
from engagements.milestones import Step, step_label, template_for
from engagements.models import (
    Engagement,
    EngagementMilestone,
    RequiredDocument,
    ReviewException,
    Task,
    WorkType,
)

RED, AMBER, GREEN = "red", "amber", "green"
RISK_LABELS = {RED: "Red", AMBER: "Amber", GREEN: "Green"}
DONE_CODES = {Milestone.DELIVERED, Milestone.CLOSED}


@dataclass(frozen=True)
class OpenTask:
    role: str
    due_date: date
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


@dataclass
class Row:
    pk: int
    client_id: int
    client_name: str
    work_type_id: int
    work_type_name: str
    milestone: str
    partner_id: int | None
    steps: list[Step]
    step_number: int
    label: str
    owner_name: str
    owner_manager_id: int | None
    due_date: date
    period_end: date | None
    days_left: int
    done: bool
    invoiced: bool
    risk: str
    risk_reason: str
    open_exceptions: int
    missing_documents: int
    finished_on: date | None  # the firm's day it was delivered (or closed, without delivery)
    close_days: int | None

    @property
    def percent(self) -> int:
        return round(100 * self.step_number / len(self.steps)) if self.steps else 0

    @property
    def step_count(self) -> int:
        return len(self.steps)

    @property
    def waiting_on_delivery(self) -> bool:
        return self.invoiced and Milestone.DELIVERED in [
            s.code for s in self.steps[self.step_number :]
        ]

    @property
    def days_left_text(self) -> str:
        """Business days to the deadline; a dash once the deadline no longer matters."""
        if self.done or (self.invoiced and not self.waiting_on_delivery):
            return "—"
        return str(self.days_left)

    @property
    def risk_label(self) -> str:
        return RISK_LABELS[self.risk]


@dataclass
class RowSet:
    rows: list[Row]
    partners: dict[int, str] = field(default_factory=dict)
    managers: dict[int, str] = field(default_factory=dict)
    work_types: dict[int, str] = field(default_factory=dict)


def _per_engagement(queryset: QuerySet, value: str) -> Subquery:
    return Subquery(queryset.filter(engagement=OuterRef("pk")).order_by().values(value)[:1])


def _count(model: type[Any], filter_q: Q) -> Coalesce:
    counted_rows = model.objects.filter(filter_q).values("engagement").annotate(n=Count("pk"))
    return Coalesce(_per_engagement(counted_rows, "n"), 0)


def _reached(code: str) -> Subquery:
    return _per_engagement(EngagementMilestone.objects.filter(milestone=code), "reached_at")


def _name(first: str | None, last: str | None, username: str | None = None) -> str:
    return f"{first or ''} {last or ''}".strip() or (username or "")


def engagement_rows(
    *, engagements: QuerySet[Engagement], today: date, calendar: BusinessCalendar
) -> RowSet:
    """``engagements`` as rows (see the module docstring), ordered by client and work."""
    # Dicts and tuples, not model instances: 500 rows with five related objects each
    # would spend most of the render building objects the page never uses.
    lines = list(
        engagements.annotate(
            open_exceptions=_count(ReviewException, Q(resolved_at__isnull=True)),
            missing_documents=_count(RequiredDocument, Q(received_at__isnull=True)),
            delivered_at=_reached(Milestone.DELIVERED),
            closed_at=_reached(Milestone.CLOSED),
        )
        .order_by("client__name", "work_type__name", "pk")
        .values(
            "pk",
            "milestone",
            "due_date",
            "period_end",
            "work_type_id",
            "client_id",
            "client__name",
            "client__relationship_partner_id",
            "client__relationship_partner__user__first_name",
            "client__relationship_partner__user__last_name",
            "client__relationship_partner__user__username",
            "open_exceptions",
            "missing_documents",
            "delivered_at",
            "closed_at",
        )
    )
    if not lines:
        return RowSet(rows=[])
    work_types = {
        wt.pk: wt for wt in WorkType.objects.filter(pk__in={line["work_type_id"] for line in lines})
    }
    templates = {pk: template_for(wt) for pk, wt in work_types.items()}
    tasks: dict[int, list[OpenTask]] = {}
    hours: dict[int, StaffHours] = {}  # the owners' hours, read with their tasks
    for task_row in (
        Task.objects.filter(engagement__in=engagements, status__in=OPEN_TASK_STATUSES)
        # Text, decoded once per person below, not once per task by the JSON field.
        .annotate(working_days_text=Cast("assignee__working_days", TextField()))
        .order_by("role", "due_date", "pk")
        .values_list(
            "engagement_id",
            "role",
            "due_date",
            "assignee_id",
            "assignee__user__first_name",
            "assignee__user__last_name",
            "assignee__manager_id",
            "assignee__manager__user__first_name",
            "assignee__manager__user__last_name",
            "assignee__weekly_capacity_hours",
            "working_days_text",
        )
    ):
        tasks.setdefault(task_row[0], []).append(OpenTask(*task_row[1:9]))
        if task_row[3] is not None and task_row[3] not in hours:
            hours[task_row[3]] = StaffHours(task_row[9], json.loads(task_row[10]))
    fits = deadline_fits(staff_ids=sorted(hours), today=today, calendar=calendar, hours=hours)
    # Rows share a handful of due dates and period ends: count each span once.
    between = lru_cache(maxsize=None)(calendar.business_days_between)

    rows: list[Row] = []
    partners: dict[int, str] = {}
    managers: dict[int, str] = {}
    for line in lines:
        partner_id = line["client__relationship_partner_id"]
        if partner_id:
            partners[partner_id] = _partner_name(line)
        owner_task = _owner_task(line["milestone"], tasks.get(line["pk"], []))
        if owner_task and owner_task.manager_id:
            managers[owner_task.manager_id] = owner_task.manager_name
        rows.append(
            _row(
                line,
                work_types[line["work_type_id"]],
                templates[line["work_type_id"]],
                owner_task,
                fits,
                today,
                between,
            )
        )
    return RowSet(
        rows=rows,
        partners=dict(sorted(partners.items(), key=lambda kv: kv[1])),
        managers=dict(sorted(managers.items(), key=lambda kv: kv[1])),
        work_types=dict(
            sorted(((pk, wt.name) for pk, wt in work_types.items()), key=lambda kv: kv[1])
        ),
    )


def _partner_name(line: Mapping[str, Any]) -> str:
    return _name(
        line["client__relationship_partner__user__first_name"],
        line["client__relationship_partner__user__last_name"],
        line["client__relationship_partner__user__username"],
    )


def _owner_task(milestone: str, open_tasks: list[OpenTask]) -> OpenTask | None:
    """Review steps belong to the reviewer; everything else to the preparer."""
    in_review = milestone in (Milestone.IN_REVIEW, Milestone.PREPARATION_COMPLETE)
    wanted = TaskRole.REVIEWER if in_review else TaskRole.PREPARER
    for task in open_tasks:
        if task.role == wanted:
            return task
    return open_tasks[0] if open_tasks else None


def _local_day(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment is not None else None  # the firm's day


def _row(
    line: Mapping[str, Any],
    work_type: WorkType,
    steps: list[Step],
    owner_task: OpenTask | None,
    fits: dict[int, DeadlineFit],
    today: date,
    between: Callable[[date, date], int],
) -> Row:
    codes = [step.code for step in steps]
    milestone = line["milestone"]
    step_number = codes.index(milestone) + 1 if milestone in codes else 0
    label = step_label(steps, milestone)
    done = milestone in DONE_CODES or bool(steps and step_number == len(steps))
    invoiced = not done and Milestone.INVOICED in codes[: max(step_number, 0)]
    due = line["due_date"]
    if due >= today:
        days_left = between(today, due)
    else:
        days_left = -between(due, today)
    owner_id = owner_task.assignee_id if owner_task else None
    fit = fits.get(owner_id) if owner_id else None
    delivered_on = _local_day(line["delivered_at"])
    finished_on = delivered_on or (
        _local_day(line["closed_at"]) if Milestone.DELIVERED not in codes else None
    )
    risk, reason = _risk(
        line,
        done=done,
        invoiced=invoiced,
        delivery_pending=invoiced and Milestone.DELIVERED in codes[step_number:],
        days_left=days_left,
        owner_task=owner_task,
        fit=fit,
        label=label,
    )
    close_days = None
    if finished_on is not None and line["period_end"] is not None:
        close_days = between(line["period_end"], finished_on)
    return Row(
        pk=line["pk"],
        client_id=line["client_id"],
        client_name=line["client__name"],
        work_type_id=work_type.pk,
        work_type_name=work_type.name,
        milestone=milestone,
        partner_id=line["client__relationship_partner_id"],
        steps=steps,
        step_number=step_number,
        label=label,
        owner_name=_owner_name(owner_task, line, done),
        owner_manager_id=owner_task.manager_id if owner_task and owner_id else None,
        due_date=due,
        period_end=line["period_end"],
        days_left=days_left,
        done=done,
        invoiced=invoiced,
        risk=risk,
        risk_reason=reason,
        open_exceptions=line["open_exceptions"],
        missing_documents=line["missing_documents"],
        finished_on=finished_on,
        close_days=close_days,
    )


def _owner_name(owner_task: OpenTask | None, line: Mapping[str, Any], done: bool) -> str:
    if owner_task is not None:
        return owner_task.name if owner_task.assignee_id else "Unassigned"
    if done:
        return "—"
    # No open task: the work is done and it waits on invoicing or delivery, which
    # is the client's partner's to move.
    return _partner_name(line) or "—"


def _risk(
    line: Mapping[str, Any],
    *,
    done: bool,
    invoiced: bool,
    delivery_pending: bool,
    days_left: int,
    owner_task: OpenTask | None,
    fit: DeadlineFit | None,
    label: str,
) -> tuple[str, str]:
    if done:
        return GREEN, label
    if invoiced:
        # The work is finished: what is left is the partner's delivery, never a red.
        if delivery_pending and days_left < 0:
            late = counted(-days_left, "business day")
            return AMBER, f"Invoiced; delivery {late} past the deadline"
        return GREEN, "Invoiced; waiting for delivery" if delivery_pending else "Invoiced"
    if days_left < 0:
        return RED, f"{counted(-days_left, 'business day')} past the deadline"
    if (
        fit is not None
        and not fit.fits
        and owner_task is not None
        and fit.broken_deadline is not None
        and owner_task.due_date >= fit.broken_deadline
    ):
        by = f"{fit.broken_deadline:%b} {fit.broken_deadline.day}"
        return RED, f"Owner cannot finish on time: short {hours(fit.shortfall)} by {by}"
    if owner_task is not None and owner_task.assignee_id is None and days_left <= 2:
        return RED, "Due within 2 business days and nobody owns it"
    if days_left <= 3:
        return AMBER, f"{counted(days_left, 'business day')} left"
    if days_left <= 5 and (line["open_exceptions"] or line["missing_documents"]):
        return AMBER, "Open exceptions or missing documents close to the deadline"
    return GREEN, "On track"
