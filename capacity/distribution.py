"""Deadline distribution: for each upcoming deadline date, whose work falls on it.

The seeds' capacity layer asks "are all the June 15 deadlines assigned to the same
two people?". A task's deadline here is the date its engagement answers to: the
statutory date where the work type has one (1040s on April 15, 1099s on January 25),
else the engagement's due date (bookkeeping, payroll, advisory).

1. Read the open work of the people shown (held, and proposed to them for a
   manager's confirmation) and all the work nobody holds yet, whose deadline can
   fall between today and the horizon: one query (the engagement's due date never
   comes after its statutory date, so filtering on it keeps every candidate).
2. Group by deadline date, then by person; proposed work under the proposed person,
   marked tentative; unassigned work under "Not yet assigned".
3. Per date: tasks, hours, people, and the share the two busiest people hold; a date
   with at least ``CONCENTRATION_MIN_TASKS`` tasks of which two people hold
   ``CONCENTRATION_SHARE`` or more is flagged as concentrated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from capacity.heatmap import HeatmapFilters, People, Reach, heatmap_people
from capacity.work_items import (
    DEADLINE_KINDS,
    HELD_STATUSES,
    WorkItem,
    work_items,
    work_queryset,
)
from engagements.choices import TaskStatus
from engagements.models import Task

HORIZON_DAYS = (30, 60, 90, 180, 365)
DEFAULT_HORIZON_DAYS = 90
CONCENTRATION_MIN_TASKS = 4
CONCENTRATION_SHARE = 0.75
# People drawn in their own colour in the chart; the rest share one.
CHART_SERIES = 8


@dataclass(frozen=True)
class Holding:
    """One person's part of one deadline date (``staff_id`` None: nobody holds it yet)."""

    staff_id: int | None
    name: str
    tasks: int
    hours: float
    tentative: int  # awaiting acceptance or a manager's confirmation


@dataclass(frozen=True)
class DeadlineDay:
    day: date
    kinds: tuple[str, ...]  # statutory and/or firm due date, in words
    tasks: int
    hours: float
    holdings: tuple[Holding, ...]  # most tasks first; nobody's work last
    waiting_on_documents: int  # tasks whose engagement still waits on client documents

    @property
    def unassigned(self) -> int:
        return sum(h.tasks for h in self.holdings if h.staff_id is None)

    @property
    def people(self) -> int:
        return sum(1 for h in self.holdings if h.staff_id is not None)

    @property
    def top_two(self) -> tuple[Holding, ...]:
        return tuple(h for h in self.holdings if h.staff_id is not None)[:2]

    @property
    def top_two_share(self) -> float:
        """Of the tasks someone holds, the share the two busiest people hold."""
        held = self.tasks - self.unassigned
        return sum(h.tasks for h in self.top_two) / held if held else 0.0

    @property
    def top_two_percent(self) -> int:
        return round(self.top_two_share * 100)

    @property
    def concentrated(self) -> bool:
        held = self.tasks - self.unassigned
        return held >= CONCENTRATION_MIN_TASKS and self.top_two_share >= CONCENTRATION_SHARE


@dataclass(frozen=True)
class Distribution:
    today: date
    until: date
    days: tuple[DeadlineDay, ...]
    people: People
    ranking: tuple[tuple[int, str, int], ...]  # (staff id, name, tasks) most first

    @property
    def concentrated(self) -> tuple[DeadlineDay, ...]:
        return tuple(d for d in self.days if d.concentrated)

    @property
    def tasks(self) -> int:
        return sum(d.tasks for d in self.days)


def _items(
    people: People, *, today: date, until: date, proposed: Any, extra: Q | None = None
) -> list[WorkItem]:
    ids = [m.pk for m in people.members]
    mine = Q(status__in=HELD_STATUSES, assignee_id__in=ids)
    nobodys = Q(status=TaskStatus.UNASSIGNED)
    wanted = (mine | nobodys) & Q(engagement__due_date__lte=until)
    if extra is not None:
        wanted &= extra
    items = work_items(work_queryset(proposed=proposed).filter(wanted), today=today)
    shown = set(ids)
    return [
        item
        if item.holder_id is None or item.holder_id in shown
        # Proposed to someone not shown: still nobody's work here.
        else _nobodys(item)
        for item in items
        if today <= item.deadline <= until
    ]


def _nobodys(item: WorkItem) -> WorkItem:
    return replace(item, holder_id=None, proposed=False)


def deadline_distribution(
    *,
    reach: Reach,
    filters: HeatmapFilters,
    today: date,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    proposed: Any = None,
) -> Distribution:
    """The upcoming deadline dates with whose work falls on each (module docstring).

    Managers and partners only (PermissionDenied otherwise); the people shown follow
    the heatmap's scope: a manager's team by default, the firm on request.
    """
    if not reach.sees_others:
        raise PermissionDenied("The deadline distribution is for managers and partners.")
    people = heatmap_people(reach=reach, filters=filters)
    until = today + timedelta(days=horizon_days)
    items = _items(people, today=today, until=until, proposed=proposed)
    names = {m.pk: m.display_name for m in people.members}
    by_day: dict[date, list[WorkItem]] = defaultdict(list)
    totals: dict[int, int] = defaultdict(int)
    for item in items:
        by_day[item.deadline].append(item)
        if item.holder_id is not None:
            totals[item.holder_id] += 1
    days = []
    for day in sorted(by_day):
        bucket = by_day[day]
        groups: dict[int | None, list[WorkItem]] = defaultdict(list)
        for item in bucket:
            groups[item.holder_id].append(item)
        holdings = sorted(
            (
                Holding(
                    staff_id=holder,
                    name=names[holder] if holder is not None else "Not yet assigned",
                    tasks=len(group),
                    hours=sum(i.hours for i in group),
                    tentative=sum(1 for i in group if i.tentative),
                )
                for holder, group in groups.items()
            ),
            key=lambda h: (h.staff_id is None, -h.tasks, -h.hours, h.name),
        )
        days.append(
            DeadlineDay(
                day=day,
                kinds=tuple(
                    DEADLINE_KINDS[kind]
                    for kind in sorted({i.deadline_kind for i in bucket}, reverse=True)
                ),
                tasks=len(bucket),
                hours=sum(i.hours for i in bucket),
                holdings=tuple(holdings),
                waiting_on_documents=sum(1 for i in bucket if i.waiting_on_documents),
            )
        )
    ranking = tuple(
        sorted(((pk, names[pk], n) for pk, n in totals.items()), key=lambda r: (-r[2], r[1]))
    )
    return Distribution(today=today, until=until, days=tuple(days), people=people, ranking=ranking)


@dataclass(frozen=True)
class DayTask:
    item: WorkItem
    task: Task
    holder: str


def deadline_day_tasks(
    *,
    reach: Reach,
    filters: HeatmapFilters,
    day: date,
    today: date,
    proposed: Any = None,
) -> list[DayTask]:
    """The tasks whose deadline is ``day``, for the people shown and nobody (two queries
    besides the people's)."""
    if not reach.sees_others:
        raise PermissionDenied("The deadline distribution is for managers and partners.")
    people = heatmap_people(reach=reach, filters=filters)
    # The deadline is on or after the engagement's due date: no due date after ``day``.
    items = _items(people, today=min(today, day), until=day, proposed=proposed)
    items = [i for i in items if i.deadline == day]
    tasks = Task.objects.select_related(
        "engagement__client", "engagement__work_type", "assignee__user"
    ).in_bulk([i.task_id for i in items])
    names = {m.pk: m.display_name for m in people.members}
    rows = [
        DayTask(
            item=i,
            task=tasks[i.task_id],
            holder=names.get(i.holder_id, "Not yet assigned")
            if i.holder_id
            else "Not yet assigned",
        )
        for i in items
        if i.task_id in tasks
    ]
    return sorted(rows, key=lambda r: (r.holder == "Not yet assigned", r.holder, r.item.task_id))
