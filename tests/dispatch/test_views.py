from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from dispatch.choices import Trigger
from dispatch.models import DispatchDecision
from dispatch.services import task_dispatch
from engagements.choices import TaskRole, TaskStatus
from engagements.models import Task, WorkType
from engagements.services import engagement_create
from staff.models import SkillTag, StaffSkill
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched_task(alice, bob, client_co):
    for member in (alice, bob):
        StaffSkill.objects.create(
            staff_member=member, skill=SkillTag.objects.get(slug="bookkeeping"), level=3
        )
    engagement = engagement_create(
        client=client_co,
        work_type=WorkType.objects.get(code="monthly_bookkeeping"),
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
    )
    task = engagement.tasks.get(role=TaskRole.PREPARER)
    task_dispatch(task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED, today=date(2026, 11, 23))
    task.refresh_from_db()
    return task


def test_assignee_sees_task_page_with_decision_log(client, dispatched_task):
    client.force_login(dispatched_task.assignee.user)

    response = client.get(reverse("dispatch:task-detail", args=[dispatched_task.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Decision log" in body
    assert "Your place in the ranking" in body and "(chosen) — you" in body
    assert "Your figures" in body and "Chosen" in body
    assert "Assign by hand" not in body


def test_other_staff_cannot_see_the_task(client, dispatched_task, alice, bob):
    other = bob if dispatched_task.assignee == alice else alice
    client.force_login(other.user)

    response = client.get(reverse("dispatch:task-detail", args=[dispatched_task.pk]))

    assert response.status_code == 404


def test_staff_cannot_assign_by_hand(client, dispatched_task, alice, bob):
    client.force_login(dispatched_task.assignee.user)
    other = bob if dispatched_task.assignee == alice else alice

    response = client.post(
        reverse("dispatch:task-assign", args=[dispatched_task.pk]),
        {"staff_member": other.pk, "reason": "swap"},
    )

    assert response.status_code == 403
    dispatched_task.refresh_from_db()
    assert dispatched_task.assignee != other


def test_manager_assigns_by_hand_with_reason(client, manager, dispatched_task, alice, bob):
    other = bob if dispatched_task.assignee == alice else alice
    client.force_login(manager.user)

    missing = client.post(
        reverse("dispatch:task-assign", args=[dispatched_task.pk]), {"staff_member": other.pk}
    )
    done = client.post(
        reverse("dispatch:task-assign", args=[dispatched_task.pk]),
        {"staff_member": other.pk, "reason": "Knows this client"},
    )

    assert missing.status_code == 400
    assert "This field is required" in missing.content.decode()
    assert done.status_code == 302
    dispatched_task.refresh_from_db()
    assert dispatched_task.assignee == other
    override = DispatchDecision.objects.filter(task=dispatched_task, is_override=True).get()
    assert override.override_reason == "Knows this client"
    assert override.actor == manager.user


def test_manager_supplies_missing_estimate(
    client, manager, client_co, django_capture_on_commit_callbacks, monkeypatch, dispatches
):
    task = Task.objects.create(
        engagement=engagement_create(
            client=client_co,
            work_type=WorkType.objects.get(code="audit"),
            due_date=date(2027, 2, 26),
        ),
        role=TaskRole.PREPARER,
        title="Fieldwork",
        due_date=date(2027, 2, 20),
        ready_at=timezone.now(),  # kickoff signed: the audit's work is ready
    )
    sent = dispatches
    client.force_login(manager.user)

    bad = client.post(reverse("dispatch:task-estimate", args=[task.pk]), {"hours": "-3"})
    with django_capture_on_commit_callbacks(execute=True):
        good = client.post(reverse("dispatch:task-estimate", args=[task.pk]), {"hours": "12.5"})

    assert bad.status_code == 400
    assert good.status_code == 302
    task.refresh_from_db()
    assert str(task.estimated_hours) == "12.50"
    assert sent == [(task.pk, "estimate_supplied")]
    assert task.status == TaskStatus.UNASSIGNED


def test_task_page_query_count_is_flat(
    client, manager, dispatched_task, django_assert_max_num_queries
):
    for _ in range(5):
        DispatchDecision.objects.create(
            task=dispatched_task, trigger="deadline_proximity", outcome="escalated", reasons=["x"]
        )
    client.force_login(manager.user)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("dispatch:task-detail", args=[dispatched_task.pk]))

    assert response.status_code == 200


def test_estimate_on_work_waiting_for_documents_is_kept_without_dispatching(
    client, manager, client_co, django_capture_on_commit_callbacks, dispatches
):
    with django_capture_on_commit_callbacks(execute=True):
        engagement = engagement_create(
            client=client_co,
            work_type=WorkType.objects.get(code="monthly_bookkeeping"),
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            due_date=date(2026, 12, 15),
        )
    task = engagement.tasks.get(role=TaskRole.PREPARER)
    client.force_login(manager.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dispatch:task-estimate", args=[task.pk]), {"hours": "4"})

    task.refresh_from_db()
    assert response.status_code == 302
    assert str(task.estimated_hours) == "4.00"
    assert dispatches == []  # the documents are still outstanding
    assert task.ready_at is None and task.dispatch_requested_at is None


def test_estimate_on_finished_work_is_refused(client, manager, alice):
    task = TaskFactory(
        assignee=alice, status=TaskStatus.COMPLETED, completed_at=timezone.now(), estimated_hours=3
    )
    client.force_login(manager.user)

    response = client.post(reverse("dispatch:task-estimate", args=[task.pk]), {"hours": "9"})

    task.refresh_from_db()
    assert response.status_code == 400
    assert "finished work keeps the estimate it had" in response.content.decode()
    assert task.estimated_hours == 3


def test_assignee_completes_task_but_others_cannot(client, alice, bob):
    task = TaskFactory(assignee=alice, status=TaskStatus.ACCEPTED)

    url = reverse("dispatch:task-complete", args=[task.pk])
    client.force_login(bob.user)
    refused = client.post(url, {"confirm": "True"})
    client.force_login(alice.user)
    question = client.get(url)
    unconfirmed = client.post(url)
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED  # asking, or a bare POST, completes nothing
    done = client.post(url, {"confirm": "True"})

    assert refused.status_code == 404  # not theirs: they cannot even see it
    assert question.status_code == 200
    assert "Yes, complete" in question.content.decode()
    assert "you cannot undo it here" in question.content.decode()
    assert unconfirmed.status_code == 400
    assert "Confirm that the work is done." in unconfirmed.content.decode()
    assert done.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED and task.completed_at is not None


def test_a_large_decision_page_lists_the_top_and_counts_the_rest(client, django_user_model):
    from dispatch.models import DispatchDecision
    from tests.factories import StaffMemberFactory, TaskFactory

    manager = StaffMemberFactory(role="manager", seniority=4)
    task = TaskFactory()
    DispatchDecision.objects.create(
        task=task,
        trigger="deadline_proximity",
        outcome="escalated",
        reasons=["3 qualified, none with room."],
        candidates=[],
        candidate_count=415,
        rejections=[["lacks skill tax", 412], ["over their threshold with this task", 3]],
    )
    client.force_login(manager.user)

    response = client.get(f"/tasks/{task.pk}/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "412 × lacks skill tax" in body
    assert "3 × over their threshold with this task" in body
