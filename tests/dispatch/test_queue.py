"""My work (/queue/): only your own tasks, one-click actions that answer with the row
(HTMX) or a redirect, and handing work back."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dispatch.choices import DecisionOutcome, Trigger
from dispatch.models import DispatchDecision, ReassignmentRequest
from dispatch.services import task_dispatch
from engagements.choices import TaskStatus
from engagements.models import Task
from staff.models import SkillTag, StaffSkill
from tests.dispatch.builders import FROZEN_NOW, TODAY, bookkeeping_task
from tests.factories import ClientFactory, EngagementFactory, TaskFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("dispatch:queue")
HTMX = {"HTTP_HX_REQUEST": "true"}


def act(task: Task, action: str) -> str:
    return reverse("dispatch:queue-action", args=[task.pk, action])


def work_for(member, status: str = TaskStatus.ASSIGNED, **kwargs) -> Task:
    client = ClientFactory(name=kwargs.pop("client_name", None) or f"{member.display_name} Co")
    return TaskFactory(
        engagement=EngagementFactory(client=client),
        assignee=member,
        status=status,
        assigned_at=FROZEN_NOW,
        **kwargs,
    )


def unchanged(task: Task) -> bool:
    before = (task.assignee_id, task.status)
    task.refresh_from_db()
    return (task.assignee_id, task.status) == before


@pytest.fixture
def dispatched(frozen_now, alice, bob, client_co) -> Task:
    """A bookkeeping task the rule gave Alice; Bob is just as qualified."""
    for member in (alice, bob):
        StaffSkill.objects.create(
            staff_member=member, skill=SkillTag.objects.get(slug="bookkeeping"), level=3
        )
    task = bookkeeping_task(client_co)
    task_dispatch(task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED, today=TODAY)
    task.refresh_from_db()
    assert task.assignee == alice
    return task


def test_queue_lists_only_my_open_work(client, frozen_now, alice, bob):
    mine = work_for(alice, client_name="Acme Dental")
    started = work_for(alice, TaskStatus.IN_PROGRESS, client_name="Birch Bakery")
    work_for(alice, TaskStatus.COMPLETED, client_name="Done Deal", completed_at=FROZEN_NOW)
    work_for(bob, client_name="Bobs Burgers")
    client.force_login(alice.user)

    response = client.get(QUEUE)

    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="task-row-{mine.pk}"' in body and f'id="task-row-{started.pk}"' in body
    assert "Acme Dental" in body and "Birch Bakery" in body
    assert "Done Deal" not in body and "Bobs Burgers" not in body
    assert "<strong>1</strong> awaiting acceptance" in body
    assert "<strong>0</strong> accepted, not started" in body
    assert "<strong>1</strong> in progress" in body  # only started work is in progress


def test_queue_rows_offer_the_actions_their_status_allows(client, frozen_now, alice):
    waiting = work_for(alice)
    started = work_for(alice, TaskStatus.IN_PROGRESS)
    client.force_login(alice.user)

    body = client.get(QUEUE).content.decode()

    def row(task: Task) -> str:
        return body.split(f'id="task-row-{task.pk}"', 1)[1].split("</tr>", 1)[0]

    assert ">Accept</button>" in row(waiting) and ">Start</button>" in row(waiting)
    assert ">Request reassignment</button>" in row(waiting)
    assert 'name="reason"' in row(waiting)
    assert "Complete…" not in row(waiting)
    assert f'hx-get="{reverse("dispatch:queue-complete", args=[started.pk])}"' in row(started)
    assert ">Accept</button>" not in row(started) and ">Start</button>" not in row(started)
    assert ">Request reassignment</button>" not in row(started)
    assert f'hx-post="{act(waiting, "accept")}"' in row(waiting)


def test_queue_requires_sign_in(client):
    response = client.get(QUEUE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_queue_is_always_your_own_even_for_a_manager(client, frozen_now, manager, alice):
    own = work_for(manager, client_name="Managers Own Client")
    theirs = work_for(alice, client_name="Alices Client")
    client.force_login(manager.user)

    page = client.get(QUEUE, {"staff": alice.pk, "user": alice.user.pk})
    accept = client.post(act(theirs, "accept"), **HTMX)

    body = page.content.decode()
    assert "Managers Own Client" in body and f"task-row-{own.pk}" in body
    assert "Alices Client" not in body
    assert accept.status_code == 403
    assert unchanged(theirs)


def test_queue_htmx_get_returns_only_the_table(client, frozen_now, alice):
    work_for(alice, client_name="Acme Dental")
    client.force_login(alice.user)

    response = client.get(QUEUE, **HTMX)

    body = response.content.decode()
    assert 'id="queue-table"' in body and "Acme Dental" in body
    assert "<html" not in body and "<nav" not in body


@pytest.mark.parametrize(
    ("start_status", "action", "end_status", "note"),
    [
        (TaskStatus.ASSIGNED, "accept", TaskStatus.ACCEPTED, "Accepted."),
        (TaskStatus.ASSIGNED, "start", TaskStatus.IN_PROGRESS, "Started."),
        (TaskStatus.ACCEPTED, "start", TaskStatus.IN_PROGRESS, "Started."),
        (TaskStatus.IN_PROGRESS, "complete", TaskStatus.COMPLETED, "left your queue"),
    ],
)
def test_queue_action_with_htmx_returns_the_row_and_the_counts(
    client, frozen_now, alice, start_status, action, end_status, note
):
    task = work_for(alice, start_status)
    client.force_login(alice.user)

    # Complete is confirmed in the row first ("Yes, complete" posts the confirmation).
    data = {"confirm": "True"} if action == "complete" else {}
    response = client.post(act(task, action), data, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "<nav" not in body
    assert f'id="task-row-{task.pk}"' in body and note in body
    assert 'id="queue-counts" hx-swap-oob="true"' in body
    task.refresh_from_db()
    assert task.status == end_status


def test_queue_counts_follow_the_action(client, frozen_now, alice):
    task = work_for(alice)
    work_for(alice)
    client.force_login(alice.user)

    body = client.post(act(task, "accept"), **HTMX).content.decode()

    assert "<strong>1</strong> awaiting acceptance" in body
    assert "<strong>1</strong> accepted, not started" in body
    assert "<strong>0</strong> in progress" in body  # only started work is in progress


def test_queue_action_without_htmx_redirects_to_the_queue(client, frozen_now, alice):
    task = work_for(alice)
    client.force_login(alice.user)

    response = client.post(act(task, "accept"))
    page = client.get(QUEUE)

    assert response.status_code == 302 and response["Location"] == QUEUE
    assert "Accepted." in page.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED


def test_complete_before_accepting_is_refused_inline(client, frozen_now, alice):
    task = work_for(alice)
    client.force_login(alice.user)

    response = client.post(act(task, "complete"), **HTMX)

    assert response.status_code == 400
    assert "accept or start it before completing it." in response.content.decode()
    assert unchanged(task)


def test_reassignment_request_without_a_reason_shows_an_inline_error(client, dispatched, alice):
    client.force_login(alice.user)

    response = client.post(act(dispatched, "reassign"), {"reason": "   "}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in body and "Say why you need the task reassigned." in body
    assert f'id="task-row-{dispatched.pk}"' in body and "<html" not in body
    assert unchanged(dispatched)
    assert not ReassignmentRequest.objects.exists()


def test_reassignment_request_hands_the_task_to_someone_else_and_records_why(
    client, dispatched, alice, bob
):
    original = DispatchDecision.objects.get(task=dispatched)
    client.force_login(alice.user)

    response = client.post(
        act(dispatched, "reassign"), {"reason": "Too close to the client"}, **HTMX
    )
    alice_queue = client.get(QUEUE).content.decode()
    client.force_login(bob.user)
    bob_queue = client.get(QUEUE).content.decode()

    body = response.content.decode()
    assert response.status_code == 200
    assert "now with Bob Associate" in body and "task-row gone" in body
    dispatched.refresh_from_db()
    assert dispatched.assignee == bob and dispatched.status == TaskStatus.ASSIGNED
    feedback = ReassignmentRequest.objects.get()
    assert (feedback.staff_member, feedback.decision, feedback.reason) == (
        alice,
        original,
        "Too close to the client",
    )
    redispatch = DispatchDecision.objects.filter(task=dispatched).first()
    assert redispatch.trigger == Trigger.REASSIGNMENT
    assert redispatch.outcome == DecisionOutcome.ASSIGNED
    alice_row = next(row for row in redispatch.candidates if row["staff_id"] == alice.pk)
    assert alice_row["reason"] == "asked to be reassigned off this task"
    assert f"task-row-{dispatched.pk}" not in alice_queue
    assert f"task-row-{dispatched.pk}" in bob_queue


def test_the_manager_reads_why_someone_asked_off_on_the_task_page(
    client, dispatched, alice, bob, manager
):
    client.force_login(alice.user)
    client.post(act(dispatched, "reassign"), {"reason": "Too close to the client"}, **HTMX)

    client.force_login(manager.user)
    page = client.get(reverse("dispatch:task-detail", args=[dispatched.pk])).content.decode()

    assert "Too close to the client" in page
    assert alice.user.get_full_name() in page


@pytest.mark.parametrize("action", ["accept", "start", "complete", "reassign"])
@pytest.mark.parametrize("htmx", [True, False])
def test_acting_on_someone_elses_task_is_refused(client, frozen_now, alice, bob, action, htmx):
    status = TaskStatus.ACCEPTED if action == "complete" else TaskStatus.ASSIGNED
    task = work_for(alice, status)
    client.force_login(bob.user)

    response = client.post(act(task, action), {"reason": "Mine now"}, **(HTMX if htmx else {}))

    assert response.status_code == 403
    assert unchanged(task)
    assert not ReassignmentRequest.objects.exists()


def test_queue_page_query_count_does_not_grow_with_the_queue(
    client, frozen_now, alice, django_assert_max_num_queries
):
    for _ in range(3):
        work_for(alice)
    client.force_login(alice.user)
    with django_assert_max_num_queries(12) as small:
        first = client.get(QUEUE)
    for index in range(27):
        work_for(alice, TaskStatus.IN_PROGRESS if index % 2 else TaskStatus.ACCEPTED)
    with django_assert_max_num_queries(12) as large:
        second = client.get(QUEUE)

    assert first.content.decode().count('class="task-row ') == 3
    assert second.content.decode().count('class="task-row ') == 30
    assert len(large.captured_queries) == len(small.captured_queries)


def test_asking_off_again_after_a_manager_gave_it_back_is_answered_not_a_500(
    client, dispatched, alice, bob, manager
):
    from dispatch.services import task_assign_manual

    client.force_login(alice.user)
    client.post(act(dispatched, "reassign"), {"reason": "Too close to the client"}, **HTMX)
    task_assign_manual(
        task_id=dispatched.pk, staff_id=alice.pk, reason="Only Alice knows it", actor=manager.user
    )

    again = client.post(act(dispatched, "reassign"), {"reason": "Still conflicted"}, **HTMX)

    assert again.status_code == 200
    dispatched.refresh_from_db()
    assert dispatched.assignee != alice
    feedback = ReassignmentRequest.objects.get(task=dispatched, staff_member=alice)
    assert feedback.reason == "Still conflicted"


def test_a_stale_row_says_the_task_moved_and_refreshes_the_counts(
    client, dispatched, alice, bob, manager
):
    from dispatch.services import task_assign_manual

    client.force_login(alice.user)
    client.get(QUEUE)  # Alice's page shows the task ...
    task_assign_manual(  # ... then a manager moves it to Bob
        task_id=dispatched.pk, staff_id=bob.pk, reason="Bob knows the client", actor=manager.user
    )

    response = client.post(act(dispatched, "accept"), **HTMX)

    body = response.content.decode()
    assert response.status_code == 403
    assert "This task has moved since the page loaded" in body
    assert f'id="task-row-{dispatched.pk}"' in body
    assert "hx-swap-oob" in body  # the counts come with it
    assert "<html" not in body  # a row, not a whole error page inside the table


def test_complete_asks_in_the_row_first_and_keep_working_puts_it_back(client, frozen_now, alice):
    task = work_for(alice, TaskStatus.IN_PROGRESS)
    client.force_login(alice.user)
    url = reverse("dispatch:queue-complete", args=[task.pk])

    question = client.get(url, **HTMX).content.decode()
    kept = client.get(reverse("dispatch:queue-row", args=[task.pk]), **HTMX).content.decode()
    task.refresh_from_db()

    assert "Yes, complete" in question and "you cannot undo it here" in question
    assert f'hx-post="{act(task, "complete")}"' in question
    assert "<html" not in question  # only the row
    assert task.status == TaskStatus.IN_PROGRESS  # asking changes nothing
    assert "Yes, complete" not in kept and "Complete…" in kept


def test_complete_without_javascript_asks_on_a_page_then_completes(client, frozen_now, alice):
    task = work_for(alice, TaskStatus.IN_PROGRESS)
    client.force_login(alice.user)
    url = reverse("dispatch:queue-complete", args=[task.pk])

    page = client.get(url)
    bare = client.post(url)
    task.refresh_from_db()
    status_after_bare = task.status
    done = client.post(url, {"confirm": "True"})

    assert page.status_code == 200 and "Yes, complete" in page.content.decode()
    assert status_after_bare == TaskStatus.IN_PROGRESS
    assert bare.status_code == done.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.COMPLETED


def test_complete_question_is_only_for_the_assignee(client, frozen_now, alice, bob):
    task = work_for(alice, TaskStatus.IN_PROGRESS)
    client.force_login(bob.user)

    assert client.get(reverse("dispatch:queue-complete", args=[task.pk])).status_code == 404
    assert client.get(reverse("dispatch:queue-row", args=[task.pk]), **HTMX).status_code == 404
