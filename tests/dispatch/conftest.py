from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from decimal import Decimal

import pytest

from dispatch.notifications import (
    notification_send,
    notify_confirmation_needed,
    notify_escalation_opened,
    notify_task_assigned,
)
from staff.choices import Role, Seniority
from staff.models import SkillTag, StaffSkill
from tests.dispatch.builders import FROZEN_NOW
from tests.factories import ClientFactory, StaffMemberFactory, UserFactory

# Monday 2026-11-23: a plain week apart from Thanksgiving on Thursday.
TODAY_ISO = "2026-11-23"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs ~0.4 s a user; these tests sign in with force_login and never need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen_now(monkeypatch) -> datetime:
    """Freeze Django's clock (timezone.now, and so localdate and auto_now) at FROZEN_NOW.

    Views dispatch "as of today"; utilization is measured over the rest of the week,
    so the weekday the suite runs on must not change who has room.
    """
    monkeypatch.setattr("django.utils.timezone.now", lambda: FROZEN_NOW.astimezone(dt_timezone.utc))
    return FROZEN_NOW


@dataclass
class Queued:
    """Stands in for Celery: records what the code under test queued; runs it on request."""

    capture: Callable[..., AbstractContextManager[object]]
    sends: list[tuple[int, int | None]] = field(default_factory=list)
    assigned: list[int] = field(default_factory=list)
    confirmations: list[int] = field(default_factory=list)
    escalations: list[int] = field(default_factory=list)
    dispatches: list[tuple[int, str]] = field(default_factory=list)
    _sent: int = 0

    def notify(self) -> None:
        """Run the queued notify_* tasks, as a worker would; their sends queue on commit."""
        with self.capture(execute=True):
            for decision_id in self.assigned:
                notify_task_assigned(decision_id=decision_id)
            for decision_id in self.confirmations:
                notify_confirmation_needed(decision_id=decision_id)
            for escalation_id in self.escalations:
                notify_escalation_opened(escalation_id=escalation_id)
        # Cleared in place: the patched .delay methods hold these very lists.
        for ids in (self.assigned, self.confirmations, self.escalations):
            ids.clear()

    def send(self) -> dict[int, str]:
        """Run every send queued since the last call (countdowns elapse at once)."""
        pending = self.sends[self._sent :]
        self._sent = len(self.sends)
        return {nid: notification_send(notification_id=nid) for nid, _ in pending}


@pytest.fixture
def queued(monkeypatch, django_capture_on_commit_callbacks) -> Queued:
    record = Queued(capture=django_capture_on_commit_callbacks)
    monkeypatch.setattr(
        "dispatch.tasks.notification_send_task.apply_async",
        lambda args, countdown=None: record.sends.append((args[0], countdown)),
    )
    monkeypatch.setattr("dispatch.tasks.notify_task_assigned_task.delay", record.assigned.append)
    monkeypatch.setattr(
        "dispatch.tasks.notify_confirmation_needed_task.delay", record.confirmations.append
    )
    monkeypatch.setattr(
        "dispatch.tasks.notify_escalation_opened_task.delay", record.escalations.append
    )
    monkeypatch.setattr(
        "dispatch.tasks.task_dispatch_task.delay",
        lambda task_id, trigger: record.dispatches.append((task_id, trigger)),
    )
    return record


@pytest.fixture
def skilled(db):
    """Make a staff member holding the given skill slugs at a level."""

    def make(name: str, *slugs: str, level: int = 3, seniority: int = Seniority.ASSOCIATE, **kw):
        member = StaffMemberFactory(
            user=UserFactory(username=name, first_name=name.title(), last_name="Test"),
            seniority=seniority,
            role=kw.pop("role", Role.STAFF),
            **kw,
        )
        for slug in slugs:
            StaffSkill.objects.create(
                staff_member=member, skill=SkillTag.objects.get(slug=slug), level=level
            )
        return member

    return make


@pytest.fixture
def client_co(db):
    return ClientFactory(name="Harbor Point Dental")


def hours(value: str | int | float) -> Decimal:
    return Decimal(str(value))
