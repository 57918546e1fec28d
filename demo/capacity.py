"""The demo firm's capacity stories: a working pattern by day and estimates that learn.

Run after the firm, the morning and billing are built (``seed_demo``), so nothing the
morning decided changes; both go through the real services:

- the part-timer's 24 hours are three long days (Monday to Wednesday, 8 h each) rather
  than 4.8 h every weekday, and a senior works a busy season of four tens plus a Friday
  half day from mid-January to mid-April: the heatmap's day view and the person's
  working-hours page show them;
- the work type with the most completed tasks gets their time logged (the billing
  service's entries, on the day each was completed), each person at their own pace,
  so the estimates page shows a median against the default and a "use this".

Idempotent: a person who has a pattern keeps it, a task with logged time keeps it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from billing.services import time_entry_create
from capacity.estimates import LOOKBACK, MIN_SAMPLE
from engagements.choices import TaskStatus
from engagements.models import Task
from staff.forms import WorkingPatternForm
from staff.models import StaffMember, WorkingPattern
from staff.services import working_pattern_add

# Each person's pace on the learned work type: logged over estimated hours, by the
# order of their ids (the first is quick, most take longer than the default says).
PACES = (0.8, 1.25, 1.15, 1.3, 1.1, 1.2)


@dataclass
class CapacityResult:
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    learned: str = ""  # the work type whose estimate learns


def demo_capacity_build(*, today: date, seed: int = 42) -> CapacityResult:
    result = CapacityResult()
    with transaction.atomic():
        _patterns(today, result)
        _logged_time(today, random.Random(f"{seed}-estimates"), result)
    return result


def _pattern(member: StaffMember, data: dict[str, object], result: CapacityResult) -> None:
    form = WorkingPatternForm(data=data)
    if not form.is_valid():  # a firm's own edits since: leave them be
        return
    working_pattern_add(staff_member=member, form=form)
    result.created["working patterns"] += 1


def _week(*hours: float) -> dict[str, object]:
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return {f"{day}_hours": str(h) for day, h in zip(days, hours, strict=True)}


def _patterns(today: date, result: CapacityResult) -> None:
    people = list(StaffMember.objects.filter(active=True).order_by("pk"))
    patterned = set(WorkingPattern.objects.values_list("staff_member_id", flat=True))
    part_timer = next(
        (m for m in people if m.weekly_capacity_hours < 30 and len(m.working_days) == 5), None
    )
    if part_timer is not None and part_timer.pk not in patterned:
        _pattern(part_timer, {"name": "Three long days", **_week(8, 8, 8, 0, 0, 0, 0)}, result)
    senior = next((m for m in people if m.weekly_capacity_hours == 40 and m.seniority == 3), None)
    if senior is not None and senior.pk not in patterned:
        year = today.year + (1 if today.month > 4 else 0)
        _pattern(
            senior,
            {
                "name": "Busy season: four tens and a Friday half day",
                "starts_on": date(year, 1, 15).isoformat(),
                "ends_on": date(year, 4, 15).isoformat(),
                **_week(10, 10, 10, 10, 5, 0, 0),
            },
            result,
        )


def _quarter(hours: Decimal) -> Decimal:
    return (hours * 4).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 4


def _logged_time(today: date, rng: random.Random, result: CapacityResult) -> None:
    since = timezone.now() - LOOKBACK
    done = list(
        Task.objects.filter(
            status=TaskStatus.COMPLETED,
            completed_at__gte=since,
            completed_at__date__lte=today,
            assignee__isnull=False,
            estimated_hours__gt=0,
        )
        .select_related("engagement__client", "engagement__work_type", "assignee")
        .order_by("pk")
    )
    by_type: dict[int, list[Task]] = defaultdict(list)
    for task in done:
        by_type[task.engagement.work_type_id].append(task)
    if not by_type:
        return
    tasks = max(by_type.values(), key=lambda group: (len(group), -group[0].pk))
    if len(tasks) < MIN_SAMPLE:
        return
    result.learned = tasks[0].engagement.work_type.name
    people = sorted({task.assignee_id for task in tasks if task.assignee_id is not None})
    pace = {pk: PACES[n % len(PACES)] for n, pk in enumerate(people)}
    for task in tasks:
        if task.logged_hours or task.assignee is None or task.estimated_hours is None:
            continue
        ratio = (
            Decimal(str(pace[task.assignee.pk])) + Decimal(rng.choice((-10, -5, 0, 5, 10))) / 100
        )
        hours = max(Decimal("0.25"), _quarter(task.estimated_hours * ratio))
        assert task.completed_at is not None
        day = timezone.localtime(task.completed_at).date()
        while hours > 0:
            # A day's entry at most 8 h: longer work was logged over the days before.
            chunk = min(hours, Decimal("8"))
            time_entry_create(
                staff=task.assignee,
                client=task.engagement.client,
                task=task,
                day=day,
                hours=chunk,
                description="Logged against the task",
            )
            hours -= chunk
            day -= timedelta(days=1)
            result.created["time entries"] += 1


def demo_capacity_report(result: CapacityResult) -> list[str]:
    lines = [f"  {count} {label}" for label, count in sorted(result.created.items())]
    if result.learned:
        lines.append(f"  estimates learn from logged time on {result.learned}")
    return ["Capacity:", *lines] if lines else []
