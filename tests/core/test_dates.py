"""Every date that enters has a range a firm can mean: ten years back to five ahead."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.urls import reverse

from core.dates import firm_date_problem, firm_date_range
from core.exceptions import ApplicationError
from engagements.models import Engagement, WorkType
from engagements.services import engagement_create
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 2)


def test_range_is_ten_years_back_to_five_ahead_and_survives_leap_days():
    assert firm_date_range(TODAY) == (date(2016, 12, 2), date(2031, 12, 2))
    assert firm_date_range(date(2028, 2, 29)) == (date(2018, 2, 28), date(2033, 2, 28))


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (date(2016, 12, 2), True),
        (date(2031, 12, 2), True),
        (date(2016, 12, 1), False),
        (date(2031, 12, 3), False),
        (date(3000, 1, 1), False),
        (date(9999, 12, 31), False),
        (date(1, 1, 1), False),
    ],
)
def test_firm_date_problem_names_the_range(value, ok):
    problem = firm_date_problem(value, TODAY)
    assert (problem is None) == ok
    if not ok:
        assert problem == "Choose a date between Dec 2, 2016 and Dec 2, 2031."


@pytest.mark.parametrize("field", ["due_date", "event_date", "period_end"])
def test_new_engagement_page_refuses_far_dates_next_to_the_field(client, manager, field):
    client.force_login(manager.user)
    data = {
        "client": ClientFactory().pk,
        "work_type": WorkType.objects.get(code="payroll").pk,
        "event_date": "2026-12-18",
        "complexity": "medium",
        "submission_token": str(uuid.uuid4()),
        field: "9999-12-31",
    }

    response = client.post(reverse("engagements:engagement-create"), data)

    assert response.status_code == 400
    assert "Choose a date between" in response.content.decode()
    assert not Engagement.objects.exists()


def test_service_refuses_a_rule_date_that_lands_out_of_range():
    # A period ending five years out plus the 1040's statutory date lands past the range.
    with pytest.raises(ApplicationError) as refused:
        engagement_create(
            client=ClientFactory(),
            work_type=WorkType.objects.get(code="1040"),
            period_end=date(2031, 12, 1),
        )

    assert "due_date" in refused.value.message_dict
    assert not Engagement.objects.exists()


def test_admin_refuses_time_off_in_the_year_3000(admin_client, alice):
    response = admin_client.post(
        reverse("admin:staff_timeoff_add"),
        {
            "staff_member": alice.pk,
            "start_date": "3000-01-01",
            "end_date": "3000-01-02",
            "reason": "vacation",
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert "Choose a date between" in response.content.decode()
    assert not alice.time_off.exists()
