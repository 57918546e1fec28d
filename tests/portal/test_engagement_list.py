"""The home page's firm at a glance accounts for every engagement, and each count opens
the engagement list filtered to exactly those engagements."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.choices import TaskStatus
from engagements.models import WorkType
from tests.factories import ClientFactory, EngagementFactory, TaskFactory

pytestmark = pytest.mark.django_db

LIST = reverse("portal:engagement-list")
TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return TODAY if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)


def engagement(code: str, milestone: str, due=date(2026, 12, 10), name="Co"):
    return EngagementFactory(
        client=ClientFactory(name=name),
        work_type=WorkType.objects.get(code=code),
        milestone=milestone,
        due_date=due,
    )


@pytest.fixture
def firm():
    return {
        "new": engagement("1040", "new", name="Brand new"),
        "kickoff": engagement("audit", "kickoff_signed", name="Audit kickoff"),
        "booking": engagement("month_end_close", "in_preparation", name="Booking"),
        "preparing": engagement("1040", "in_preparation", name="Preparing"),
        "late": engagement("1120", "in_review", due=date(2026, 11, 2), name="Late review"),
        "invoiced": engagement("payroll", "invoiced", due=date(2026, 11, 2), name="Invoiced pay"),
        "closed": engagement("month_end_close", "closed", name="Closed close"),
    }


def clients_listed(response) -> set[str]:
    return {row.client_name for row in response.context["result"].rows}


def test_firm_at_a_glance_counts_every_engagement_by_its_label(client, manager, firm):
    client.force_login(manager.user)

    response = client.get(reverse("portal:home"))

    snapshot = response.context["firm"]
    by_label = dict(snapshot["milestones"])
    assert sum(by_label.values()) == snapshot["total"] == len(firm)
    assert by_label == {
        "New": 1,
        "Kickoff signed": 1,
        "In preparation": 1,
        "In bookkeeping": 1,
        "In review": 1,
        "Invoiced": 1,
        "Closed": 1,
    }
    states = {state: count for state, _, count in snapshot["states"]}
    assert states == {"open": 6, "overdue": 1, "unassigned": 0, "done": 1}


def test_every_count_on_the_home_page_links_to_the_list_of_exactly_those(client, manager, firm):
    TaskFactory(engagement=firm["booking"], status=TaskStatus.UNASSIGNED, ready_at=timezone.now())
    client.force_login(manager.user)
    home = client.get(reverse("portal:home")).content.decode()

    links = re.findall(r'<a href="(/engagements/[^"]*)"><strong>([\d,]+)</strong>', home)
    links += re.findall(r'<a href="(/engagements/\?milestone=[^"]*)">[^<]+</a></td><td>(\d+)', home)

    assert len(links) >= 5 + 7
    for href, count in links:
        listed = client.get(href.replace("&amp;", "&"))
        assert listed.status_code == 200, href
        assert listed.context["result"].total == int(count.replace(",", "")), href


def test_list_filters_by_label_across_work_types_and_by_state(client, manager, firm):
    client.force_login(manager.user)

    assert clients_listed(client.get(LIST, {"milestone": "In bookkeeping"})) == {"Booking"}
    assert clients_listed(client.get(LIST, {"milestone": "In preparation"})) == {"Preparing"}
    assert clients_listed(client.get(LIST, {"state": "overdue"})) == {"Late review"}
    assert clients_listed(client.get(LIST, {"state": "done"})) == {"Closed close"}
    assert clients_listed(client.get(LIST, {"q": "audit"})) == {"Audit kickoff"}


def test_list_shows_the_same_label_and_risk_as_the_dashboard(client, manager, firm):
    client.force_login(manager.user)

    body = client.get(LIST, {"q": "Late review"}).content.decode()

    assert "In review" in body
    assert "14 business days past the deadline" in body  # Nov 11 is a holiday


def test_staff_list_only_their_engagements(client, alice, firm):
    TaskFactory(engagement=firm["preparing"], assignee=alice, status=TaskStatus.ACCEPTED)
    client.force_login(alice.user)

    assert clients_listed(client.get(LIST)) == {"Preparing"}


def test_bad_filters_are_a_400(client, manager):
    client.force_login(manager.user)

    assert client.get(LIST, {"state": "sideways"}).status_code == 400
    assert client.get(LIST, {"page": "0"}).status_code == 400


def test_list_queries_do_not_grow(client, manager, alice, django_assert_max_num_queries):
    client.force_login(manager.user)

    def add(n: int) -> None:
        for index in range(n):
            e = engagement("month_end_close", "in_preparation", name=f"Co {index}")
            TaskFactory(engagement=e, assignee=alice, status=TaskStatus.ACCEPTED)

    add(3)
    # Warm: the capacity policy and the effort factors are cached for the day.
    client.get(LIST)
    with django_assert_max_num_queries(15) as small:
        client.get(LIST)
    add(20)
    with django_assert_max_num_queries(15) as large:
        client.get(LIST)

    assert len(large.captured_queries) == len(small.captured_queries)
