from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from engagements.choices import TaskRole, TaskStatus
from engagements.milestones import engagement_transition
from engagements.models import EngagementMilestone, ReviewException, WorkType
from tests.factories import ClientFactory, EngagementFactory, RequiredDocumentFactory, TaskFactory

pytestmark = pytest.mark.django_db

URL = reverse("portal:close-dashboard")
TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args: TODAY)


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
    assert "against the best-in-class 8" in response.content.decode()


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
    with django_assert_max_num_queries(10) as small:
        board(client)
    add(30)
    with django_assert_max_num_queries(10) as large:
        board(client)

    assert len(large.captured_queries) == len(small.captured_queries)
