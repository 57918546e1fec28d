"""Billing fixtures: work that reaches completion through the real services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from dispatch import lifecycle
from engagements.choices import TaskRole, TaskStatus
from engagements.models import Engagement, Task, WorkType
from engagements.services import engagement_create
from tests.billing.stripe_server import fake_stripe  # noqa: F401  (fixture: a stand-in Stripe)
from tests.factories import ClientFactory
from tests.notifications.receiver import receiver  # noqa: F401  (fixture: a Standard Webhooks receiver)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def broker_off(broker):
    """Work queued on commit is recorded, not published."""
    return broker


def open_engagement(code: str = "1120", *, client=None, hours: str = "8", **kwargs) -> Engagement:
    kwargs.setdefault("due_date", timezone.localdate() + timezone.timedelta(days=40))
    return engagement_create(
        client=client or ClientFactory(),
        work_type=WorkType.objects.get(code=code),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        estimated_hours=Decimal(hours),
        **kwargs,
    )


def hold(task: Task, member, status: str = TaskStatus.IN_PROGRESS) -> Task:
    """Give ``task`` to ``member`` as if dispatch had (the billing tests start from here)."""
    now = timezone.now()
    Task.objects.filter(pk=task.pk).update(
        assignee=member, status=status, assigned_at=now, accepted_at=now, started_at=now
    )
    task.refresh_from_db()
    return task


def complete(task: Task, member) -> Task:
    lifecycle.task_complete(task_id=task.pk, staff=member)
    task.refresh_from_db()
    return task


def preparer(engagement: Engagement) -> Task:
    return engagement.tasks.get(role=TaskRole.PREPARER)


def reviewer(engagement: Engagement) -> Task:
    return engagement.tasks.get(role=TaskRole.REVIEWER)
