"""Constraint violations entered in the admin come back as form errors, never 500s."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from capacity.models import CapacityRule
from clients.models import Client, ClientExternalId
from engagements.models import WorkType
from staff.models import TimeOff
from tests.factories import ClientFactory, StaffMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client):
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(superuser)
    return client


def client_form(**fields: str) -> dict[str, str]:
    """The admin's add-client form with the inline contacts and external ids left empty."""
    return {
        "entity_type": "s_corp",
        "value_tier": "standard",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "external_ids-TOTAL_FORMS": "0",
        "external_ids-INITIAL_FORMS": "0",
        **fields,
    }


def _errors(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_client_retainer_without_amount_is_a_form_error(admin_client_logged_in):
    response = admin_client_logged_in.post(
        reverse("admin:clients_client_add"),
        client_form(name="Retainer Co", billing_model="retainer", retainer_amount=""),
    )

    assert "A monthly retainer needs a positive amount" in _errors(response)
    assert not Client.objects.filter(name="Retainer Co").exists()


def test_client_invalid_mobile_is_a_form_error(admin_client_logged_in):
    response = admin_client_logged_in.post(
        reverse("admin:clients_client_add"),
        client_form(name="Phone Co", billing_model="hourly", mobile="12345"),
    )

    assert "Enter a valid phone number" in _errors(response)
    assert not Client.objects.filter(name="Phone Co").exists()


def test_client_mobile_is_stored_as_e164(admin_client_logged_in):
    response = admin_client_logged_in.post(
        reverse("admin:clients_client_add"),
        client_form(name="Phone Co", billing_model="hourly", mobile="(212) 555-0198"),
    )

    assert response.status_code == 302
    assert str(Client.objects.get(name="Phone Co").mobile) == "+12125550198"


def test_duplicate_external_id_is_a_form_error(admin_client_logged_in):
    ClientExternalId.objects.create(client=ClientFactory(), source="karbon", external_id="K-1")
    url = reverse("admin:clients_clientexternalid_add")
    other = ClientFactory()

    response = admin_client_logged_in.post(
        url, {"client": other.pk, "source": "karbon", "external_id": "K-1"}
    )

    assert "Another client already has this id in that system" in _errors(response)
    assert ClientExternalId.objects.count() == 1


def test_time_off_ending_before_start_is_a_form_error(admin_client_logged_in):
    member = StaffMemberFactory()
    url = reverse("admin:staff_timeoff_add")

    response = admin_client_logged_in.post(
        url,
        {
            "staff_member": member.pk,
            "start_date": "2026-12-10",
            "end_date": "2026-12-01",
            "hours_per_day": "8",
        },
    )

    assert "Time off cannot end before it starts" in _errors(response)
    assert not TimeOff.objects.exists()


def test_staff_member_as_own_manager_is_a_form_error(admin_client_logged_in):
    member = StaffMemberFactory()
    url = reverse("admin:staff_staffmember_change", args=[member.pk])
    data = {
        "user": member.user.pk,
        "role": "staff",
        "seniority": 1,
        "manager": member.pk,
        "active": "on",
        "weekly_capacity_hours": "40",
        "working_days": ["0", "1", "2", "3", "4"],
        "cost_rate": "40",
        "bill_rate": "120",
        "staff_skills-TOTAL_FORMS": "0",
        "staff_skills-INITIAL_FORMS": "0",
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
    }

    response = admin_client_logged_in.post(url, data)

    assert "cannot be their own manager" in _errors(response)
    member.refresh_from_db()
    assert member.manager_id is None


def test_staff_member_role_change_in_admin_moves_groups(admin_client_logged_in):
    member = StaffMemberFactory()
    url = reverse("admin:staff_staffmember_change", args=[member.pk])
    data = {
        "user": member.user.pk,
        "role": "manager",
        "seniority": 4,
        "active": "on",
        "weekly_capacity_hours": "40",
        "working_days": ["0", "1", "2", "3"],
        "cost_rate": "60",
        "bill_rate": "200",
        "staff_skills-TOTAL_FORMS": "0",
        "staff_skills-INITIAL_FORMS": "0",
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
        "working_patterns-TOTAL_FORMS": "0",
        "working_patterns-INITIAL_FORMS": "0",
    }

    response = admin_client_logged_in.post(url, data)

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.working_days == [0, 1, 2, 3]
    assert set(member.user.groups.values_list("name", flat=True)) == {"staff", "manager"}


def test_work_type_statutory_deadline_without_day_is_a_form_error(admin_client_logged_in):
    work_type = WorkType.objects.get(code="1040")
    url = reverse("admin:engagements_worktype_change", args=[work_type.pk])
    response = admin_client_logged_in.get(url)
    form = response.context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if not isinstance(value, list)
    }
    data.update(
        {
            "code": "1040",
            "name": work_type.name,
            "statutory_day": "",
            "document_checklist": '["W-2 forms"]',
            "skill_rules-TOTAL_FORMS": "0",
            "skill_rules-INITIAL_FORMS": "0",
        }
    )
    data.pop("required_skills", None)
    for flag in ("reviewer_required", "suppressed_in_december", "active"):
        if data.get(flag) is False:
            data.pop(flag)

    response = admin_client_logged_in.post(url, data)

    assert "A statutory deadline needs a month" in _errors(response)
    work_type.refresh_from_db()
    assert work_type.statutory_day == 15


def test_work_type_bad_recurrence_rule_is_a_form_error(admin_client_logged_in):
    work_type = WorkType.objects.get(code="monthly_bookkeeping")
    url = reverse("admin:engagements_worktype_change", args=[work_type.pk])
    form = admin_client_logged_in.get(url).context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if not isinstance(value, list) and value is not False
    }
    data.update(
        {
            "recurrence_rule": "FREQ=SOMETIMES",
            "document_checklist": '["Bank statements"]',
            "skill_rules-TOTAL_FORMS": "0",
            "skill_rules-INITIAL_FORMS": "0",
        }
    )

    response = admin_client_logged_in.post(url, data)

    assert "FREQ is DAILY, WEEKLY, MONTHLY or YEARLY, not SOMETIMES." in _errors(response)
    work_type.refresh_from_db()
    assert work_type.recurrence_rule == "FREQ=MONTHLY;BYMONTHDAY=1"


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("end_day", "30", "February has 28 days: there is no February 30."),
        ("start_day", "31", "April has 30 days: there is no April 31."),
    ],
)
def test_capacity_season_on_a_day_that_does_not_exist_is_a_form_error(
    admin_client_logged_in, field, value, message
):
    data = {
        "name": "Spring surge",
        "start_month": "4" if field == "start_day" else "1",
        "start_day": value if field == "start_day" else "1",
        "end_month": "2" if field == "end_day" else "5",
        "end_day": value if field == "end_day" else "1",
        "threshold_percent": "90",
        "active": "on",
    }

    response = admin_client_logged_in.post(reverse("admin:capacity_capacityrule_add"), data)

    assert message in _errors(response)
    assert not CapacityRule.objects.filter(name="Spring surge").exists()


def test_capacity_season_may_end_on_february_29(admin_client_logged_in):
    data = {"name": "Winter", "start_month": "1", "start_day": "1", "end_month": "2"}
    data |= {"end_day": "29", "threshold_percent": "90", "active": "on"}

    response = admin_client_logged_in.post(reverse("admin:capacity_capacityrule_add"), data)

    assert response.status_code == 302
    assert CapacityRule.objects.filter(name="Winter").exists()
