"""Manager pages: escalations (and the four ways out), the team, and confirmations
of client-requested staff. Staff are refused everywhere."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dispatch.choices import DecisionOutcome, EscalationStatus, Trigger
from dispatch.models import DispatchDecision, Escalation
from dispatch.presenters import OVER as OVER_THRESHOLD
from dispatch.services import task_dispatch
from engagements.choices import TaskStatus
from engagements.models import Engagement, WorkType
from tests.dispatch.builders import DUE, FRIDAY, FROZEN_NOW, TODAY, bookkeeping_task, load_up
from tests.factories import TaskFactory, TimeOffFactory

pytestmark = pytest.mark.django_db

ESCALATIONS = reverse("dispatch:escalations")


def escalation_action(escalation: Escalation, action: str) -> str:
    return reverse("dispatch:escalation-action", args=[escalation.pk, action])


@pytest.fixture
def busy(skilled, manager):
    """The only qualified person: 27 h (21.6 weighted) of the 32 h left this week."""
    member = skilled("busy", "bookkeeping", manager=manager)
    load_up(member, "27")
    return member


@pytest.fixture
def escalated(frozen_now, busy, skilled, client_co) -> Escalation:
    """A 6 h (4.8 weighted) task due Friday: Busy would be at 82.5 %, over the 80 % threshold."""
    skilled("novice", "bookkeeping", level=1)  # holds the skill, below the level required
    task = bookkeeping_task(client_co, due_date=FRIDAY)
    decision = task_dispatch(task_id=task.pk, trigger=Trigger.DEADLINE_PROXIMITY, today=TODAY)
    assert decision.outcome == DecisionOutcome.ESCALATED
    return Escalation.objects.get(task=task)


@pytest.fixture
def awaiting(frozen_now, skilled, manager, client_co) -> DispatchDecision:
    """The client asked for Fav, who is full this week; Free has room."""
    favourite = skilled("fav", "bookkeeping", manager=manager)
    skilled("free", "bookkeeping", manager=manager)
    load_up(favourite, "40")
    task = bookkeeping_task(client_co, requested_staff=favourite)
    decision = task_dispatch(task_id=task.pk, trigger=Trigger.ENGAGEMENT_CREATED, today=TODAY)
    assert decision.outcome == DecisionOutcome.NEEDS_CONFIRMATION
    return decision


def still_open(escalation: Escalation) -> bool:
    task = escalation.task
    before = (task.assignee_id, task.status, task.due_date, task.threshold_override_percent)
    escalation.refresh_from_db()
    task.refresh_from_db()
    after = (task.assignee_id, task.status, task.due_date, task.threshold_override_percent)
    return escalation.status == EscalationStatus.OPEN and before == after


# --- Staff are refused ---------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["dispatch:escalations", "dispatch:team", "dispatch:confirmations"]
)
def test_manager_pages_refuse_staff(client, alice, name):
    client.force_login(alice.user)

    response = client.get(reverse(name))

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("assign", {"staff_id": "busy", "reason": "I can do it"}),
        ("threshold", {"threshold_percent": "150"}),
        ("deadline", {"due_date": "2026-12-31"}),
        ("informed", {}),
    ],
)
def test_staff_cannot_act_on_an_escalation(client, escalated, alice, busy, action, data):
    client.force_login(alice.user)
    if data.get("staff_id") == "busy":
        data = {**data, "staff_id": busy.pk}

    response = client.post(escalation_action(escalated, action), data)

    assert response.status_code == 403
    assert still_open(escalated)
    assert escalated.client_informed_at is None


@pytest.mark.parametrize("name", ["dispatch:decision-confirm", "dispatch:decision-decline"])
def test_staff_cannot_confirm_or_decline_a_requested_staffer(client, awaiting, alice, name):
    client.force_login(alice.user)

    response = client.post(reverse(name, args=[awaiting.pk]))

    assert response.status_code == 403
    awaiting.refresh_from_db()
    assert awaiting.awaiting_confirmation
    assert awaiting.task.status == TaskStatus.UNASSIGNED


# --- Escalations -----------------------------------------------------------------


def test_escalations_page_shows_the_conflict(client, manager, escalated, busy):
    client.force_login(manager.user)

    response = client.get(ESCALATIONS)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Harbor Point Dental" in body and "Monthly bookkeeping" in body
    # The conflict in one sentence by cause, not a "gap 0.0 h" beside "none with room".
    assert "Qualified people, all at their threshold" in body
    assert (
        "Everyone qualified would pass their threshold with this task: the least busy, "
        "Busy Test, would be at 82 % (threshold 80 %)." in body
    )
    assert "gap" not in body.lower()
    assert (
        f'<option value="{busy.pk}">Busy Test · 68 % — 21.6 of 32 h this week · '
        "10.4 h free before the due date</option>" in body
    )
    assert "Novice Test" not in body  # not qualified, so not offered


def test_escalation_assign_logs_an_override_and_resolves_it(client, manager, escalated, busy):
    client.force_login(manager.user)

    response = client.post(
        escalation_action(escalated, "assign"),
        {"staff_id": busy.pk, "reason": "Busy knows this client; Friday is fine"},
    )
    page = client.get(ESCALATIONS).content.decode()

    assert response.status_code == 302 and response["Location"] == ESCALATIONS
    escalated.refresh_from_db()
    assert escalated.status == EscalationStatus.RESOLVED and escalated.resolved_by == manager.user
    task = escalated.task
    task.refresh_from_db()
    assert task.assignee == busy and task.status == TaskStatus.ASSIGNED
    override = DispatchDecision.objects.filter(task=task).first()
    assert override.is_override and override.trigger == Trigger.MANUAL
    assert override.override_reason == "Busy knows this client; Friday is fine"
    assert override.actor == manager.user and override.over_threshold
    assert "Assigned to Busy Test; the escalation is resolved." in page
    assert "No open escalations." in page


def test_escalation_assign_needs_a_reason(client, manager, escalated, busy):
    client.force_login(manager.user)

    response = client.post(escalation_action(escalated, "assign"), {"staff_id": busy.pk})

    assert response.status_code == 400
    assert "Give a reason for assigning by hand." in response.content.decode()
    assert still_open(escalated)


def test_escalation_assign_refuses_someone_not_listed(client, manager, escalated, alice):
    client.force_login(manager.user)

    response = client.post(
        escalation_action(escalated, "assign"), {"staff_id": alice.pk, "reason": "She is free"}
    )

    assert response.status_code == 400
    assert "qualified people listed" in response.content.decode()
    assert still_open(escalated)


def test_escalation_already_resolved_cannot_be_assigned_again(
    client, manager, escalated, busy, skilled
):
    other = skilled("other", "bookkeeping")
    client.force_login(manager.user)
    client.post(escalation_action(escalated, "assign"), {"staff_id": busy.pk, "reason": "Fine"})

    stale = client.post(
        escalation_action(escalated, "assign"), {"staff_id": other.pk, "reason": "Old page"}
    )

    assert stale.status_code == 400
    assert "already resolved" in stale.content.decode()
    task = escalated.task
    task.refresh_from_db()
    assert task.assignee == busy
    assert DispatchDecision.objects.filter(task=task, is_override=True).count() == 1


def test_escalation_raised_threshold_assigns_once_it_leaves_room(client, manager, escalated, busy):
    client.force_login(manager.user)

    too_low = client.post(escalation_action(escalated, "threshold"), {"threshold_percent": "81"})
    task = escalated.task
    task.refresh_from_db()
    after_too_low = (task.threshold_override_percent, task.status)
    enough = client.post(escalation_action(escalated, "threshold"), {"threshold_percent": "90"})

    assert too_low.status_code == enough.status_code == 302
    assert after_too_low == (81, TaskStatus.UNASSIGNED)
    task.refresh_from_db()
    assert task.threshold_override_percent == 90
    assert task.assignee == busy and task.status == TaskStatus.ASSIGNED
    escalated.refresh_from_db()
    assert escalated.status == EscalationStatus.RESOLVED
    decision = DispatchDecision.objects.filter(task=task).first()
    assert decision.trigger == Trigger.ESCALATION_ACTION and decision.actor == manager.user


@pytest.mark.parametrize("value", ["", "0", "151", "lots"])
def test_escalation_threshold_must_be_a_sensible_percentage(client, manager, escalated, value):
    client.force_login(manager.user)

    response = client.post(escalation_action(escalated, "threshold"), {"threshold_percent": value})

    assert response.status_code == 400
    assert still_open(escalated)


def test_escalation_deadline_must_move_later(client, manager, escalated):
    client.force_login(manager.user)

    earlier = client.post(escalation_action(escalated, "deadline"), {"due_date": "2026-11-19"})
    same = client.post(escalation_action(escalated, "deadline"), {"due_date": "2026-11-20"})

    assert earlier.status_code == same.status_code == 400
    assert "The new deadline must be later than the current one." in earlier.content.decode()
    assert still_open(escalated)
    assert escalated.task.due_date == FRIDAY


def test_escalation_later_deadline_redispatches(client, manager, escalated, busy):
    client.force_login(manager.user)

    response = client.post(escalation_action(escalated, "deadline"), {"due_date": DUE.isoformat()})

    assert response.status_code == 302
    task = escalated.task
    task.refresh_from_db()
    assert task.due_date == DUE
    assert task.assignee == busy  # spread over three weeks, it fits under 80 %
    escalated.refresh_from_db()
    assert escalated.status == EscalationStatus.RESOLVED


def test_escalation_mark_client_informed(client, manager, escalated):
    client.force_login(manager.user)

    response = client.post(escalation_action(escalated, "informed"))
    page = client.get(ESCALATIONS).content.decode()

    assert response.status_code == 302
    escalated.refresh_from_db()
    assert escalated.client_informed_at == FROZEN_NOW
    assert escalated.client_informed_by == manager.user
    assert escalated.status == EscalationStatus.OPEN  # the work still needs someone
    assert "Client informed Nov 17" in page
    assert "Mark client informed" not in page


def test_escalations_page_query_count_does_not_grow(client, manager, django_assert_max_num_queries):
    def escalate(count: int) -> None:
        for _ in range(count):
            task = TaskFactory()
            decision = DispatchDecision.objects.create(
                task=task,
                trigger=Trigger.DEADLINE_PROXIMITY,
                outcome=DecisionOutcome.ESCALATED,
                reasons=["1 qualified, none with room."],
                candidates=[
                    {
                        "staff_id": manager.pk,
                        "name": "Mia Manager",
                        "qualified": True,
                        "utilization": 0.9,
                        "available_before_deadline": 2.0,
                    }
                ],
            )
            Escalation.objects.create(task=task, decision=decision, summary="x", gap_hours=4.0)

    client.force_login(manager.user)
    escalate(3)
    with django_assert_max_num_queries(12) as small:
        first = client.get(ESCALATIONS)
    escalate(27)
    with django_assert_max_num_queries(12) as large:
        second = client.get(ESCALATIONS)

    assert first.content.decode().count('class="card escalation"') == 3
    assert second.content.decode().count('class="card escalation"') == 30
    assert len(large.captured_queries) == len(small.captured_queries)


# --- Team ------------------------------------------------------------------------


def section(body: str, member) -> str:
    return body.split(f'id="member-{member.pk}"', 1)[1].split("</tr>", 1)[0]


def test_team_page_shows_each_reports_work_hours_and_pending(
    client, frozen_now, manager, alice, bob, skilled
):
    waiting = load_up(alice, "20", status=TaskStatus.ASSIGNED)  # 16 of 32 weighted hours
    started = load_up(alice, "10", status=TaskStatus.IN_PROGRESS)  # 8 more: 75 %
    done = TaskFactory(assignee=alice, status=TaskStatus.COMPLETED, completed_at=FROZEN_NOW)
    load_up(skilled("outsider", "bookkeeping"), "5")  # reports to nobody here
    client.force_login(manager.user)

    response = client.get(reverse("dispatch:team"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>My team</h1>" in body
    mine = section(body, alice)
    assert "<strong>75 %</strong> — 24 of 32 h" in mine
    assert "threshold 80 % · 8 h free" in mine
    assert "2 open tasks" in mine and "1 awaiting acceptance" in mine
    assert waiting.engagement.client.name in mine and started.engagement.client.name in mine
    assert done.engagement.client.name not in body
    assert "No open work." in section(body, bob) and "<strong>0 %</strong>" in section(body, bob)
    assert "Outsider Test" not in body


def test_team_page_shows_time_off_this_week_and_next(client, frozen_now, manager, alice, bob):
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    TimeOffFactory(
        staff_member=alice,
        start_date=monday + timedelta(days=8),
        end_date=monday + timedelta(days=9),
        reason="Vacation",
    )
    TimeOffFactory(
        staff_member=alice,
        start_date=monday + timedelta(days=21),
        end_date=monday + timedelta(days=21),
        reason="Too far ahead",
    )
    TimeOffFactory(
        staff_member=bob,
        start_date=monday + timedelta(days=2),
        end_date=monday + timedelta(days=2),
        hours_per_day=Decimal("4"),
        reason="Dentist",
    )
    client.force_login(manager.user)

    body = client.get(reverse("dispatch:team")).content.decode()

    tuesday = monday + timedelta(days=8)
    assert f"{tuesday:%a %b} {tuesday.day} – " in section(body, alice)
    assert ": Vacation" in section(body, alice)
    assert "Too far ahead" not in body
    assert "(4 h a day): Dentist" in section(body, bob)


def test_partners_see_the_whole_firm_and_can_narrow_to_a_team(
    client, frozen_now, partner, manager, alice, skilled
):
    outsider = skilled("outsider", "bookkeeping")
    client.force_login(partner.user)

    firm = client.get(reverse("dispatch:team")).content.decode()
    team = client.get(reverse("dispatch:team"), {"team": manager.pk}).content.decode()

    assert "<h1>The firm</h1>" in firm
    for person in (partner, manager, alice, outsider):
        assert f'id="member-{person.pk}"' in firm
    assert "reports to Mia Manager" in section(firm, alice)
    assert f'id="member-{alice.pk}"' in team and f'id="member-{outsider.pk}"' not in team


def test_managers_cannot_widen_their_team_by_the_url(client, frozen_now, manager, skilled):
    outsider = skilled("outsider", "bookkeeping")
    client.force_login(manager.user)

    body = client.get(reverse("dispatch:team"), {"team": outsider.pk}).content.decode()

    assert f'id="member-{outsider.pk}"' not in body


def test_team_page_query_count_does_not_grow(
    client, frozen_now, partner, manager, skilled, django_assert_max_num_queries
):
    def hire(count: int, start: int) -> None:
        for index in range(start, start + count):
            member = skilled(f"report{index}", "bookkeeping", manager=manager)
            load_up(member, "4", status=TaskStatus.ASSIGNED)
            TimeOffFactory(
                staff_member=member,
                start_date=timezone.localdate(),
                end_date=timezone.localdate(),
            )

    client.force_login(partner.user)
    hire(3, 0)
    client.get(reverse("dispatch:team"))  # the capacity policy is cached from here on
    with django_assert_max_num_queries(14) as small:
        client.get(reverse("dispatch:team"))
    hire(12, 3)
    with django_assert_max_num_queries(14) as large:
        response = client.get(reverse("dispatch:team"))

    assert response.content.decode().count('<tr id="member-') == 17
    assert len(large.captured_queries) == len(small.captured_queries)


# --- Confirmations of client-requested staff -------------------------------------


def test_confirmations_page_lists_the_requested_staffer_waiting(client, manager, awaiting):
    client.force_login(manager.user)

    response = client.get(reverse("dispatch:confirmations"))

    body = response.content.decode()
    assert response.status_code == 200
    row = body.split(f'id="confirmation-{awaiting.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Harbor Point Dental" in row and "Fav Test" in row
    assert "a manager must confirm" in row
    assert reverse("dispatch:decision-confirm", args=[awaiting.pk]) in row
    assert reverse("dispatch:decision-decline", args=[awaiting.pk]) in row


def test_confirm_assigns_the_requested_staffer(client, manager, awaiting):
    client.force_login(manager.user)

    response = client.post(reverse("dispatch:decision-confirm", args=[awaiting.pk]))
    page = client.get(reverse("dispatch:confirmations")).content.decode()

    assert response.status_code == 302
    task = awaiting.task
    task.refresh_from_db()
    assert task.assignee == awaiting.assignee and task.status == TaskStatus.ASSIGNED
    awaiting.refresh_from_db()
    assert awaiting.confirmed_by == manager.user and not awaiting.declined
    assert "Nothing waits for your confirmation." in page


def test_decline_dispatches_by_the_normal_rule_to_someone_else(client, manager, awaiting):
    client.force_login(manager.user)

    response = client.post(reverse("dispatch:decision-decline", args=[awaiting.pk]))
    page = client.get(reverse("dispatch:confirmations")).content.decode()

    assert response.status_code == 302
    assert response["Location"] == reverse("dispatch:confirmations")
    task = awaiting.task
    task.refresh_from_db()
    assert task.assignee.display_name == "Free Test"
    awaiting.refresh_from_db()
    assert awaiting.declined and awaiting.confirmed_by == manager.user
    rerun = DispatchDecision.objects.filter(task=task).first()
    assert (rerun.trigger, rerun.outcome) == (Trigger.CONFIRMATION, DecisionOutcome.ASSIGNED)
    assert "Declined; the task was dispatched by the normal rule." in page
    assert "Nothing waits for your confirmation." in page


def test_confirmations_page_query_count_does_not_grow(
    client, manager, alice, django_assert_max_num_queries
):
    def request_alice(count: int) -> None:
        for _ in range(count):
            DispatchDecision.objects.create(
                task=TaskFactory(),
                trigger=Trigger.ENGAGEMENT_CREATED,
                outcome=DecisionOutcome.NEEDS_CONFIRMATION,
                assignee=alice,
                reasons=["Client asked for Alice Associate; a manager must confirm."],
                requested_override=True,
            )

    client.force_login(manager.user)
    request_alice(3)
    with django_assert_max_num_queries(12) as small:
        first = client.get(reverse("dispatch:confirmations"))
    request_alice(27)
    with django_assert_max_num_queries(12) as large:
        second = client.get(reverse("dispatch:confirmations"))

    assert first.content.decode().count('id="confirmation-') == 3
    assert second.content.decode().count('id="confirmation-') == 30
    assert len(large.captured_queries) == len(small.captured_queries)


def test_confirmations_page_drops_work_placed_some_other_way(client, manager, awaiting, skilled):
    task = awaiting.task
    task.assignee = skilled("someone", "bookkeeping")
    task.status = TaskStatus.ASSIGNED
    task.save()
    client.force_login(manager.user)

    body = client.get(reverse("dispatch:confirmations")).content.decode()

    assert f"confirmation-{awaiting.pk}" not in body


@pytest.mark.parametrize(
    "data",
    [
        {"staff_id": "abc", "reason": "She is free"},
        {"staff_id": "", "reason": "She is free"},
        {"reason": "has a \x00 NUL byte"},
        {"reason": "x" * 100_000},
    ],
)
def test_escalation_assign_answers_hostile_input_in_words(client, manager, escalated, busy, data):
    client.force_login(manager.user)
    data = {"staff_id": busy.pk, **data}

    response = client.post(escalation_action(escalated, "assign"), data)

    assert response.status_code == 400
    card = response.content.decode().split(f'id="escalation-{escalated.pk}"', 1)[1]
    assert 'class="field-error"' in card  # in words, next to the field, in its card
    assert "This field is required" not in card
    assert still_open(escalated)


@pytest.mark.parametrize("percent", [50, 80])
def test_raising_the_threshold_never_lowers_it(client, manager, escalated, percent):
    client.force_login(manager.user)

    response = client.post(
        escalation_action(escalated, "threshold"), {"threshold_percent": percent}
    )

    assert response.status_code == 400
    assert "already held to 80 %" in response.content.decode()
    assert still_open(escalated)


def test_extending_preparation_moves_the_review_and_the_engagement_after_it(
    client, manager, escalated
):
    task = escalated.task
    review = TaskFactory(
        engagement=task.engagement, role="reviewer", due_date=date(2026, 11, 24)
    )  # due two business days after preparation, Friday Nov 20
    new_due = date(2026, 12, 18)  # a Friday
    client.force_login(manager.user)

    client.post(escalation_action(escalated, "deadline"), {"due_date": new_due.isoformat()})

    task.refresh_from_db()
    review.refresh_from_db()
    engagement = task.engagement
    engagement.refresh_from_db()
    assert task.due_date == new_due
    assert review.due_date == date(2026, 12, 22)  # two business days after preparation
    assert engagement.due_date >= review.due_date


# --- Sort, filter, bulk, HTMX ------------------------------------------------------


def made_escalation(client_name: str, due: date, *, qualified: bool) -> Escalation:
    """An escalation as the engine would store it: skills (nobody qualified) or
    capacity (everyone qualified over threshold)."""
    task = TaskFactory(engagement__client__name=client_name, due_date=due)
    row = {
        "staff_id": 999_999,
        "name": "Someone Else",
        "qualified": qualified,
        "kept": False,
        "utilization": 0.9,
        "utilization_after": 0.95,
        "threshold": 0.8,
        "available_before_deadline": 2.0,
        "rule": OVER_THRESHOLD if qualified else "lacks the skill",
        "reason": "over threshold" if qualified else "lacks the skill",
    }
    decision = DispatchDecision.objects.create(
        task=task,
        trigger=Trigger.DEADLINE_PROXIMITY,
        outcome=DecisionOutcome.ESCALATED,
        reasons=["Nobody fits."],
        candidates=[row],
    )
    return Escalation.objects.create(task=task, decision=decision, summary="x")


def cards(body: str) -> list[int]:
    return [
        int(part.split('"', 1)[0])
        for part in body.split('class="card escalation" id="escalation-')[1:]
    ]


def test_escalations_filter_by_reason_and_due_date(client, manager, frozen_now):
    skills = made_escalation("Zephyr Books", date(2026, 11, 30), qualified=False)
    capacity = made_escalation("Aster Dental", date(2026, 12, 15), qualified=True)
    client.force_login(manager.user)

    by_skills = client.get(ESCALATIONS, {"cause": "skills"}).content.decode()
    by_capacity = client.get(ESCALATIONS, {"cause": "capacity"}).content.decode()
    by_date = client.get(ESCALATIONS, {"due_by": "2026-12-01"}).content.decode()
    bad = client.get(ESCALATIONS, {"due_by": "1890-01-01"})

    assert cards(by_skills) == [skills.pk]
    assert cards(by_capacity) == [capacity.pk]
    assert cards(by_date) == [skills.pk]
    assert bad.status_code == 400
    assert 'class="field-error"' in bad.content.decode()


def test_escalations_filter_by_work_type(client, manager, frozen_now):
    payroll = made_escalation("Zephyr Books", date(2026, 11, 30), qualified=False)
    audit = made_escalation("Aster Dental", date(2026, 12, 15), qualified=True)
    work_type = WorkType.objects.get(code="payroll")
    Engagement.objects.filter(pk=payroll.task.engagement_id).update(work_type=work_type)
    client.force_login(manager.user)

    page = client.get(ESCALATIONS, {"work_type": work_type.pk}).content.decode()

    assert cards(page) == [payroll.pk]
    assert audit.task.engagement.work_type != work_type
    assert f'<option value="{work_type.pk}" selected>' in page


def test_escalations_sort_by_client_and_due_date(client, manager, frozen_now):
    later = made_escalation("Aster Dental", date(2026, 12, 15), qualified=True)
    sooner = made_escalation("Zephyr Books", date(2026, 11, 30), qualified=True)
    client.force_login(manager.user)

    assert cards(client.get(ESCALATIONS).content.decode()) == [sooner.pk, later.pk]
    by_client = client.get(ESCALATIONS, {"sort": "client"}).content.decode()
    assert cards(by_client) == [later.pk, sooner.pk]
    assert 'href="?sort=client" aria-current="true"' in by_client


def test_escalation_action_with_htmx_answers_with_the_card_and_the_count(
    client, manager, escalated, busy
):
    client.force_login(manager.user)

    refused = client.post(
        escalation_action(escalated, "threshold"),
        {"threshold_percent": "70"},
        HTTP_HX_REQUEST="true",
    )
    done = client.post(
        escalation_action(escalated, "threshold"),
        {"threshold_percent": "90"},
        HTTP_HX_REQUEST="true",
    )

    body = refused.content.decode()
    assert refused.status_code == 400 and "<html" not in body
    field = body.split(f'id="esc{escalated.pk}-threshold-threshold_percent"', 1)[1]
    assert "already held to 80 %" in field.split("</div>", 1)[0]  # next to the field
    answer = done.content.decode()
    assert done.status_code == 200 and "<html" not in answer
    assert "Re-dispatched at 90 %: assigned to Busy Test." in answer
    assert 'id="escalation-count" hx-swap-oob="true">0 open' in answer


def test_bulk_raise_threshold_resolves_each_ticked_escalation(client, manager, escalated, busy):
    client.force_login(manager.user)

    response = client.post(
        reverse("dispatch:escalation-bulk"),
        {"escalations": [escalated.pk], "action": "raise_threshold", "threshold_percent": "90"},
    )
    page = client.get(ESCALATIONS).content.decode()

    assert response.status_code == 302
    escalated.refresh_from_db()
    assert escalated.status == EscalationStatus.RESOLVED
    assert "Harbor Point Dental: assigned to Busy Test." in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "raise_threshold", "threshold_percent": "90"}, "Tick at least one escalation."),
        ({"action": "assign_best"}, "Give a reason: it is logged with each assignment."),
        ({"action": "raise_threshold"}, "Give the new threshold in percent, e.g. 95."),
    ],
)
def test_bulk_refuses_in_words(client, manager, escalated, data, message):
    client.force_login(manager.user)
    if data["action"] != "raise_threshold" or "threshold_percent" not in data:
        data = {**data, "escalations": [escalated.pk]}

    response = client.post(reverse("dispatch:escalation-bulk"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert still_open(escalated)
