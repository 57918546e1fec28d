"""The capacity pages: who may see what, HTMX fragments, the no-JS fallback, budgets."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from engagements.choices import TaskStatus
from engagements.models import Engagement, Task
from staff.models import SkillTag, StaffMember, StaffSkill, TimeOff
from tests.capacity.conftest import TODAY
from tests.factories import EngagementFactory

pytestmark = pytest.mark.django_db

HEATMAP = reverse("portal:capacity")
DAYS = reverse("portal:capacity-days")
CELL = reverse("portal:capacity-cell")


def _login(client, member: StaffMember):
    client.force_login(member.user)
    return client


def _cell(staff: StaffMember | None = None, start: str = "2026-12-07", span: str = "weeks"):
    query = f"start={start}&span={span}"
    return f"{CELL}?{query}&staff={staff.pk}" if staff else f"{CELL}?{query}"


def test_anonymous_is_sent_to_log_in(client, firm, frozen_today):
    for url in (HEATMAP, DAYS, _cell(firm.alice)):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_partner_sees_the_firm_with_words_beside_every_colour(client, firm, frozen_today):
    page = _login(client, firm.partner).get(HEATMAP)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Whole firm" in html
    for name in ("Alice Associate", "Bob Associate", "Mia Manager", "Pat Partner"):
        assert name in html
    # Bob's week: figures and band in words, tentative work apart.
    assert "35 / 32 h" in html and "109 % overbooked" in html
    assert "12 h tentative" in html
    assert "73 % near threshold" in html  # Alice
    assert "⚑ 1 deadline" in html  # the 1099s, January 25
    assert "▤ 5 h docs" in html  # unassigned work waiting on documents, week of Dec 28
    assert '<th scope="row"' in html and '<th scope="col"' in html
    assert "Legend" in html
    assert 'style="' not in html and "<script>" not in html and " onclick" not in html


def test_a_manager_sees_their_team_and_the_firm_on_request(client, firm, frozen_today):
    _login(client, firm.manager)

    team = client.get(HEATMAP).content.decode()
    whole = client.get(HEATMAP + "?team=firm").content.decode()

    pat = '<span class="hm-name">Pat Partner</span>'
    assert "Mia Manager&#x27;s team ·" in team and pat not in team
    assert pat in whole


def test_a_staff_member_sees_only_their_own_row(client, firm, frozen_today):
    html = _login(client, firm.alice).get(HEATMAP + "?team=firm").content.decode()

    assert '<span class="hm-name">Alice Associate</span>' in html
    assert "Bob Associate" not in html and "Not yet assigned" not in html
    assert 'name="team"' not in html  # no filters to widen it


def test_staff_are_refused_anyone_elses_cell_and_the_unassigned_work(client, firm, frozen_today):
    _login(client, firm.alice)

    assert client.get(_cell(firm.alice)).status_code == 200
    assert client.get(_cell(firm.bob)).status_code == 403
    assert client.get(_cell()).status_code == 403


def test_the_cell_lists_the_tasks_behind_it_as_a_fragment_for_htmx(client, firm, frozen_today):
    _login(client, firm.manager)

    fragment = client.get(_cell(firm.alice), HTTP_HX_REQUEST="true")
    page = client.get(_cell(firm.alice))

    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert "<html" not in html and 'id="cell-detail-card"' in html
    assert "A accepted" in html and "A awaiting acceptance" in html and "A 1099s" in html
    assert "Contractor list with W-9s" in html  # the document it waits for
    assert "Awaiting acceptance" in html and "tentative" in html
    assert "<html" in page.content.decode() and "Back to the heatmap" in page.content.decode()


def test_the_unassigned_cell_and_a_requested_staffer_awaiting_confirmation(
    client, firm, frozen_today
):
    _login(client, firm.partner)

    demand = client.get(_cell(start="2026-12-28"), HTTP_HX_REQUEST="true").content.decode()
    bob = client.get(_cell(firm.bob), HTTP_HX_REQUEST="true").content.decode()

    assert "U waiting" in demand and "W-2 forms" in demand and "Prior-year return" not in demand
    assert "B requested" in bob and "Awaiting confirmation" in bob


def test_a_past_week_or_a_nonsense_date_is_a_400_in_words(client, firm, frozen_today):
    _login(client, firm.manager)

    past = client.get(_cell(firm.alice, start="2026-11-23"))
    typo = client.get(_cell(firm.alice, start="3026-01-01"))
    span = client.get(_cell(firm.alice, span="year"))

    assert past.status_code == 400 and "That week has passed" in past.content.decode()
    assert typo.status_code == 400 and "Choose a date between" in typo.content.decode()
    assert span.status_code == 400


def test_an_unknown_person_is_a_404(client, firm, frozen_today):
    _login(client, firm.manager)
    assert client.get(f"{CELL}?staff=999999&start=2026-12-07&span=weeks").status_code == 404


def test_filters_swap_only_the_grid_for_htmx_and_bad_input_is_a_400(client, firm, frozen_today):
    _login(client, firm.partner)

    fragment = client.get(HEATMAP + "?role=manager", HTTP_HX_REQUEST="true")
    bad = client.get(HEATMAP + "?team=drop%20table&role=emperor")

    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html and 'id="heatmap"' in html
    assert "Mia Manager" in html and "Alice Associate" not in html
    assert bad.status_code == 400 and "Choose a team from the list" in bad.content.decode()


def test_the_day_view(client, firm, frozen_today):
    html = _login(client, firm.partner).get(DAYS).content.decode()

    assert "Mon" in html and "not working" in html  # Bob's Fridays
    assert "Dec 20" in html  # fourteen days


def _big_firm(size: int) -> None:
    """``size`` staff under five managers, each with four tasks of every kind and skills."""
    users = get_user_model().objects.bulk_create(
        [
            get_user_model()(username=f"s{i}", first_name="Staff", last_name=f"{i:03}")
            for i in range(size)
        ]
    )
    members = StaffMember.objects.bulk_create(
        [StaffMember(user=u, weekly_capacity_hours=Decimal("40")) for u in users]
    )
    leads = members[:5]
    for i, member in enumerate(members[5:]):
        member.manager = leads[i % 5]
    StaffMember.objects.bulk_update(members[5:], ["manager"])
    skills = list(SkillTag.objects.all()[:4])
    StaffSkill.objects.bulk_create(
        [StaffSkill(staff_member=m, skill=skills[i % 4]) for i, m in enumerate(members)]
    )
    TimeOff.objects.bulk_create(
        [
            TimeOff(
                staff_member=m,
                start_date=TODAY + dt.timedelta(days=7),
                end_date=TODAY + dt.timedelta(days=9),
            )
            for m in members[::3]
        ]
    )
    engagements = [EngagementFactory() for _ in range(10)]
    statuses = [
        TaskStatus.ASSIGNED,
        TaskStatus.ACCEPTED,
        TaskStatus.IN_PROGRESS,
        TaskStatus.ACCEPTED,
    ]
    Task.objects.bulk_create(
        [
            Task(
                engagement=engagements[(i + k) % 10],
                title=f"t{i}-{k}",
                assignee=m,
                status=statuses[k],
                estimated_hours=Decimal(3 + k),
                due_date=TODAY + dt.timedelta(days=3 + 9 * k + i % 5),
            )
            for i, m in enumerate(members)
            for k in range(4)
        ]
    )
    Task.objects.bulk_create(
        [
            Task(
                engagement=e,
                title=f"open-{j}",
                status=TaskStatus.UNASSIGNED,
                estimated_hours=Decimal(2),
                due_date=TODAY + dt.timedelta(days=j * 4),
            )
            for j, e in enumerate(engagements)
        ]
    )
    assert Engagement.objects.count() >= 10


@pytest.mark.parametrize("url", [HEATMAP, DAYS])
def test_a_hundred_staff_in_at_most_ten_queries(
    client, firm, frozen_today, django_assert_max_num_queries, url
):
    _big_firm(100)
    _login(client, firm.partner)
    client.get(url)  # warm: the session's last-login write and the policy cache

    started = time.perf_counter()
    with django_assert_max_num_queries(10):
        response = client.get(url)
    elapsed = time.perf_counter() - started

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        len(
            re.findall(
                r'<th scope="row" class="hm-person"><a class="hm-who" href="/capacity/hours/\d+/" title="Working hours"><span class="hm-name">',
                html,
            )
        )
        == 104
    )
    assert elapsed < 30  # a guard against a pathological render, not a benchmark


def test_the_budget_holds_with_the_policy_cache_cold(
    client, firm, frozen_today, django_assert_max_num_queries
):
    from django.core.cache import cache

    _big_firm(100)
    _login(client, firm.manager)
    client.get(HEATMAP)
    cache.clear()
    with django_assert_max_num_queries(10):
        assert client.get(HEATMAP + "?team=firm").status_code == 200


DEADLINES = reverse("portal:capacity-deadlines")
DEADLINE_DAY = reverse("portal:capacity-deadline-day")
METRICS = reverse("portal:capacity-metrics")


@pytest.mark.parametrize("url", [DEADLINES, f"{DEADLINE_DAY}?day=2027-01-25", METRICS])
def test_deadlines_and_metrics_are_for_managers_and_partners(client, firm, frozen_today, url):
    assert client.get(url).status_code == 302  # anonymous: log in
    assert _login(client, firm.alice).get(url).status_code == 403
    assert _login(client, firm.manager).get(url).status_code == 200
    assert _login(client, firm.partner).get(url).status_code == 200


def test_the_deadline_page_draws_a_chart_with_its_table(client, firm, frozen_today):
    html = _login(client, firm.partner).get(DEADLINES).content.decode()

    assert "<svg" in html and 'role="img"' in html and "<title" in html
    assert "Mon, Jan 25" in html and "statutory" in html  # Alice's 1099s
    assert "Alice Associate 1" in html
    assert 'style="' not in html and "<script>" not in html


def test_the_deadline_date_is_a_fragment_for_htmx_and_a_page_without(client, firm, frozen_today):
    _login(client, firm.partner)

    fragment = client.get(f"{DEADLINE_DAY}?day=2027-01-25", HTTP_HX_REQUEST="true")
    page = client.get(f"{DEADLINE_DAY}?day=2027-01-25")
    bad = client.get(f"{DEADLINE_DAY}?day=tomorrow")

    assert "<html" not in fragment.content.decode() and "A 1099s" in fragment.content.decode()
    assert "Back to the deadline distribution" in page.content.decode()
    assert bad.status_code == 400


def test_the_metrics_page_in_words_and_charts(client, firm, frozen_today):
    response = _login(client, firm.manager).get(METRICS + "?weeks=4")
    html = response.content.decode()

    assert response.status_code == 200
    assert "This week, as of Monday morning Dec 7" in html
    assert html.count('<figure class="chart weekly">') == 5
    assert "No figures in these weeks." in html  # nothing completed yet: said, not drawn
    assert "Week by week" in html and "By work type" in html
    assert 'style="' not in html and "<script>" not in html
    assert _login(client, firm.manager).get(METRICS + "?weeks=1000").status_code == 400


@pytest.mark.parametrize("url", [DEADLINES, METRICS])
def test_deadlines_and_metrics_in_constant_queries(
    client, firm, frozen_today, django_assert_max_num_queries, url
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _login(client, firm.partner)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    _big_firm(100)
    with django_assert_max_num_queries(len(small)):
        assert client.get(url).status_code == 200
