"""A hand-built firm for the capacity pages, frozen on Monday 2026-12-07 at the firm.

| person | week of Dec 7 | later |
| Alice (40 h, Mon-Fri, 1040-trained: 90 % from January) | 20 h accepted, 8 h awaiting acceptance, a 1099 engagement still waiting on a document (7 h weighted, spread to Jan 22) | all of Dec 14-18 off |
| Bob (32 h, Mon-Thu) | 20 h accepted, 30 h in progress over two weeks, 12 h awaiting a manager's confirmation | |
| Mia (manager, 40 h) | 34 h accepted | |
| nobody | 3 h overdue, one task without an estimate | 5 h due Dec 30 waiting on documents |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import timezone as dt_timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from dispatch.choices import DecisionOutcome, Trigger
from dispatch.models import DispatchDecision
from engagements.choices import TaskStatus
from engagements.models import Task, WorkType
from staff.models import SkillTag, StaffMember, StaffSkill
from tests.factories import EngagementFactory, RequiredDocumentFactory, TaskFactory, TimeOffFactory

TODAY = dt.date(2026, 12, 7)  # a Monday
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo(settings.TIME_ZONE))


@pytest.fixture
def frozen_today(monkeypatch) -> dt.date:
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW.astimezone(dt_timezone.utc))
    return TODAY


@dataclass
class Firm:
    partner: StaffMember
    manager: StaffMember
    alice: StaffMember
    bob: StaffMember
    tasks: dict[str, Task]


def _task(label: str, tasks: dict[str, Task], *, code: str = "1040", **kwargs: object) -> Task:
    engagement_kwargs = {k[12:]: v for k, v in kwargs.items() if k.startswith("engagement__")}
    task_kwargs = {k: v for k, v in kwargs.items() if not k.startswith("engagement__")}
    engagement = EngagementFactory(work_type=WorkType.objects.get(code=code), **engagement_kwargs)
    task = TaskFactory(engagement=engagement, title=label, **task_kwargs)
    tasks[label] = task
    return task


@pytest.fixture
def firm(partner, manager, alice, bob) -> Firm:
    tasks: dict[str, Task] = {}
    StaffSkill.objects.create(
        staff_member=alice, skill=SkillTag.objects.get(slug="individual_tax_certified")
    )
    TimeOffFactory(
        staff_member=alice, start_date=dt.date(2026, 12, 14), end_date=dt.date(2026, 12, 18)
    )
    bob.weekly_capacity_hours = Decimal("32")
    bob.working_days = [0, 1, 2, 3]
    bob.save()

    friday = dt.date(2026, 12, 11)
    _task(
        "A accepted",
        tasks,
        assignee=alice,
        status=TaskStatus.ACCEPTED,
        estimated_hours=Decimal("20"),
        due_date=friday,
    )
    _task(
        "A awaiting acceptance",
        tasks,
        assignee=alice,
        status=TaskStatus.ASSIGNED,
        estimated_hours=Decimal("8"),
        due_date=friday,
    )
    waiting = _task(
        "A 1099s",
        tasks,
        code="1099",
        assignee=alice,
        status=TaskStatus.ACCEPTED,
        estimated_hours=Decimal("10"),
        due_date=dt.date(2027, 1, 22),
        engagement__period_start=dt.date(2026, 1, 1),
        engagement__period_end=dt.date(2026, 12, 31),
        engagement__due_date=dt.date(2027, 1, 22),
    )
    RequiredDocumentFactory(engagement=waiting.engagement, name="Contractor list with W-9s")

    thursday = dt.date(2026, 12, 10)
    _task(
        "B accepted",
        tasks,
        assignee=bob,
        status=TaskStatus.ACCEPTED,
        estimated_hours=Decimal("20"),
        due_date=thursday,
    )
    _task(
        "B in progress",
        tasks,
        assignee=bob,
        status=TaskStatus.IN_PROGRESS,
        estimated_hours=Decimal("30"),
        due_date=dt.date(2026, 12, 17),
    )
    proposed = _task(
        "B requested",
        tasks,
        status=TaskStatus.UNASSIGNED,
        estimated_hours=Decimal("12"),
        due_date=thursday,
    )
    DispatchDecision.objects.create(
        task=proposed,
        trigger=Trigger.ENGAGEMENT_CREATED,
        outcome=DecisionOutcome.NEEDS_CONFIRMATION,
        assignee=bob,
    )

    _task(
        "M accepted",
        tasks,
        assignee=manager,
        status=TaskStatus.ACCEPTED,
        estimated_hours=Decimal("34"),
        due_date=friday,
    )

    _task(
        "U overdue",
        tasks,
        status=TaskStatus.UNASSIGNED,
        estimated_hours=Decimal("3"),
        due_date=dt.date(2026, 12, 1),
    )
    _task(
        "U no estimate",
        tasks,
        status=TaskStatus.UNASSIGNED,
        estimated_hours=None,
        due_date=dt.date(2026, 12, 9),
    )
    blocked = _task(
        "U waiting",
        tasks,
        status=TaskStatus.UNASSIGNED,
        estimated_hours=Decimal("5"),
        due_date=dt.date(2026, 12, 30),
    )
    RequiredDocumentFactory(engagement=blocked.engagement, name="W-2 forms")
    RequiredDocumentFactory(
        engagement=blocked.engagement, name="Prior-year return", received_at=NOW
    )
    return Firm(partner=partner, manager=manager, alice=alice, bob=bob, tasks=tasks)
