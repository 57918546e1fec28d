from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from decimal import Decimal

import pytest
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notification_send
from staff.choices import Role, Seniority
from staff.models import SkillTag, StaffSkill
from tests.conftest import Broker
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
    """Stands in for Celery: what the code under test published; runs the sends on request."""

    capture: Callable[..., AbstractContextManager[object]]
    broker: Broker
    _sent: int = 0

    @property
    def sends(self) -> list[tuple[object, float | None]]:
        return self.broker.sends

    @property
    def dispatches(self) -> list[tuple[object, ...]]:
        return self.broker.dispatches

    def send(self) -> dict[int, str]:
        """Run every send published since the last call (countdowns elapse at once)."""
        pending = self.sends[self._sent :]
        self._sent = len(self.sends)
        # Countdowns elapse at once: what was due later is due now.
        Notification.objects.filter(
            pk__in=[nid for nid, _ in pending], send_after__gt=timezone.now()
        ).update(send_after=timezone.now())
        with self.capture(execute=True):
            return {
                nid: notification_send(notification_id=nid)  # type: ignore[arg-type]
                for nid, _ in pending
            }


@pytest.fixture
def queued(broker, django_capture_on_commit_callbacks) -> Queued:
    return Queued(capture=django_capture_on_commit_callbacks, broker=broker)


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
