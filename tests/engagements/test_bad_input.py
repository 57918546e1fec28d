"""Hostile input on the review and milestone forms: a message in words, never a 500,
nothing half written (on PostgreSQL a NUL byte reached the database and failed there)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from engagements.choices import TaskRole, TaskStatus
from engagements.models import ReviewException
from tests.engagements.test_milestones import at_step
from tests.factories import TaskFactory

HOSTILE = ["has a \x00 NUL byte", "x" * 100_000]


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def in_review(alice):
    engagement = at_step("month_end_close", 5)
    TaskFactory(
        engagement=engagement, role=TaskRole.REVIEWER, assignee=alice, status=TaskStatus.IN_PROGRESS
    )
    return engagement


@pytest.mark.parametrize("note", HOSTILE)
def test_a_hostile_exception_note_is_refused_in_words(client, alice, in_review, note):
    client.force_login(alice.user)

    response = client.post(
        reverse("engagements:exception-raise", args=[in_review.pk]), {"note": note}
    )

    assert response.status_code == 302
    assert any(m.startswith("Note: ") for m in said(response))
    assert not ReviewException.objects.filter(engagement=in_review).exists()


@pytest.mark.parametrize("resolution", HOSTILE)
def test_a_hostile_resolution_leaves_the_exception_open(client, alice, in_review, resolution):
    client.force_login(alice.user)
    client.post(
        reverse("engagements:exception-raise", args=[in_review.pk]), {"note": "Deposit missing"}
    )
    exception = ReviewException.objects.get(engagement=in_review)

    response = client.post(
        reverse("engagements:exception-resolve", args=[in_review.pk, exception.pk]),
        {"resolution": resolution},
    )

    exception.refresh_from_db()
    assert response.status_code == 302
    assert any(m.startswith("Resolution: ") for m in said(response))
    assert exception.resolved_at is None and exception.resolution == ""


@pytest.mark.parametrize("target", [*HOSTILE, ""])
def test_a_hostile_milestone_target_is_refused_in_words(client, manager, in_review, target):
    client.force_login(manager.user)
    before = in_review.milestone

    response = client.post(
        reverse("engagements:engagement-advance", args=[in_review.pk]), {"to": target}
    )

    in_review.refresh_from_db()
    assert response.status_code == 302
    assert any(m.startswith("Milestone: ") for m in said(response))
    assert in_review.milestone == before


# One range for every estimate in hours: the engagement form took 99,999.99 while the
# task's estimate form capped at 2,000.
ESTIMATES = [("0.25", True), ("2000", True), ("0", False), ("2000.01", False), ("99999.99", False)]


@pytest.mark.parametrize("hours,accepted", ESTIMATES)
def test_every_estimate_form_has_the_same_range(db, hours, accepted):
    from dispatch.forms import EstimateForm
    from engagements.admin import RecurringPlanForm
    from engagements.forms import EngagementCreateForm

    task_form = EstimateForm({"hours": hours})
    engagement_form = EngagementCreateForm({"estimated_hours": hours})
    plan_form = RecurringPlanForm({"estimated_hours": hours})

    assert task_form.is_valid() is accepted
    assert ("estimated_hours" not in engagement_form.errors) is accepted
    assert ("estimated_hours" not in plan_form.errors) is accepted
