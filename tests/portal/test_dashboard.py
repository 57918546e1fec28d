from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from engagements.choices import TaskRole, TaskStatus
from engagements.milestones import engagement_transition
from engagements.models import EngagementMilestone, ReviewException, WorkType
from tests.factories import ClientFactory, EngagementFactory, RequiredDocumentFactory, TaskFactory

pytestmark = pytest.mark.django_db

URL = reverse("portal:close-dashboard")
TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    """Today is TODAY; a moment's own date is still its date (delivery days count)."""
    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return TODAY if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)


def close_engagement(
    name: str, milestone: str = "in_preparation", due: date = date(2026, 12, 10), **kwargs
):
    return EngagementFactory(
        client=ClientFactory(name=name, **kwargs),
        work_type=WorkType.objects.get(code="month_end_close"),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        milestone=milestone,
        due_date=due,
    )


def board(client, **params):
    return client.get(URL, {"period": "2026-10", **params})


def test_staff_cannot_see_the_dashboard(client, alice):
    client.force_login(alice.user)

    assert board(client).status_code == 403


def test_rows_show_progress_owner_risk_exceptions_and_documents(client, manager, alice):
    late = close_engagement("Late Co", due=date(2026, 11, 18))
    busy = close_engagement("Busy Co", due=date(2026, 12, 10))
    TaskFactory(
        engagement=busy,
        assignee=alice,
        status=TaskStatus.IN_PROGRESS,
        estimated_hours=Decimal("90"),
        due_date=date(2026, 11, 25),
    )
    soon = close_engagement("Soon Co", due=date(2026, 11, 25))
    fine = close_engagement("Fine Co", milestone="in_review", due=date(2026, 12, 18))
    ReviewException.objects.create(
        engagement=fine,
        note="Bank rec off",
        raised_at=datetime(2026, 11, 20, tzinfo=ZoneInfo("UTC")),
    )
    RequiredDocumentFactory(engagement=fine)
    client.force_login(manager.user)

    response = board(client)

    rows = {row.client_name: row for row in response.context["board"].rows}
    assert rows["Late Co"].risk == "red" and rows["Late Co"].days_left < 0
    assert rows["Busy Co"].risk == "red" and "cannot finish" in rows["Busy Co"].risk_reason
    assert rows["Busy Co"].owner_name == alice.display_name
    assert rows["Soon Co"].risk == "amber"
    assert rows["Fine Co"].risk == "green"
    assert rows["Fine Co"].open_exceptions == 1 and rows["Fine Co"].missing_documents == 1
    body = response.content.decode()
    assert "In bookkeeping" in body and "In review" in body
    assert f'href="{reverse("engagements:engagement-detail", args=[late.pk])}"' in body
    assert soon and fine


def test_counts_per_milestone_and_close_cycle_median(client, manager):
    for name, days in (("A", 6), ("B", 8), ("C", 11)):
        engagement = close_engagement(name, milestone="closed")
        EngagementMilestone.objects.create(
            engagement=engagement,
            milestone="delivered",
            reached_at=datetime(2026, 11, 2 + days + (days // 5) * 2, 15, tzinfo=ZoneInfo("UTC")),
        )
    close_engagement("D", milestone="in_review")
    client.force_login(manager.user)

    response = board(client)

    result = response.context["board"]
    assert dict(result.counts) == {"In review": 1, "Closed": 3}
    assert result.median_close_days == sorted(r.close_days for r in result.rows if r.close_days)[1]
    body = response.content.decode()
    assert f"median <strong>{result.median_close_days} business days</strong> for October" in body
    assert "(3 engagements delivered)" in body
    assert "best in class is under 8" in body


def test_filters_by_partner_work_type_milestone_and_risk(client, manager, partner):
    close_engagement("Mine", relationship_partner=partner)
    close_engagement("Other", milestone="in_review")
    EngagementFactory(
        client=ClientFactory(name="Books"),
        work_type=WorkType.objects.get(code="monthly_bookkeeping"),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        milestone="documents_requested",
        due_date=date(2026, 12, 20),
    )
    client.force_login(manager.user)

    def names(**params):
        return {row.client_name for row in board(client, **params).context["board"].rows}

    assert names(partner=partner.pk) == {"Mine"}
    assert names(milestone="in_review") == {"Other"}
    assert names(work_type=WorkType.objects.get(code="monthly_bookkeeping").pk) == {"Books"}
    assert names(risk="red") == set()


def test_bad_period_is_a_clear_400(client, manager):
    client.force_login(manager.user)

    response = client.get(URL, {"period": "October"})

    assert response.status_code == 400
    assert "YYYY-MM" in response.content.decode()


def test_unchanged_poll_is_a_cheap_204_and_a_change_re_renders(
    client, manager, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    engagement = close_engagement("Harbor")
    client.force_login(manager.user)
    first = board(client)
    version = first.context["version"]

    with django_assert_max_num_queries(4):
        unchanged = client.get(URL, {"period": "2026-10", "since": version}, HTTP_HX_REQUEST="true")
    with django_capture_on_commit_callbacks(execute=True):
        engagement_transition(
            engagement_id=engagement.pk, to="preparation_complete", source="button"
        )
    changed = client.get(URL, {"period": "2026-10", "since": version}, HTTP_HX_REQUEST="true")

    assert unchanged.status_code == 204 and unchanged.content == b""
    assert changed.status_code == 200
    body = changed.content.decode()
    assert body.lstrip().startswith('<div id="close-board"') and "<html" not in body
    assert "Bookkeeper complete" in body
    new_version = int(body.split('data-version="', 1)[1].split('"', 1)[0])
    assert new_version > version


def test_an_assignment_is_a_change_for_the_poll_without_a_stamp_of_its_own(client, manager, alice):
    engagement = close_engagement("Harbor")
    task = TaskFactory(engagement=engagement, role=TaskRole.PREPARER, assignee=None)
    client.force_login(manager.user)
    version = board(client).context["version"]

    # As dispatch assigns: the task row only (the database moves Alice's number).
    type(task).objects.filter(pk=task.pk).update(assignee=alice, status=TaskStatus.ASSIGNED)
    polled = client.get(URL, {"period": "2026-10", "since": version}, HTTP_HX_REQUEST="true")

    assert polled.status_code == 200
    body = polled.content.decode()
    assert int(body.split('data-version="', 1)[1].split('"', 1)[0]) > version


def test_dashboard_queries_do_not_grow_with_clients(
    client, manager, alice, django_assert_max_num_queries
):
    def add(n: int) -> None:
        for index in range(n):
            engagement = close_engagement(f"Client {index} of {n}")
            TaskFactory(
                engagement=engagement,
                role=TaskRole.PREPARER,
                assignee=alice,
                status=TaskStatus.ACCEPTED,
            )
            RequiredDocumentFactory(engagement=engagement)

    client.force_login(manager.user)
    add(3)
    # Warm: the capacity policy and the effort factors are cached for the day.
    board(client)
    with django_assert_max_num_queries(10) as small:
        board(client)
    add(30)
    with django_assert_max_num_queries(10) as large:
        board(client)

    assert len(large.captured_queries) == len(small.captured_queries)


def deliver(engagement, on: date) -> None:
    EngagementMilestone.objects.create(
        engagement=engagement,
        milestone="delivered",
        reached_at=datetime(on.year, on.month, on.day, 15, tzinfo=ZoneInfo("UTC")),
    )


def test_invoiced_and_delivered_rows_are_never_red(client, manager):
    close_engagement("Invoiced late", milestone="invoiced", due=date(2026, 11, 18))
    close_engagement("Invoiced on time", milestone="invoiced", due=date(2026, 12, 10))
    done = close_engagement("Delivered late", milestone="closed", due=date(2026, 11, 18))
    deliver(done, date(2026, 11, 20))
    payroll = EngagementFactory(
        client=ClientFactory(name="Payroll invoiced"),
        work_type=WorkType.objects.get(code="payroll"),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 30),
        milestone="invoiced",
        due_date=date(2026, 11, 2),
    )
    client.force_login(manager.user)

    rows = {row.client_name: row for row in board(client).context["board"].rows}

    assert rows["Invoiced late"].risk == "amber"
    assert (
        rows["Invoiced late"].risk_reason == "Invoiced; delivery 3 business days past the deadline"
    )
    assert rows["Invoiced on time"].risk == "green"
    assert rows["Delivered late"].risk == "green"
    assert rows["Payroll invoiced"].risk == "green"
    assert rows["Payroll invoiced"].days_left_text == "—"  # nothing left to deliver
    assert payroll


def test_owner_fit_reddens_only_the_work_past_the_first_broken_deadline(client, manager, alice):
    early = close_engagement("Early Co", due=date(2026, 12, 14))
    late = close_engagement("Late Co", due=date(2026, 12, 18))
    TaskFactory(
        engagement=early,
        assignee=alice,
        status=TaskStatus.ACCEPTED,
        estimated_hours=Decimal("4"),
        due_date=date(2026, 11, 24),
    )
    TaskFactory(
        engagement=late,
        assignee=alice,
        status=TaskStatus.ACCEPTED,
        estimated_hours=Decimal("200"),
        due_date=date(2026, 12, 4),
    )
    client.force_login(manager.user)

    rows = {row.client_name: row for row in board(client).context["board"].rows}

    assert rows["Early Co"].risk == "green"  # earliest deadline first: her 4 h fit
    assert rows["Late Co"].risk == "red"
    assert rows["Late Co"].risk_reason.startswith("Owner cannot finish on time: short ")
    assert rows["Late Co"].risk_reason.endswith(" h by Dec 4")


def test_milestone_filter_is_a_select_of_the_labels_on_the_board(client, manager):
    close_engagement("Booking", milestone="in_preparation")
    close_engagement("Reviewing", milestone="in_review")
    client.force_login(manager.user)

    page = board(client)
    filtered = board(client, milestone="In bookkeeping")

    body = page.content.decode()
    assert '<select name="milestone">' in body
    assert '<option value="In bookkeeping">In bookkeeping</option>' in body
    assert '<option value="In review">In review</option>' in body
    assert 'href="?period=2026-10&amp;milestone=In%20bookkeeping"><strong>1</strong>' in body
    assert {row.client_name for row in filtered.context["board"].rows} == {"Booking"}
    assert '<option value="In bookkeeping" selected>' in filtered.content.decode()


def test_previous_period_median_shows_while_this_period_is_closing(client, manager):
    october = close_engagement("October Co", milestone="closed")
    deliver(october, date(2026, 11, 6))  # 5 business days after Oct 31
    close_engagement("November Co", milestone="in_preparation").__class__.objects.filter(
        client__name="November Co"
    ).update(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30))
    client.force_login(manager.user)

    response = board(client, period="2026-11")

    result = response.context["board"]
    assert result.median_close_days is None
    assert result.previous_median_close_days == 5
    body = response.content.decode()
    assert "nothing delivered yet</strong> for November" in body
    assert "October: median <strong>5 business days</strong> (1 engagement delivered)" in body


def test_burn_down_counts_deliveries_per_business_day_against_the_8_day_line(client, manager):
    for index, delivered_on in enumerate(
        (date(2026, 10, 30), date(2026, 11, 3), date(2026, 11, 3), date(2026, 11, 10))
    ):
        deliver(close_engagement(f"Done {index}", milestone="closed"), delivered_on)
    close_engagement("Still open", milestone="in_review")
    client.force_login(manager.user)

    response = board(client)

    chart = response.context["board"].burn_down
    days = {day.day: day for day in chart.days}
    assert chart.total == 5 and chart.delivered == 4
    assert days[0].delivered == 1 and days[0].remaining == 4  # by the period's end
    assert days[2].on == date(2026, 11, 3) and days[2].delivered == 2 and days[2].remaining == 2
    assert days[7].delivered == 1 and days[7].remaining == 1  # Nov 10 (Nov 11 is a holiday)
    assert days[8].ideal == 0 and days[4].ideal == 2.5
    assert chart.today_day == 15  # Nov 23 (today) is business day 15 after Oct 31
    body = response.content.decode()
    assert 'role="img" aria-labelledby="burndown-title burndown-desc"' in body
    assert "4 of 5 engagements delivered by business day 15" in body
    assert "<summary>The burn-down as a table</summary>" in body
    assert 'class="ideal" points=' in body and 'class="actual" points=' in body


def test_risk_distribution_counts_each_level_and_links_to_it(client, manager):
    close_engagement("Late", due=date(2026, 11, 18))
    close_engagement("Soon", due=date(2026, 11, 25))
    close_engagement("Fine", due=date(2026, 12, 18))
    deliver(close_engagement("Done", milestone="closed"), date(2026, 11, 5))
    client.force_login(manager.user)

    response = board(client)

    chart = response.context["board"].risks
    assert {bar.key: bar.count for bar in chart.bars} == {
        "red": 1,
        "amber": 1,
        "green": 1,
        "done": 1,
    }
    body = response.content.decode()
    assert 'aria-labelledby="risk-title risk-desc"' in body
    assert "1 red: at risk; 1 amber: watch; 1 green: on track; 1 delivered or closed." in body
    assert 'href="?period=2026-10&amp;risk=red">1 red: at risk</a>' in body


def test_dashboard_has_no_inline_style_or_script(client, manager):
    close_engagement("Styled Co")
    client.force_login(manager.user)

    body = board(client).content.decode()

    assert "style=" not in body
    assert "<script>" not in body and " on" + "click=" not in body
    assert "<progress" in body
