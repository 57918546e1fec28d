"""The new-engagement form: a searchable client, and the dates before saving."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from django.urls import reverse

from clients.models import ClientContact
from engagements.models import Engagement, WorkType
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("engagements:engagement-create")
CLIENTS = reverse("engagements:engagement-create-clients")
DATES = reverse("engagements:engagement-create-preview")


def work_type(code: str) -> int:
    return WorkType.objects.get(code=code).pk


def option_labels(response) -> list[str]:
    return [label for value, label in response.context["form"].fields["client"].widget.choices][1:]


def test_client_search_narrows_the_list_without_javascript(client, manager):
    ClientFactory(name="Harbor Dental", contact_name="Hana Reyes")
    ClientFactory(name="Pine Bakery", contact_name="Pat Pine")
    client.force_login(manager.user)

    response = client.post(PAGE, {"action": "find", "client_search": "harb", "name": "Typed"})

    assert response.status_code == 200
    assert option_labels(response) == ["Harbor Dental — Hana Reyes"]
    body = response.content.decode()
    assert "1 match for “harb”." in body
    assert 'value="Typed"' in body  # what was typed is kept
    assert "This field is required" not in body  # a lookup is not a submission
    assert not Engagement.objects.exists()


def test_client_search_as_you_type_returns_only_the_list(client, manager):
    ClientFactory(name="Harbor Dental")
    ClientFactory(name="Pine Bakery", email="orders@pine.example")
    client.force_login(manager.user)

    response = client.get(CLIENTS, {"client_search": "pine.ex"}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert body.lstrip().startswith('<div id="client-options"')
    assert "<html" not in body
    assert "Pine Bakery" in body and "Harbor Dental" not in body


def test_the_chosen_client_stays_in_the_list_whatever_is_searched(client, manager):
    chosen = ClientFactory(name="Harbor Dental")
    ClientFactory(name="Pine Bakery")
    client.force_login(manager.user)

    response = client.get(CLIENTS, {"client_search": "pine", "client": chosen.pk})

    body = response.content.decode()
    assert f'<option value="{chosen.pk}" selected>Harbor Dental' in body
    assert body.index("Harbor Dental") < body.index("Pine Bakery")


def test_many_clients_are_capped_and_the_page_says_so(client, manager):
    for index in range(60):
        ClientFactory(name=f"Client {index:02d}")
    client.force_login(manager.user)

    response = client.get(PAGE)

    assert len(option_labels(response)) == 50
    assert "Showing 50 of 60 matches: type more to narrow them." in response.content.decode()


def test_dates_preview_explains_the_rule_and_the_weekend_move(client, manager):
    client.force_login(manager.user)

    response = client.get(
        DATES,
        {"work_type": work_type("1120"), "period_end": "2026-12-31"},
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert "<html" not in body
    assert "Fri Feb 12, 2027" in body
    assert "Jan 1, 2026 – Dec 31, 2026" in body  # the start from the yearly rule
    assert "Not a business day, so moved to Friday Feb 12: Feb 13 is a Saturday." in body
    assert "Preparation due" in body and "Wed Feb 10, 2027" in body


def test_dates_preview_says_what_is_missing(client, manager):
    client.force_login(manager.user)

    payroll = client.get(DATES, {"work_type": work_type("payroll")}).content.decode()
    audit = client.get(DATES, {"work_type": work_type("audit")}).content.decode()
    nothing = client.get(DATES, {}).content.decode()

    assert "Give the event date and the deadline is worked out from it." in payroll
    assert "Audit engagement has no deadline rule: give the due date." in audit
    assert "the dates its rules give appear here" in nothing


def test_dates_preview_of_a_typed_due_date_shows_what_the_rule_would_give(client, manager):
    client.force_login(manager.user)

    body = client.get(
        DATES,
        {
            "work_type": work_type("monthly_bookkeeping"),
            "period_end": "2026-11-30",
            "due_date": "2026-12-10",
        },
    ).content.decode()

    assert "Thu Dec 10, 2026" in body and "as you gave it; the rule gives Mon Dec 7" in body


def test_show_the_dates_without_javascript_keeps_the_form(client, manager):
    client.force_login(manager.user)

    response = client.post(
        PAGE,
        {
            "action": "preview",
            "work_type": work_type("month_end_close"),
            "period_end": "2026-10-31",
        },
    )

    assert response.status_code == 200
    assert response.context["preview"].due is not None
    assert "Oct 1, 2026 – Oct 31, 2026" in response.content.decode()
    assert not Engagement.objects.exists()


def test_saving_uses_the_period_the_preview_showed(client, manager, dispatches):
    harbor = ClientFactory()
    client.force_login(manager.user)
    data = {
        "work_type": work_type("month_end_close"),
        "period_end": "2026-10-31",
        "submission_token": str(uuid4()),
    }
    shown = client.post(PAGE, {**data, "action": "preview"})
    preview = shown.context["preview"]
    # The form's token survives the look-up, so saving after it still opens one.
    assert f'value="{data["submission_token"]}"' in shown.content.decode()

    response = client.post(
        PAGE, {**data, "action": "create", "client": harbor.pk, "complexity": "medium"}
    )

    engagement = Engagement.objects.get(client=harbor)
    assert response.status_code == 302
    assert engagement.period_start == preview.period_start == date(2026, 10, 1)
    assert engagement.due_date == preview.due
    assert engagement.tasks.get(role="preparer").due_date == preview.preparer_due


def test_staff_cannot_use_the_lookups(client, alice):
    client.force_login(alice.user)

    assert client.get(CLIENTS, {"client_search": "a"}).status_code == 403
    assert client.get(DATES, {"work_type": work_type("1040")}).status_code == 403


def test_lookups_refuse_bad_input_in_words_not_500(client, manager):
    client.force_login(manager.user)

    long_search = client.get(CLIENTS, {"client_search": "x" * 5000})
    bad_date = client.get(DATES, {"work_type": work_type("1040"), "period_end": "2026-02-30"})
    nul = client.post(PAGE, {"action": "find", "client_search": "a\x00b"})

    assert long_search.status_code == 200
    assert bad_date.status_code == 200 and "Dates" in bad_date.content.decode()
    assert nul.status_code == 200
    assert "invisible NUL character" in nul.content.decode()


def test_client_search_finds_a_client_by_another_contact(client, manager):
    harbor = ClientFactory(name="Harbor Dental")
    ClientContact.objects.create(client=harbor, name="Omar Lindqvist", role="Controller")
    ClientFactory(name="Pine Bakery")
    client.force_login(manager.user)

    body = client.get(CLIENTS, {"client_search": "lindq"}).content.decode()

    assert "Harbor Dental" in body and "Pine Bakery" not in body
