"""One task lifecycle: every action x every status x every role gives the same result in
the service, the queue, the email link and the task page.

The expectations below are written out by hand (not read from engagements.lifecycle),
so a change to the rules table shows up here as a failing case.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.exceptions import ApplicationError, NotPermitted
from dispatch import lifecycle
from dispatch.links import action_url
from engagements.choices import TaskStatus
from engagements.models import Task
from tests.dispatch.builders import FROZEN_NOW
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

S = TaskStatus
ACTIONS = ("accept", "start", "complete", "hand_back")
ROLES = ("assignee", "other", "manager")
STATUSES = (S.UNASSIGNED, S.ASSIGNED, S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED, S.CANCELLED)

# (action, status) -> the status afterwards, for the assignee. Missing: refused.
# A result equal to the status is a no-op repeat (a double click), not an error.
ASSIGNEE = {
    ("accept", S.ASSIGNED): S.ACCEPTED,
    ("accept", S.ACCEPTED): S.ACCEPTED,
    ("start", S.ASSIGNED): S.IN_PROGRESS,
    ("start", S.ACCEPTED): S.IN_PROGRESS,
    ("start", S.IN_PROGRESS): S.IN_PROGRESS,
    ("complete", S.ACCEPTED): S.COMPLETED,
    ("complete", S.IN_PROGRESS): S.COMPLETED,
    ("complete", S.COMPLETED): S.COMPLETED,
    ("hand_back", S.ASSIGNED): S.UNASSIGNED,
    ("hand_back", S.ACCEPTED): S.UNASSIGNED,
}
# A manager completes someone's work from the task page; the rest is the assignee's.
MANAGER = {
    ("complete", S.ACCEPTED): S.COMPLETED,
    ("complete", S.IN_PROGRESS): S.COMPLETED,
    ("complete", S.COMPLETED): S.COMPLETED,
}

OK, REFUSED, FORBIDDEN = "ok", "refused", "forbidden"


def expected(action: str, status: str, role: str) -> tuple[str, str]:
    """(verdict, status afterwards)."""
    holds_it = status not in (S.UNASSIGNED, S.CANCELLED)  # only then is it alice's
    if role == "other" or (role == "assignee" and not holds_it):
        return FORBIDDEN, status
    if role == "manager" and action != "complete":
        return FORBIDDEN, status
    table = ASSIGNEE if role == "assignee" else MANAGER
    after = table.get((action, status))
    return (OK, after) if after is not None else (REFUSED, status)


def task_in(status: str, alice) -> Task:
    held = status not in (S.UNASSIGNED, S.CANCELLED)
    return TaskFactory(
        assignee=alice if held else None,
        status=status,
        assigned_at=FROZEN_NOW if held else None,
        accepted_at=FROZEN_NOW if status in (S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED) else None,
        completed_at=FROZEN_NOW if status == S.COMPLETED else None,
    )


def actor(role: str, alice, bob, manager):
    return {"assignee": alice, "other": bob, "manager": manager}[role]


CASES = [(a, s, r) for a in ACTIONS for s in STATUSES for r in ROLES]


@pytest.mark.parametrize(("action", "status", "role"), CASES)
def test_service(action, status, role, alice, bob, manager, frozen_now, broker):
    task = task_in(status, alice)
    person = actor(role, alice, bob, manager)
    verdict, after = expected(action, status, role)

    try:
        if action == "complete":
            lifecycle.task_complete(task_id=task.pk, staff=person, is_manager=role == "manager")
        elif action == "hand_back":
            lifecycle.task_hand_back(task_id=task.pk, staff=person, reason="Conflict")
        else:
            getattr(lifecycle, f"task_{action}")(task_id=task.pk, staff=person)
        outcome = OK
    except NotPermitted:
        outcome = FORBIDDEN
    except ApplicationError:
        outcome = REFUSED

    task.refresh_from_db()
    assert (outcome, task.status) == (verdict, after)


QUEUE_ACTION = {
    "accept": "accept",
    "start": "start",
    "complete": "complete",
    "hand_back": "reassign",
}
QUEUE_CODE = {OK: 200, REFUSED: 400, FORBIDDEN: 403}


@pytest.mark.parametrize(("action", "status", "role"), CASES)
def test_queue(action, status, role, client, alice, bob, manager, frozen_now, broker):
    task = task_in(status, alice)
    client.force_login(actor(role, alice, bob, manager).user)
    verdict, after = expected(action, status, role)
    if role == "manager":
        verdict, after = FORBIDDEN, status  # a manager's queue holds only their own work

    url = reverse("dispatch:queue-action", args=[task.pk, QUEUE_ACTION[action]])
    # Complete is confirmed in the row first: the post carries the confirmation.
    response = client.post(url, {"reason": "Conflict", "confirm": "True"}, HTTP_HX_REQUEST="true")

    task.refresh_from_db()
    assert (response.status_code, task.status) == (QUEUE_CODE[verdict], after)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ["accept", "hand_back"])
def test_email_link(action, status, client, alice, frozen_now, broker):
    """The link is alice's own: it works while the task is hers, refuses by status otherwise."""
    task = task_in(status, alice)
    verdict, after = expected(action, status, "assignee")
    link = action_url(
        task_id=task.pk,
        staff_id=alice.pk,
        action=QUEUE_ACTION[action],
        assigned_at=task.assigned_at,
    )
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    response = client.post(path, {"reason": "Conflict"})

    task.refresh_from_db()
    # Not hers (any more): the link is dead (410), whatever the action.
    code = {OK: 200, REFUSED: 400, FORBIDDEN: 410}[verdict]
    assert (response.status_code, task.status) == (code, after)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("role", ROLES)
def test_task_page_complete(role, status, client, alice, bob, manager, frozen_now, broker):
    task = task_in(status, alice)
    client.force_login(actor(role, alice, bob, manager).user)
    verdict, after = expected("complete", status, role)

    page = client.get(reverse("dispatch:task-detail", args=[task.pk]))
    response = client.post(reverse("dispatch:task-complete", args=[task.pk]), {"confirm": "True"})

    task.refresh_from_db()
    if role == "other" or (role == "assignee" and verdict == FORBIDDEN):
        # Not theirs to see: the page and the action are both missing for them.
        assert (page.status_code, response.status_code, task.status) == (404, 404, status)
        return
    button = reverse("dispatch:task-complete", args=[task.pk]) in page.content.decode()
    assert button == (verdict == OK and after != status)  # no button for a no-op
    if verdict == FORBIDDEN:
        assert (response.status_code, task.status) == (403, status)
    else:
        assert (response.status_code, task.status) == (302, after)
