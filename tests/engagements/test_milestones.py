"""The engagement state machine over every seeded template: what may move, what may not."""

from __future__ import annotations

from datetime import date
from importlib import import_module

import pytest
from django.urls import reverse

from dispatch.lifecycle import task_complete, task_start
from engagements.choices import TaskRole, TaskStatus
from engagements.milestones import TransitionRefused, engagement_transition, template_for
from engagements.models import (
    Engagement,
    EngagementMilestone,
    MilestoneSource,
    MilestoneTransition,
    ReviewException,
    WorkType,
)
from engagements.review import review_exception_raise, review_exception_resolve
from tests.factories import EngagementFactory, TaskFactory

pytestmark = pytest.mark.django_db

TEMPLATE_CODES = [
    "month_end_close",
    "monthly_bookkeeping",
    "1040",
    "1120",
    "1099",
    "audit",
    "cfo_advisory",
    "payroll",
]


def at_step(code: str, index: int) -> Engagement:
    """An engagement of work type ``code`` standing at step ``index`` (0 = new)."""
    work_type = WorkType.objects.get(code=code)
    steps = template_for(work_type)
    milestone = "new" if index == 0 else steps[index - 1].code
    return EngagementFactory(work_type=work_type, milestone=milestone, due_date=date(2027, 3, 1))


SEEDED = import_module("engagements.migrations.0005_seed_milestone_templates").TEMPLATES


def cases():
    # The seeded templates, read from their migration at collection time.
    for code in TEMPLATE_CODES:
        n = len(SEEDED[code])
        for current in range(n + 1):
            for target in range(1, n + 1):
                yield code, current, target


@pytest.mark.parametrize(("code", "current", "target"), list(cases()))
def test_transitions_follow_the_template(code, current, target, monkeypatch):
    monkeypatch.setattr("core.queue.publish", lambda *args, **kwargs: True)
    engagement = at_step(code, current)
    steps = template_for(engagement.work_type)
    to = steps[target - 1].code
    before = engagement.milestone

    for source, allowed in (
        (MilestoneSource.BUTTON, target == current + 1),
        (MilestoneSource.SYSTEM, target > current),
    ):
        engagement.refresh_from_db()
        Engagement.objects.filter(pk=engagement.pk).update(milestone=before)
        MilestoneTransition.objects.filter(engagement=engagement).delete()
        if allowed:
            engagement_transition(engagement_id=engagement.pk, to=to, source=source)
            engagement.refresh_from_db()
            landed = steps[target - 1]
            # A "close" step moves straight on to the step after it.
            expected = (
                steps[target].code if landed.on_enter == "close" and target < len(steps) else to
            )
            assert engagement.milestone == expected
            moves = MilestoneTransition.objects.filter(engagement=engagement).count()
            assert moves == [s.code for s in steps].index(expected) + 1 - current
        else:
            with pytest.raises(TransitionRefused):
                engagement_transition(engagement_id=engagement.pk, to=to, source=source)
            engagement.refresh_from_db()
            assert engagement.milestone == before
            assert not MilestoneTransition.objects.filter(engagement=engagement).exists()


def test_unknown_step_is_refused_with_the_list_of_steps():
    engagement = at_step("audit", 0)

    with pytest.raises(TransitionRefused, match="has no milestone 'documents_received'"):
        engagement_transition(engagement_id=engagement.pk, to="documents_received", source="system")


def test_documents_received_dispatches_the_preparer(
    django_capture_on_commit_callbacks, monkeypatch, dispatches
):
    sent = dispatches
    engagement = at_step("month_end_close", 1)
    preparer = TaskFactory(engagement=engagement, role=TaskRole.PREPARER)

    with django_capture_on_commit_callbacks(execute=True):
        engagement_transition(
            engagement_id=engagement.pk, to="documents_received", source="webhook"
        )

    assert sent == [(preparer.pk, "documents_received")]
    assert EngagementMilestone.objects.filter(
        engagement=engagement, milestone="documents_received"
    ).exists()


def test_bookkeeper_complete_dispatches_the_reviewer(
    django_capture_on_commit_callbacks, monkeypatch, dispatches
):
    sent = dispatches
    engagement = at_step("month_end_close", 3)
    reviewer = TaskFactory(engagement=engagement, role=TaskRole.REVIEWER)

    with django_capture_on_commit_callbacks(execute=True):
        engagement_transition(
            engagement_id=engagement.pk, to="preparation_complete", source="button"
        )

    assert sent == [(reviewer.pk, "prior_task_completed")]


def test_delivered_closes_the_engagement(monkeypatch):
    engagement = at_step("month_end_close", 7)  # invoiced

    engagement_transition(engagement_id=engagement.pk, to="delivered", source="button")

    engagement.refresh_from_db()
    assert engagement.milestone == "closed"
    assert list(
        MilestoneTransition.objects.filter(engagement=engagement).values_list(
            "to_milestone", "source"
        )
    ) == [("delivered", "button"), ("closed", "system")]


def test_open_exception_keeps_the_engagement_in_review(manager):
    engagement = at_step("month_end_close", 5)  # in review
    exception = review_exception_raise(
        engagement_id=engagement.pk, note="Bank rec off by $1,240.18", actor=manager.user
    )

    with pytest.raises(TransitionRefused, match="open review exceptions"):
        engagement_transition(engagement_id=engagement.pk, to="review_complete", source="system")
    review_exception_resolve(
        exception_id=exception.pk, resolution="Client sent the deposit slip", actor=manager.user
    )
    engagement_transition(engagement_id=engagement.pk, to="review_complete", source="system")

    engagement.refresh_from_db()
    assert engagement.milestone == "review_complete"


def test_exception_needs_review_and_a_note(manager):
    not_in_review = at_step("month_end_close", 2)
    in_review = at_step("month_end_close", 5)

    with pytest.raises(Exception, match="not in review"):
        review_exception_raise(engagement_id=not_in_review.pk, note="x", actor=manager.user)
    with pytest.raises(Exception, match="Describe the discrepancy"):
        review_exception_raise(engagement_id=in_review.pk, note="  ", actor=manager.user)
    assert not ReviewException.objects.exists()


def test_preparer_progress_moves_the_engagement(alice):
    engagement = at_step("audit", 1)  # kickoff signed
    task = TaskFactory(
        engagement=engagement, role=TaskRole.PREPARER, assignee=alice, status=TaskStatus.ACCEPTED
    )

    task_start(task_id=task.pk, staff=alice)
    engagement.refresh_from_db()
    assert engagement.milestone == "in_preparation"
    task_complete(task_id=task.pk, staff=alice)
    engagement.refresh_from_db()
    assert engagement.milestone == "preparation_complete"


def test_engagement_page_shows_progress_and_lets_a_manager_advance(client, manager):
    engagement = at_step("month_end_close", 7)
    client.force_login(manager.user)

    page = client.get(reverse("engagements:engagement-detail", args=[engagement.pk]))
    response = client.post(
        reverse("engagements:engagement-advance", args=[engagement.pk]), {"to": "delivered"}
    )
    skipped = client.post(
        reverse("engagements:engagement-advance", args=[at_step("month_end_close", 1).pk]),
        {"to": "closed"},
    )

    assert page.status_code == 200 and "Mark “Delivered”" in page.content.decode()
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.milestone == "closed"
    assert skipped.status_code == 302  # refused with a message, nothing moved


def test_staff_only_see_engagements_they_work_on(client, alice, bob):
    engagement = at_step("month_end_close", 5)
    TaskFactory(engagement=engagement, assignee=alice, status=TaskStatus.ACCEPTED)
    client.force_login(bob.user)
    refused = client.get(reverse("engagements:engagement-detail", args=[engagement.pk]))
    advance = client.post(
        reverse("engagements:engagement-advance", args=[engagement.pk]), {"to": "review_complete"}
    )
    client.force_login(alice.user)
    allowed = client.get(reverse("engagements:engagement-detail", args=[engagement.pk]))

    assert refused.status_code == 404 and advance.status_code == 404
    assert allowed.status_code == 200


def test_reviewer_flags_and_resolves_exception_from_the_page(
    client, alice, django_capture_on_commit_callbacks
):
    engagement = at_step("month_end_close", 5)
    TaskFactory(
        engagement=engagement, role=TaskRole.REVIEWER, assignee=alice, status=TaskStatus.IN_PROGRESS
    )
    client.force_login(alice.user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("engagements:exception-raise", args=[engagement.pk]),
            {"note": "Missing October deposit"},
        )
    exception = ReviewException.objects.get(engagement=engagement)
    client.post(
        reverse("engagements:exception-resolve", args=[engagement.pk, exception.pk]),
        {"resolution": "Deposit slip received"},
    )

    exception.refresh_from_db()
    assert exception.raised_by == alice.user and exception.resolved_at is not None
