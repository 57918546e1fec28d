"""Shared fixtures: the personas every view test uses, and service detection.

Tests that need a real service (PostgreSQL, Redis, Chromium) ask for it through
``require_service``: locally they skip with the reason; with CI=true a missing
service fails the test, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

from engagements.readiness import DISPATCH_TASK
from notifications.services import SEND_BATCH_TASK, SEND_TASK
from staff.choices import Role, Seniority
from tests.factories import PASSWORD, StaffMemberFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(available: bool, reason: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: a cached policy or lock from a test whose
    rows were rolled back must not leak into the next one."""
    from django.core.cache import cache

    from dispatch.roster import roster_forget
    from integrations.inbox import endpoints_forget_here

    cache.clear()
    endpoints_forget_here()  # this process's copy of the webhook endpoints
    roster_forget()  # its stamp rolls back with the test's rows
    yield


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def partner(db):
    return StaffMemberFactory(
        user=UserFactory(username="pat", first_name="Pat", last_name="Partner"),
        role=Role.PARTNER,
        seniority=Seniority.PARTNER,
    )


@pytest.fixture
def manager(db, partner):
    return StaffMemberFactory(
        user=UserFactory(username="mia", first_name="Mia", last_name="Manager"),
        role=Role.MANAGER,
        seniority=Seniority.MANAGER,
        manager=partner,
    )


@pytest.fixture
def alice(db, manager):
    return StaffMemberFactory(
        user=UserFactory(username="alice", first_name="Alice", last_name="Associate"),
        manager=manager,
    )


@pytest.fixture
def bob(db, manager):
    return StaffMemberFactory(
        user=UserFactory(username="bob", first_name="Bob", last_name="Associate"),
        manager=manager,
    )


@pytest.fixture
def firm_admin(db):
    return StaffMemberFactory(
        user=UserFactory(username="ada", first_name="Ada", last_name="Admin"),
        role=Role.ADMIN,
        seniority=Seniority.MANAGER,
    )


@pytest.fixture
def fast_password_hashing(settings):
    """Before any persona is made: PBKDF2 costs ~0.4 s a user, and these log in with
    force_login (or the one password every factory user has)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(fast_password_hashing, db, alice, bob, manager, partner, firm_admin, settings, tmp_path):
    """Every persona's objects, for the generated guards (see tests/world.py)."""
    from tests.world import build_world

    settings.MEDIA_ROOT = tmp_path / "media"  # the world's client file

    return build_world(
        alice=alice, bob=bob, manager=manager, partner=partner, firm_admin=firm_admin
    )


@dataclass
class Broker:
    """Stands in for Celery's broker: records what ``core.queue.publish`` was given."""

    messages: list[tuple[str, tuple[object, ...], float | None]] = field(default_factory=list)
    dispatches: list[tuple[object, ...]] = field(default_factory=list)  # (task_id, trigger)
    sends: list[tuple[object, float | None]] = field(default_factory=list)  # (id, countdown)
    down: bool = False  # publish fails, as with the broker unreachable

    def publish(self, task_name: str, *args: object, countdown: float | None = None) -> bool:
        if self.down:
            return False
        self.messages.append((task_name, args, countdown))
        if task_name == DISPATCH_TASK:
            self.dispatches.append(args)
        elif task_name == SEND_TASK:
            self.sends.append((args[0], countdown))
        elif task_name == SEND_BATCH_TASK:
            self.sends += [(notification_id, countdown) for notification_id in args[0]]
        return True

    def named(self, task_name: str) -> list[tuple[object, ...]]:
        return [args for name, args, _ in self.messages if name == task_name]


@pytest.fixture
def broker(monkeypatch) -> Broker:
    record = Broker()
    monkeypatch.setattr("core.queue.publish", record.publish)
    return record


@pytest.fixture
def dispatches(broker) -> list[tuple[int, str]]:
    """Dispatches published on commit, as (task_id, trigger), instead of sent to a broker."""
    return broker.dispatches
