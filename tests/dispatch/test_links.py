"""The one-click links in the assignment email: GET asks, POST acts, and a bad,
old, stale or borrowed link changes nothing."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from dispatch.choices import DecisionOutcome, Trigger
from dispatch.lifecycle import task_hand_back
from dispatch.links import SALT, LinkError, action_token, read_action_token
from dispatch.models import DispatchDecision, ReassignmentRequest
from dispatch.services import task_assign_manual, task_dispatch
from engagements.choices import TaskStatus
from engagements.models import Task
from notifications.choices import NotificationTemplate
from notifications.models import Notification
from staff.models import SkillTag, StaffSkill
from tests.dispatch.builders import TODAY, bookkeeping_task

pytestmark = pytest.mark.django_db

WEEK = 7 * 24 * 3600


@pytest.fixture
def task(frozen_now, alice, bob, client_co) -> Task:
    """A bookkeeping task the rule gave Alice (Bob is just as qualified)."""
    for member in (alice, bob):
        StaffSkill.objects.create(
            staff_member=member, skill=SkillTag.objects.get(slug="bookkeeping"), level=3
        )
    task = bookkeeping_task(client_co)
    task_dispatch(task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED, today=TODAY)
    task.refresh_from_db()
    assert task.assignee == alice
    return task


def link(task: Task, action: str, staff_id: int | None = None) -> str:
    token = action_token(
        task_id=task.pk,
        staff_id=staff_id or task.assignee_id,
        action=action,
        assigned_at=task.assigned_at,
    )
    return reverse("dispatch:task-action", args=[token])


def unchanged(task: Task) -> bool:
    before = (task.assignee_id, task.status, task.accepted_at)
    task.refresh_from_db()
    return (task.assignee_id, task.status, task.accepted_at) == before


def test_accept_link_get_changes_nothing_and_asks_to_confirm(client, task):
    response = client.get(link(task, "accept"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Accept this assignment?" in body
    assert "Harbor Point Dental" in body and "Alice Associate" in body
    assert body.count("<button") == 1 and 'method="post"' in body
    assert unchanged(task) and task.status == TaskStatus.ASSIGNED


def test_reassign_link_get_changes_nothing_and_asks_for_a_reason(client, task):
    response = client.get(link(task, "reassign"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Request reassignment?" in body
    assert 'name="reason"' in body and body.count("<button") == 1
    assert unchanged(task)
    assert not ReassignmentRequest.objects.exists()


def test_accept_link_post_while_logged_out_accepts_and_says_done(client, task):
    response = client.post(link(task, "accept"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "You accepted the task." in body
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED and task.accepted_at is not None


def test_accept_link_post_by_the_signed_in_assignee_returns_to_the_queue(client, task, alice):
    client.force_login(alice.user)

    response = client.post(link(task, "accept"))

    assert response.status_code == 302
    assert response["Location"] == reverse("dispatch:queue")
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED


def test_accept_link_replayed_after_starting_changes_nothing(client, task):
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.IN_PROGRESS)
    task.refresh_from_db()

    response = client.post(link(task, "accept"))

    assert response.status_code == 400
    assert "nothing to accept" in response.content.decode()
    assert unchanged(task) and task.status == TaskStatus.IN_PROGRESS


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_link_is_refused_and_changes_nothing(client, task, method):
    url = link(task, "accept")
    token = url.split("/")[-2]
    i = len(token) // 3
    tampered = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]

    response = getattr(client, method)(reverse("dispatch:task-action", args=[tampered]))

    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    assert unchanged(task)


@pytest.mark.parametrize("method", ["get", "post"])
def test_expired_link_is_refused_and_changes_nothing(client, task, method, monkeypatch):
    signed_at = time.time() - WEEK - 60
    with monkeypatch.context() as past:
        past.setattr(time, "time", lambda: signed_at)
        url = link(task, "accept")

    response = getattr(client, method)(url)

    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()
    assert unchanged(task) and task.status == TaskStatus.ASSIGNED


def test_link_still_works_within_its_max_age(client, task, monkeypatch):
    signed_at = time.time() - WEEK + 3600
    with monkeypatch.context() as past:
        past.setattr(time, "time", lambda: signed_at)
        url = link(task, "accept")

    response = client.post(url)

    assert response.status_code == 200
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED


def test_link_max_age_comes_from_settings(client, task, settings):
    settings.ACTION_LINK_MAX_AGE_SECONDS = -1

    response = client.post(link(task, "accept"))

    assert response.status_code == 400
    assert unchanged(task)


@pytest.mark.parametrize("method", ["get", "post"])
def test_link_for_a_task_moved_to_someone_else_is_gone(client, task, alice, bob, manager, method):
    url = link(task, "accept", staff_id=alice.pk)
    task_assign_manual(task_id=task.pk, staff_id=bob.pk, reason="Alice is out", actor=manager.user)
    task.refresh_from_db()

    response = getattr(client, method)(url)

    assert response.status_code == 410
    assert "no longer assigned to you" in response.content.decode()
    assert unchanged(task) and task.assignee == bob and task.status == TaskStatus.ASSIGNED


@pytest.mark.parametrize("action", ["accept", "reassign"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_link_opened_while_signed_in_as_someone_else_is_refused(client, task, bob, action, method):
    client.force_login(bob.user)

    response = getattr(client, method)(link(task, action), {"reason": "Not mine"})

    assert response.status_code == 403
    assert "belongs to someone else" in response.content.decode()
    assert unchanged(task)
    assert not ReassignmentRequest.objects.exists()


def test_reassign_link_needs_a_reason_then_hands_the_task_to_another_skilled_person(
    client, task, alice, bob, queued
):
    url = link(task, "reassign")
    original = DispatchDecision.objects.get(task=task)

    missing = client.post(url, {"reason": "  "})
    still_alice = unchanged(task)
    with queued.capture(execute=True):
        done = client.post(url, {"reason": "I prepared this client's books for a rival firm"})

    assert missing.status_code == 400
    assert "Say why you need the task reassigned." in missing.content.decode()
    assert still_alice
    assert done.status_code == 200
    assert "sent for reassignment" in done.content.decode()
    task.refresh_from_db()
    assert task.assignee == bob and task.status == TaskStatus.ASSIGNED
    request = ReassignmentRequest.objects.get(task=task)
    assert (request.staff_member, request.decision) == (alice, original)
    latest = DispatchDecision.objects.filter(task=task).first()
    assert (latest.trigger, latest.outcome) == (Trigger.REASSIGNMENT, DecisionOutcome.ASSIGNED)
    bobs = Notification.objects.get(template=NotificationTemplate.TASK_ASSIGNED, staff_member=bob)
    assert bobs.subject_id == latest.pk  # Bob's email is on its way
    assert (bobs.pk, None) in queued.sends


def test_read_action_token_refuses_signed_nonsense(db):
    forged = [
        signing.dumps({"t": 1, "s": 2, "a": "delete"}, salt=SALT),
        signing.dumps({"t": "one", "s": 2, "a": "accept"}, salt=SALT),
        signing.dumps(["accept"], salt=SALT),
        signing.dumps({"t": 1, "s": 2, "a": "accept", "at": 1}, salt="another-salt"),
        # Made before links named their assignment: it cannot say which one it was for.
        signing.dumps({"t": 1, "s": 2, "a": "accept"}, salt=SALT),
    ]

    for token in forged:
        with pytest.raises(LinkError):
            read_action_token(token)
    with pytest.raises(ValueError):
        action_token(task_id=1, staff_id=2, action="delete", assigned_at=None)


@pytest.mark.parametrize("action", ["accept", "reassign"])
def test_a_link_stops_working_once_the_assignment_it_was_made_for_changed(
    client, task, alice, manager, queued, action, monkeypatch
):
    """Alice asks off; a manager gives the task back to her an hour later: the first
    email's links are for the first assignment, and only the new email's act on this one."""
    first_email = link(task, action)
    with queued.capture(execute=True):
        task_hand_back(task_id=task.pk, staff=alice, reason="On leave that week")
    an_hour_later = timezone.now() + timedelta(hours=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: an_hour_later)
    task_assign_manual(
        task_id=task.pk,
        staff_id=alice.pk,
        reason="Back early; knows the client",
        actor=manager.user,
    )
    task.refresh_from_db()
    assert task.assignee == alice and task.status == TaskStatus.ASSIGNED

    stale_get = client.get(first_email)
    stale_post = client.post(first_email, {"reason": "Still away"})

    for response in (stale_get, stale_post):
        assert response.status_code == 410
        assert "earlier assignment of this task" in response.content.decode()
    assert unchanged(task) and task.status == TaskStatus.ASSIGNED
    latest = Notification.objects.filter(
        template=NotificationTemplate.TASK_ASSIGNED, staff_member=alice
    ).order_by("-pk")[0]
    new_accept = re.search(r"Accept it:\s+\S+?(/act/\S+/)", latest.body).group(1)
    accepted = client.post(new_accept)
    assert accepted.status_code == 200
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
