"""Shared fixtures: the personas every view test uses, and service detection.

Tests that need a real service (PostgreSQL, Redis, Chromium) ask for it through
``require_service``: locally they skip with the reason; with CI=true a missing
service fails the test, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os

import pytest

from staff.choices import Role, Seniority
from tests.factories import PASSWORD, StaffMemberFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(available: bool, reason: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


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
def dispatches(monkeypatch) -> list[tuple[int, str]]:
    """Dispatches queued on commit, as (task_id, trigger), instead of sent to a broker."""
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "dispatch.tasks.task_dispatch_task.delay",
        lambda task_id, trigger: sent.append((task_id, trigger)),
    )
    return sent
