"""Estimates that learn: the median of logged over estimated hours per work type and per
person, shown beside the default estimate with a one-click "use this"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from capacity.estimates import effort_factors, estimate_calibrations
from engagements.choices import TaskStatus
from engagements.models import WorkType
from tests.factories import TaskFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("portal:capacity-estimates")
TODAY = dt.date(2026, 12, 7)


@pytest.fixture
def bookkeeping() -> WorkType:
    work_type = WorkType.objects.get(code="monthly_bookkeeping")
    work_type.default_estimated_hours = Decimal("10")
    work_type.default_estimate_calibrated_at = None
    work_type.save()
    return work_type


def done(work_type, member, estimate: str, logged: str):
    return TaskFactory(
        engagement__work_type=work_type,
        assignee=member,
        status=TaskStatus.COMPLETED,
        completed_at=timezone.now() - dt.timedelta(days=3),
        estimated_hours=Decimal(estimate),
        logged_hours=Decimal(logged),
    )


def test_the_median_ratio_suggests_a_default_and_each_persons_factor(bookkeeping, alice, bob):
    for logged in ("12", "13", "12", "11", "14"):
        done(bookkeeping, alice, "10", logged)
    for logged in ("8", "9", "10", "9", "7"):
        done(bookkeeping, bob, "10", logged)
    done(bookkeeping, bob, "10", "900")  # a typing mistake: left out

    calibration = next(c for c in estimate_calibrations(today=TODAY) if c.work_type == bookkeeping)

    assert calibration.sample == 10
    assert calibration.ratio_percent == 105  # median of the ten: (1.0 + 1.1) / 2
    assert calibration.suggested == Decimal("10.50")
    assert [(f.name, round(f.ratio, 2)) for f in calibration.people] == [
        ("Alice Associate", 1.2),
        ("Bob Associate", 0.9),
    ]
    assert effort_factors(today=TODAY)[alice.pk][bookkeeping.pk] == pytest.approx(1.2)


def test_fewer_than_five_tasks_suggest_nothing(bookkeeping, alice):
    for logged in ("20", "20", "20", "20"):
        done(bookkeeping, alice, "10", logged)

    calibration = next(c for c in estimate_calibrations(today=TODAY) if c.work_type == bookkeeping)

    assert calibration.ratio is None and calibration.suggested is None


def test_a_partner_uses_the_suggestion_in_one_click(client, partner, bookkeeping, alice):
    for _ in range(5):
        done(bookkeeping, alice, "10", "15")
    client.force_login(partner.user)

    page = client.get(PAGE).content.decode()
    assert "150 %" in page and "Use 15 h" in page
    response = client.post(
        reverse("portal:capacity-estimate-use", args=[bookkeeping.pk]), {"hours": "15"}
    )

    assert response.status_code == 302
    bookkeeping.refresh_from_db()
    assert bookkeeping.default_estimated_hours == Decimal("15")
    # The old tasks were estimated from the old default: nothing more is suggested
    # until tasks estimated from the new one have time logged.
    after = client.get(PAGE).content.decode()
    assert "Use 15 h" not in after and "Use 22.5 h" not in after


def test_a_manager_reads_the_page_but_cannot_change_the_default(
    client, manager, bookkeeping, alice
):
    for _ in range(5):
        done(bookkeeping, alice, "10", "15")
    client.force_login(manager.user)

    page = client.get(PAGE)
    refused = client.post(
        reverse("portal:capacity-estimate-use", args=[bookkeeping.pk]), {"hours": "15"}
    )

    assert page.status_code == 200 and "150 %" in page.content.decode()
    assert "Use 15 h" not in page.content.decode()
    assert refused.status_code == 403
    bookkeeping.refresh_from_db()
    assert bookkeeping.default_estimated_hours == Decimal("10")


def test_an_estimate_out_of_range_is_refused_in_words(client, partner, bookkeeping):
    client.force_login(partner.user)

    response = client.post(
        reverse("portal:capacity-estimate-use", args=[bookkeeping.pk]), {"hours": "99999"}
    )

    assert response.status_code == 400
    assert "2000" in response.content.decode()


def test_the_page_query_count_does_not_grow_with_history(
    client, partner, bookkeeping, alice, bob, django_assert_max_num_queries
):
    client.force_login(partner.user)
    for _ in range(5):
        done(bookkeeping, alice, "10", "12")
    with django_assert_max_num_queries(10) as small:
        client.get(PAGE)
    for _ in range(20):
        done(bookkeeping, bob, "10", "8")
    with django_assert_max_num_queries(10) as large:
        client.get(PAGE)

    assert len(large.captured_queries) == len(small.captured_queries)
