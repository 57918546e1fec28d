"""The work type's admin: the checklist and the milestone steps edited as lists, dates
and recurrence rules checked with the reason in words."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from engagements.admin_forms import ACTION_LABELS
from engagements.models import MILESTONE_ACTIONS, WorkType
from tests.factories import EngagementFactory
from tests.html_forms import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(root)
    return client


@pytest.fixture
def bookkeeping() -> WorkType:
    return WorkType.objects.get(code="monthly_bookkeeping")


def change_url(work_type: WorkType) -> str:
    return reverse("admin:engagements_worktype_change", args=[work_type.pk])


def change_form(admin_client, work_type: WorkType) -> dict:
    page = admin_client.get(change_url(work_type))
    assert page.status_code == 200
    return form_data(page.content.decode(), form_id="worktype_form")


def step_rows(data: dict) -> list[tuple[str, str, str]]:
    count = int(data["milestone_template-count"])
    return [
        tuple(
            data.get(f"milestone_template-{i}-{part}", "") for part in ("code", "label", "on_enter")
        )
        for i in range(count)
    ]


def set_row(data: dict, index: int, code: str, label: str, action: str = "", position=None):
    data[f"milestone_template-{index}-code"] = code
    data[f"milestone_template-{index}-label"] = label
    data[f"milestone_template-{index}-on_enter"] = action
    if position is not None:
        data[f"milestone_template-{index}-position"] = str(position)


def errors(response) -> str:
    assert response.status_code == 200, response.status_code  # the form again, not a 500
    return response.content.decode()


def test_every_milestone_action_has_a_label_in_words():
    assert set(ACTION_LABELS) == {"", *MILESTONE_ACTIONS}


def test_the_checklist_is_lines_and_the_steps_are_rows(admin_client, bookkeeping):
    data = change_form(admin_client, bookkeeping)

    assert data["document_checklist"].splitlines() == bookkeeping.document_checklist
    rows = [row for row in step_rows(data) if row[0]]
    assert rows[:2] == [
        ("documents_requested", "Documents requested", ""),
        ("documents_received", "Documents received", "dispatch_preparer"),
    ]
    assert len(step_rows(data)) == len(rows) + 3  # empty rows to add steps


def test_saving_the_page_unchanged_keeps_everything(admin_client, bookkeeping):
    before = (bookkeeping.document_checklist, bookkeeping.milestone_template)

    response = admin_client.post(change_url(bookkeeping), change_form(admin_client, bookkeeping))

    assert response.status_code == 302
    bookkeeping.refresh_from_db()
    assert (bookkeeping.document_checklist, bookkeeping.milestone_template) == before


def test_documents_and_steps_are_added_removed_and_reordered(admin_client, bookkeeping):
    data = change_form(admin_client, bookkeeping)
    data["document_checklist"] = "Bank statements\n\n  Payroll register  \nLoan statements\n"
    steps = step_rows(data)
    blank = next(i for i, row in enumerate(steps) if not row[0])
    set_row(data, blank, "client_call", "Client call", "", position=2)  # added, second
    invoiced = next(i for i, row in enumerate(steps) if row[0] == "invoiced")
    set_row(data, invoiced, "", "")  # removed

    response = admin_client.post(change_url(bookkeeping), data)

    assert response.status_code == 302, errors(response)
    bookkeeping.refresh_from_db()
    assert bookkeeping.document_checklist == [
        "Bank statements",
        "Payroll register",
        "Loan statements",
    ]
    codes = [step["code"] for step in bookkeeping.milestone_template]
    assert codes[:3] == ["documents_requested", "client_call", "documents_received"]
    assert "invoiced" not in codes
    assert bookkeeping.milestone_template[2]["on_enter"] == "dispatch_preparer"
    assert "on_enter" not in bookkeeping.milestone_template[1]


@pytest.mark.parametrize(
    "row,message",
    [
        (("in review", "In review", ""), "must start with a lowercase letter"),
        (("documents_received", "Again", ""), "A milestone code appears twice"),
        (("extra_step", "", ""), "needs both a code and a label"),
        (("extra_step", "Extra", "launch_rockets"), "choose what happens from the list"),
        (("extra_step", "x" * 81, ""), "longer than 80 characters"),
    ],
)
def test_a_bad_step_is_explained_and_nothing_is_saved(admin_client, bookkeeping, row, message):
    before = bookkeeping.milestone_template
    data = change_form(admin_client, bookkeeping)
    blank = next(i for i, step in enumerate(step_rows(data)) if not step[0])
    set_row(data, blank, *row)

    response = admin_client.post(change_url(bookkeeping), data)

    assert message in errors(response)
    bookkeeping.refresh_from_db()
    assert bookkeeping.milestone_template == before


def test_a_step_engagements_stand_at_cannot_be_removed(admin_client, bookkeeping):
    EngagementFactory(work_type=bookkeeping, milestone="in_preparation")
    data = change_form(admin_client, bookkeeping)
    index = next(i for i, row in enumerate(step_rows(data)) if row[0] == "in_preparation")
    set_row(data, index, "", "")

    response = admin_client.post(change_url(bookkeeping), data)

    assert "1 engagement stand at “In bookkeeping”" in errors(response)


def test_a_checklist_naming_a_document_twice_is_explained(admin_client, bookkeeping):
    data = change_form(admin_client, bookkeeping)
    data["document_checklist"] = "Bank statements\nbank statements"

    response = admin_client.post(change_url(bookkeeping), data)

    assert "names a document twice" in errors(response)


@pytest.mark.parametrize(
    "rule,message",
    [
        ("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", "never comes"),
        ("FREQ=WEEKLY;BYDAY=XX", "BYDAY takes two-letter days"),
        ("FREQ=FORTNIGHTLY", "FREQ is DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("BYDAY=FR", "Say how often with FREQ"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL is a whole number from 1"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY takes days of the month"),
        ("FREQ=YEARLY;BYMONTH=13", "BYMONTH takes months"),
        ("FREQ=WEEKLY;COLOR=blue", "COLOR is not a part of a recurrence rule"),
        ("FREQ=WEEKLY;BYDAY", "is not NAME=VALUE"),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20301231", "COUNT or UNTIL, not both"),
    ],
)
def test_a_bad_recurrence_rule_is_explained(admin_client, bookkeeping, rule, message):
    data = change_form(admin_client, bookkeeping)
    data["recurrence_rule"] = rule

    response = admin_client.post(change_url(bookkeeping), data)

    assert message in errors(response)


def test_a_good_recurrence_rule_is_kept(admin_client, bookkeeping):
    data = change_form(admin_client, bookkeeping)
    data["recurrence_rule"] = "FREQ=MONTHLY;BYMONTHDAY=-1"

    response = admin_client.post(change_url(bookkeeping), data)

    assert response.status_code == 302, errors(response)


@pytest.mark.parametrize(
    "month,day,message",
    [
        ("2", "30", "February has 28 days: there is no February 30"),
        ("2", "29", "February 29 comes only in leap years"),
        ("4", "31", "April has 30 days: there is no April 31"),
    ],
)
def test_a_statutory_deadline_that_does_not_exist_is_refused(admin_client, month, day, message):
    tax = WorkType.objects.get(code="1040")
    data = change_form(admin_client, tax)
    data |= {"deadline_basis": "statutory_date", "statutory_month": month, "statutory_day": day}

    response = admin_client.post(change_url(tax), data)

    assert message in errors(response)
