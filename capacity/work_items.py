"""Open work as the capacity pages read it: one row per task, with its status, its
weighted hours, whether its engagement waits on client documents and its statutory
deadline — in one query, as values.

The hours are ``capacity.selectors.remaining_weighted_hours``, the ledger's committed
hours for a task, with its holder's effort factor for the work type
(``capacity.estimates``), so the heatmap and the deadline distribution count what
dispatch counts. "Proposed" work is an unassigned task a manager has still to confirm for a
requested staffer: dispatch owns those decisions and hands in the expression that
finds them (capacity sits below dispatch and does not read its tables).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.fields import IntegerField

from capacity.estimates import effort_factors_cached
from capacity.ledger import OpenWork
from capacity.selectors import remaining_weighted_hours
from engagements.choices import DeadlineBasis, TaskStatus
from engagements.deadlines import statutory_date
from engagements.models import RequiredDocument, Task

SOLID_STATUSES = (TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS)
HELD_STATUSES = (TaskStatus.ASSIGNED, *SOLID_STATUSES)

STATUTORY, FIRM_DUE = "statutory", "due"
DEADLINE_KINDS = {STATUTORY: "statutory", FIRM_DUE: "firm due date"}


@dataclass(frozen=True)
class WorkItem:
    """One open task: who holds it (or is proposed for it), its hours and its layers."""

    task_id: int
    engagement_id: int
    holder_id: int | None  # who holds it, or whom a manager is asked to confirm
    status: str
    proposed: bool  # awaiting a manager's confirmation of a requested staffer
    due_date: date
    engagement_due: date
    hours: float  # (estimate x effort - logged) x weight: the ledger's committed hours
    has_estimate: bool
    waiting_on_documents: bool
    statutory: date | None

    @property
    def work(self) -> OpenWork:
        return OpenWork(task_id=self.task_id, due_date=self.due_date, hours=self.hours)

    @property
    def kind(self) -> str:
        """Where the task stands, in words: solid work or one of the tentative kinds."""
        if self.proposed:
            return "awaiting confirmation"
        if self.status == TaskStatus.ASSIGNED:
            return "awaiting acceptance"
        if self.status == TaskStatus.UNASSIGNED:
            return "not assigned"
        return "accepted" if self.status == TaskStatus.ACCEPTED else "in progress"

    @property
    def tentative(self) -> bool:
        return self.proposed or self.status == TaskStatus.ASSIGNED

    @property
    def deadline(self) -> date:
        """The date the work answers to: the statutory date where the work type has one,
        else the engagement's due date."""
        return self.statutory or self.engagement_due

    @property
    def deadline_kind(self) -> str:
        return STATUTORY if self.statutory else FIRM_DUE


def waiting_on_documents() -> Exists:
    """Whether the task's engagement still waits for a document from the client."""
    return Exists(
        RequiredDocument.objects.filter(
            engagement_id=OuterRef("engagement_id"), received_at__isnull=True
        )
    )


def no_proposals() -> Value:
    """The ``proposed`` expression where nothing awaits confirmation."""
    return Value(None, output_field=IntegerField())


def work_queryset(*, proposed: Any = None) -> QuerySet[Task]:
    """Tasks annotated with ``waiting_docs`` and ``proposed_to`` (the staff id a manager
    is asked to confirm, from ``proposed``: an expression over the outer task)."""
    return Task.objects.annotate(
        waiting_docs=waiting_on_documents(),
        proposed_to=proposed if proposed is not None else no_proposals(),
    ).order_by()


WORK_COLUMNS = (
    "pk",
    "engagement_id",
    "assignee_id",
    "status",
    "due_date",
    "engagement__due_date",
    "estimated_hours",
    "engagement__work_type__complexity_weight",
    "logged_hours",
    "engagement__period_end",
    "engagement__work_type__deadline_basis",
    "engagement__work_type__statutory_month",
    "engagement__work_type__statutory_day",
    "engagement__work_type_id",
    "waiting_docs",
    "proposed_to",
)


def work_items(queryset: QuerySet[Task], *, today: date) -> list[WorkItem]:
    """``WorkItem``s of a ``work_queryset`` (one query, and one more when the effort
    factors are not cached for ``today``)."""
    rows = queryset.values_list(*WORK_COLUMNS)
    effort = effort_factors_cached(today=today)
    return [_item(row, effort) for row in rows]


def _item(row: Iterable[Any], effort: Mapping[int, Mapping[int, float]]) -> WorkItem:
    (
        pk,
        engagement_id,
        assignee_id,
        status,
        due,
        engagement_due,
        estimate,
        weight,
        logged,
        period_end,
        basis,
        month,
        day,
        work_type_id,
        waiting,
        proposed_to,
    ) = row
    proposed = status == TaskStatus.UNASSIGNED and proposed_to is not None
    holder_id = proposed_to if proposed else assignee_id
    statutory = None
    if basis == DeadlineBasis.STATUTORY_DATE and period_end and month and day:
        statutory = statutory_date(month=month, day=day, period_end=period_end)
    return WorkItem(
        task_id=pk,
        engagement_id=engagement_id,
        holder_id=holder_id,
        status=status,
        proposed=proposed,
        due_date=due,
        engagement_due=engagement_due,
        hours=remaining_weighted_hours(
            estimate, weight, logged, effort.get(holder_id, {}).get(work_type_id, 1.0)
        ),
        has_estimate=estimate is not None,
        waiting_on_documents=bool(waiting),
        statutory=statutory,
    )
