"""The weekly review (/time/) and the queue's timer: own entries only, fragments for
HTMX, redirects without it, errors next to the field, a fixed query budget."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import services
from billing.choices import TimeEntryStatus
from billing.models import RunningTimer, TimeEntry
from tests.billing.conftest import hold, open_engagement, preparer

pytestmark = pytest.mark.django_db

WEEK = reverse("billing:time-week")
HTMX = {"HTTP_HX_REQUEST": "true"}


def entry_for(member, hours: str = "1.5", day=None, client=None):
    client = client or open_engagement("1120").client
    return services.time_entry_create(
        staff=member, client=client, day=day or timezone.localdate(), hours=Decimal(hours)
    )


def test_week_shows_only_my_entries(client, alice, bob):
    mine = entry_for(alice, "1.5")
    entry_for(bob, "7.25")
    client.force_login(alice.user)
    response = client.get(WEEK)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="entry-row-{mine.pk}"' in body
    assert "7.25" not in body
    assert "Approve all 1 draft" in body


def test_week_page_query_budget_does_not_grow_with_entries(
    client, alice, django_assert_max_num_queries
):
    client.force_login(alice.user)
    engagement = open_engagement("1120")
    hold(preparer(engagement), alice)
    for _ in range(3):
        entry_for(alice, client=engagement.client)
    with django_assert_max_num_queries(12) as few:
        client.get(WEEK)
    for _ in range(20):
        entry_for(alice, client=engagement.client)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(WEEK)
    assert response.content.decode().count('class="entry-row draft"') == 23


def test_saving_a_draft_with_htmx_returns_its_row_and_the_totals(client, alice):
    entry = entry_for(alice)
    client.force_login(alice.user)
    url = reverse("billing:time-entry-save", args=[entry.pk])
    data = {"date": entry.date.isoformat(), "hours": "2.25", "description": "Call with CFO"}
    response = client.post(url, data, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="entry-row-{entry.pk}"')
    assert 'id="week-summary" hx-swap-oob="true"' in body
    assert "<html" not in body
    entry.refresh_from_db()
    assert entry.hours == Decimal("2.25") and entry.description == "Call with CFO"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hours", "25", "Enter between 0.1 and 24 hours."),
        ("hours", "0", "Enter between 0.1 and 24 hours."),
        ("hours", "abc", "Enter between 0.1 and 24 hours."),
        ("date", "3000-01-01", "Choose a date between"),
        ("date", "not a date", "Enter a date like"),
        ("description", "x" * 501, "at most 500 characters"),
        ("description", "nul\x00byte", "invisible NUL character"),
    ],
)
def test_bad_values_are_refused_next_to_the_field(client, alice, field, value, message):
    entry = entry_for(alice)
    client.force_login(alice.user)
    data = {"date": entry.date.isoformat(), "hours": "1", "description": "ok", field: value}
    response = client.post(reverse("billing:time-entry-save", args=[entry.pk]), data, **HTMX)
    assert response.status_code == 400
    assert message in response.content.decode()
    entry.refresh_from_db()
    assert entry.hours == Decimal("1.5") and entry.description == ""


def test_approve_saves_the_row_as_shown_then_approves(client, alice):
    entry = entry_for(alice)
    client.force_login(alice.user)
    data = {"date": entry.date.isoformat(), "hours": "3", "description": "Reviewed"}
    response = client.post(reverse("billing:time-entry-approve", args=[entry.pk]), data)
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.hours, entry.status) == (Decimal("3"), TimeEntryStatus.APPROVED)


def test_other_staff_cannot_touch_my_entry(client, alice, bob):
    entry = entry_for(alice)
    client.force_login(bob.user)
    data = {"date": entry.date.isoformat(), "hours": "9", "description": "x"}
    for name in ("billing:time-entry-save", "billing:time-entry-approve"):
        assert client.post(reverse(name, args=[entry.pk]), data).status_code == 403
    entry.refresh_from_db()
    assert entry.hours == Decimal("1.5") and entry.is_draft


def test_approve_all_with_htmx_returns_the_list(client, alice):
    entries = [entry_for(alice), entry_for(alice)]
    client.force_login(alice.user)
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    response = client.post(
        reverse("billing:time-week-approve"), {"week": monday.isoformat()}, **HTMX
    )
    assert response.status_code == 200
    assert 'id="entry-list"' in response.content.decode()
    assert "Approved 2 entries." in response.content.decode()
    assert set(
        TimeEntry.objects.filter(pk__in=[e.pk for e in entries]).values_list("status", flat=True)
    ) == {TimeEntryStatus.APPROVED}


def test_manual_entry_needs_an_engagement_or_client(client, alice):
    engagement = open_engagement("1120")
    hold(preparer(engagement), alice)
    client.force_login(alice.user)
    url = reverse("billing:time-entry-new")
    today = timezone.localdate().isoformat()
    response = client.post(url, {"date": today, "hours": "1"}, **HTMX)
    assert response.status_code == 400
    assert "Choose the engagement" in response.content.decode()
    response = client.post(
        url,
        {"date": today, "hours": "1.2", "engagement": engagement.pk, "description": "Email"},
        **HTMX,
    )
    assert response.status_code == 200
    entry = TimeEntry.objects.get(staff_member=alice)
    assert entry.engagement == engagement and entry.client == engagement.client
    # Someone else's engagement is not a choice.
    other = open_engagement("1120")
    response = client.post(url, {"date": today, "hours": "1", "engagement": other.pk}, **HTMX)
    assert response.status_code == 400


def test_anonymous_is_sent_to_login(client):
    assert client.get(WEEK).status_code == 302


def test_queue_rows_carry_the_timer_and_it_starts_and_stops(client, alice, broker):
    task = hold(preparer(open_engagement("1120")), alice)
    client.force_login(alice.user)
    page = client.get(reverse("dispatch:queue")).content.decode()
    assert f'id="task-timer-{task.pk}"' in page and "Start timer" in page
    response = client.post(reverse("billing:timer-start", args=[task.pk]), **HTMX)
    assert response.status_code == 200 and "Stop timer" in response.content.decode()
    assert RunningTimer.objects.filter(staff_member=alice, task=task).exists()
    assert "Stop timer" in client.get(reverse("dispatch:queue")).content.decode()
    response = client.post(reverse("billing:timer-stop"), **HTMX)
    assert "drafted for your weekly review" in response.content.decode()
    assert TimeEntry.objects.get(task=task).hours == Decimal("0.1")


def test_timer_on_someone_elses_task_is_refused(client, alice, bob, broker):
    task = hold(preparer(open_engagement("1120")), alice)
    client.force_login(bob.user)
    response = client.post(reverse("billing:timer-start", args=[task.pk]), **HTMX)
    assert response.status_code == 403
    assert "only tasks in your queue" in response.content.decode()
    assert client.post(reverse("billing:timer-start", args=[task.pk])).status_code == 403
    assert not RunningTimer.objects.exists()
