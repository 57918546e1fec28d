"""Writes for time: draft entries on completion, manual entries, the timer, the weekly
review's edits and approvals, and the logged hours capacity reads.

1. A task's completion drafts one entry for its assignee (``time_entry_draft_for_task``,
   called through ``engagements.hooks`` inside the completion's transaction; the
   unique constraint makes a second call store nothing).
2. Staff add entries by hand or with the timer on their queue; drafts are edited
   and approved on the weekly review; only their own drafts.
3. Every write that changes a task's time recomputes ``Task.logged_hours`` (what
   capacity subtracts from the estimate), in the same transaction.
4. Approving time for an engagement whose invoice is still a draft adds it to that
   draft (``billing.invoices``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.choices import TimeEntrySource, TimeEntryStatus
from billing.models import (
    MAX_ENTRY_HOURS,
    MIN_ENTRY_HOURS,
    RunningTimer,
    TimeEntry,
    TimeEntryDefault,
)
from billing.rates import rate_card_for
from clients.models import Client
from core.dates import firm_date_problem
from core.exceptions import ApplicationError, NotFound, NotPermitted
from engagements.choices import HELD_TASK_STATUSES
from engagements.models import Engagement, Task
from staff.models import StaffMember

TENTH = Decimal("0.1")


def clamp_hours(hours: Decimal) -> Decimal:
    """An entry's hours: at least 0.1, at most 24, in hundredths."""
    return min(MAX_ENTRY_HOURS, max(MIN_ENTRY_HOURS, hours.quantize(Decimal("0.01"))))


def _check_hours(hours: Decimal) -> None:
    if hours is None or not (MIN_ENTRY_HOURS <= hours <= MAX_ENTRY_HOURS):
        raise ApplicationError({"hours": "Enter between 0.1 and 24 hours."})


def _check_date(day: date) -> None:
    problem = firm_date_problem(day)
    if problem:
        raise ApplicationError({"date": problem})


def task_logged_hours_refresh(*, task_ids: Iterable[int]) -> None:
    """Recompute ``Task.logged_hours`` from the tasks' entries (draft and approved)."""
    ids = sorted({pk for pk in task_ids if pk})
    if not ids:
        return
    total = (
        TimeEntry.objects.filter(task_id=OuterRef("pk"))
        .order_by()
        .values("task_id")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    Task.objects.filter(pk__in=ids).update(
        logged_hours=Coalesce(
            Subquery(total, output_field=DecimalField(max_digits=8, decimal_places=2)),
            Value(Decimal("0")),
            output_field=DecimalField(max_digits=8, decimal_places=2),
        )
    )


def draft_hours_for(task: Task) -> Decimal | None:
    """The hours a completed task's draft starts with: the work type's default for the
    role (``TimeEntryDefault``), else the task's estimate, else the work type's."""
    engagement = task.engagement
    default = (
        TimeEntryDefault.objects.filter(work_type_id=engagement.work_type_id, role=task.role)
        .values_list("hours", flat=True)
        .first()
    )
    return default or task.estimated_hours or engagement.work_type.default_estimated_hours


def time_entry_draft_for_task(task: Task, at: datetime) -> TimeEntry | None:
    """Draft the assignee's entry for a task just completed; at most once per task.

    A timer running on the task stops first. Hours already recorded on the task
    (its timer, a manual entry) come off the draft; none is drafted when they
    already cover it. Call inside the
    completion's transaction (``engagements.hooks``).
    """
    if task.assignee_id is None:
        return None
    running = RunningTimer.objects.filter(staff_member_id=task.assignee_id, task=task).first()
    if running is not None:
        _stop(running, at)  # finishing the task stops its timer; that time counts first
    engagement = Engagement.objects.select_related("client", "work_type").get(pk=task.engagement_id)
    task.engagement = engagement
    hours = draft_hours_for(task)
    if hours is None:
        return None
    already = TimeEntry.objects.filter(task=task).aggregate(total=Sum("hours"))["total"] or 0
    remaining = hours - already
    if remaining <= 0:
        return None
    card = rate_card_for(engagement.client)
    try:
        with transaction.atomic():
            entry = TimeEntry.objects.create(
                staff_member_id=task.assignee_id,
                client=engagement.client,
                engagement=engagement,
                task=task,
                work_type=engagement.work_type,
                date=timezone.localdate(at),
                hours=clamp_hours(remaining),
                description=task.title
                or f"{engagement.work_type.name} ({task.get_role_display()})",
                source=TimeEntrySource.COMPLETION,
                internal_only=card.internal_only(engagement.work_type),
            )
    except IntegrityError:
        return None  # this task already has its draft (a replayed completion)
    task_logged_hours_refresh(task_ids=[task.pk])
    return entry


@transaction.atomic
def time_entry_create(
    *,
    staff: StaffMember,
    client: Client,
    day: date,
    hours: Decimal,
    description: str = "",
    engagement: Engagement | None = None,
    task: Task | None = None,
    source: str = TimeEntrySource.MANUAL,
) -> TimeEntry:
    """Record time by hand (or from the timer): a draft the person approves later."""
    _check_hours(hours)
    _check_date(day)
    if engagement is not None and engagement.client_id != client.pk:
        raise ApplicationError({"engagement": "That engagement is for another client."})
    if task is not None:
        engagement = task.engagement
        client = engagement.client
    work_type = engagement.work_type if engagement is not None else None
    entry = TimeEntry.objects.create(
        staff_member=staff,
        client=client,
        engagement=engagement,
        task=task,
        work_type=work_type,
        date=day,
        hours=hours,
        description=description.strip()[:500],
        source=source,
        internal_only=rate_card_for(client).internal_only(work_type),
    )
    if task is not None:
        task_logged_hours_refresh(task_ids=[task.pk])
    return entry


@dataclass(frozen=True)
class Imported:
    entry: TimeEntry
    outcome: str  # "created", "updated", "unchanged", "settled" (approved: left as it is)


@transaction.atomic
def time_entry_import(
    *,
    source: str,
    external_id: str,
    staff: StaffMember,
    client: Client,
    day: date,
    hours: Decimal,
    description: str = "",
    task: Task | None = None,
) -> Imported:
    """Time from the firm's time tracker, once per its id: a draft like a manual entry
    (capacity counts it the same way); a later version updates the draft; approved time
    is settled and left as it is."""
    _check_hours(hours)
    _check_date(day)
    engagement = task.engagement if task is not None else None
    if engagement is not None:
        client = engagement.client
    existing = (
        TimeEntry.objects.select_for_update().filter(source=source, external_id=external_id).first()
    )
    if existing is None:
        try:
            with transaction.atomic():
                entry = TimeEntry.objects.create(
                    staff_member=staff,
                    client=client,
                    engagement=engagement,
                    task=task,
                    work_type=engagement.work_type if engagement is not None else None,
                    date=day,
                    hours=hours,
                    description=description.strip()[:500],
                    source=source,
                    external_id=external_id,
                    internal_only=rate_card_for(client).internal_only(
                        engagement.work_type if engagement is not None else None
                    ),
                )
        except IntegrityError:  # pulled twice at once: the other pull stored it
            entry = TimeEntry.objects.get(source=source, external_id=external_id)
            return Imported(entry, "unchanged")
        task_logged_hours_refresh(task_ids=[task.pk] if task is not None else [])
        return Imported(entry, "created")
    if not existing.is_draft:
        return Imported(existing, "settled")
    new = (staff.pk, client.pk, task.pk if task else None, day, hours, description.strip()[:500])
    old = (
        existing.staff_member_id,
        existing.client_id,
        existing.task_id,
        existing.date,
        existing.hours,
        existing.description,
    )
    if new == old:
        return Imported(existing, "unchanged")
    old_task = existing.task_id
    existing.staff_member, existing.client, existing.task = staff, client, task
    existing.engagement = engagement
    existing.date, existing.hours, existing.description = day, hours, new[5]
    existing.save()
    task_logged_hours_refresh(task_ids=[old_task or 0, task.pk if task else 0])
    return Imported(existing, "updated")


@transaction.atomic
def time_entry_import_remove(*, source: str, external_id: str) -> str:
    """The time tracker deleted an entry: its draft goes and the task's logged hours drop
    with it; approved time is settled and left as it is. Returns "removed", "settled" or
    "absent" (never stored, or removed already)."""
    existing = (
        TimeEntry.objects.select_for_update().filter(source=source, external_id=external_id).first()
    )
    if existing is None:
        return "absent"
    if not existing.is_draft:
        return "settled"
    task_id = existing.task_id
    existing.delete()
    task_logged_hours_refresh(task_ids=[task_id or 0])
    return "removed"


def _own_entry(entry_id: int, staff: StaffMember) -> TimeEntry:
    entry = TimeEntry.objects.select_for_update().filter(pk=entry_id).first()
    if entry is None:
        raise NotFound("That time entry does not exist.")
    if entry.staff_member_id != staff.pk:
        raise NotPermitted("That time entry is someone else's.")
    return entry


@transaction.atomic
def time_entry_update(
    *, entry_id: int, staff: StaffMember, day: date, hours: Decimal, description: str
) -> TimeEntry:
    """Edit one of your own drafts (approved time is settled)."""
    _check_hours(hours)
    _check_date(day)
    entry = _own_entry(entry_id, staff)
    if not entry.is_draft:
        raise ApplicationError("This entry is approved; approved time cannot be edited.")
    entry.date = day
    entry.hours = hours
    entry.description = description.strip()[:500]
    entry.save(update_fields=["date", "hours", "description", "updated_at"])
    task_logged_hours_refresh(task_ids=[entry.task_id] if entry.task_id else [])
    return entry


def _approve(entries: list[TimeEntry], now: datetime) -> list[TimeEntry]:
    from billing.invoices import invoice_drafts_add_time  # invoices build on time

    ids = [e.pk for e in entries if e.is_draft]
    if not ids:
        return []
    TimeEntry.objects.filter(pk__in=ids, status=TimeEntryStatus.DRAFT).update(
        status=TimeEntryStatus.APPROVED, approved_at=now, updated_at=now
    )
    approved = list(TimeEntry.objects.filter(pk__in=ids).select_related("staff_member__user"))
    invoice_drafts_add_time(entries=approved)
    return approved


@transaction.atomic
def time_entry_approve(*, entry_id: int, staff: StaffMember) -> TimeEntry:
    """Approve one of your drafts for billing; approving it again changes nothing."""
    entry = _own_entry(entry_id, staff)
    if entry.is_draft:
        _approve([entry], timezone.now())
        entry.refresh_from_db()
    return entry


@transaction.atomic
def time_entries_approve_week(*, staff: StaffMember, week_start: date) -> int:
    """Approve all your drafts dated in the week starting ``week_start``; how many."""
    entries = list(
        TimeEntry.objects.select_for_update()
        .filter(
            staff_member=staff,
            status=TimeEntryStatus.DRAFT,
            date__gte=week_start,
            date__lt=week_start + timedelta(days=7),
        )
        .order_by("pk")
    )
    return len(_approve(entries, timezone.now()))


# --- The timer -----------------------------------------------------------------


@dataclass(frozen=True)
class TimerStopped:
    entry: TimeEntry
    task_id: int
    minutes: int


def _timer_hours(started_at: datetime, now: datetime) -> tuple[Decimal, int]:
    seconds = max(0.0, (now - started_at).total_seconds())
    minutes = int(seconds // 60)
    hours = (Decimal(seconds) / Decimal(3600)).quantize(TENTH, rounding=ROUND_CEILING)
    return clamp_hours(hours), minutes


def _stop(timer: RunningTimer, now: datetime) -> TimerStopped:
    hours, minutes = _timer_hours(timer.started_at, now)
    task = Task.objects.select_related("engagement__client", "engagement__work_type").get(
        pk=timer.task_id
    )
    started_local = timezone.localtime(timer.started_at)
    entry = time_entry_create(
        staff=timer.staff_member,
        client=task.engagement.client,
        day=started_local.date(),
        hours=hours,
        description=f"Timer from {started_local:%H:%M}: {task.title or task.engagement}",
        task=task,
        source=TimeEntrySource.TIMER,
    )
    timer.delete()
    return TimerStopped(entry=entry, task_id=task.pk, minutes=minutes)


@transaction.atomic
def timer_start(*, staff: StaffMember, task_id: int) -> TimerStopped | None:
    """Start timing a task in your queue. One timer per person: a timer running on
    another task stops first (its draft is returned); on this task, nothing changes."""
    StaffMember.objects.select_for_update().filter(pk=staff.pk).first()  # one at a time
    task = Task.objects.filter(pk=task_id).first()
    if task is None:
        raise NotFound("That task does not exist.")
    if task.assignee_id != staff.pk or task.status not in HELD_TASK_STATUSES:
        raise NotPermitted("You can time only tasks in your queue.")
    running = RunningTimer.objects.filter(staff_member=staff).first()
    if running is not None and running.task_id == task_id:
        return None
    stopped = _stop(running, timezone.now()) if running is not None else None
    RunningTimer.objects.create(staff_member=staff, task=task, started_at=timezone.now())
    return stopped


@transaction.atomic
def timer_stop(*, staff: StaffMember) -> TimerStopped | None:
    """Stop your running timer: its time becomes a draft entry (None: none was running)."""
    StaffMember.objects.select_for_update().filter(pk=staff.pk).first()
    running = RunningTimer.objects.filter(staff_member=staff).first()
    if running is None:
        return None
    running.staff_member = staff
    return _stop(running, timezone.now())
