from __future__ import annotations

import re
from datetime import date
from uuid import uuid4

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from engagements.choices import TaskRole
from engagements.models import Engagement, RequiredDocument, WorkType
from engagements.services import engagement_create
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_manager_opens_engagement_and_is_sent_to_its_task(
    client, manager, django_capture_on_commit_callbacks, monkeypatch, dispatches
):
    sent = dispatches
    client_co = ClientFactory()
    client.force_login(manager.user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("engagements:engagement-create"),
            {
                "client": client_co.pk,
                "work_type": WorkType.objects.get(code="payroll").pk,
                "event_date": "2026-12-04",
                "complexity": "medium",
                "submission_token": str(uuid4()),
            },
        )

    engagement = Engagement.objects.get(client=client_co)
    preparer = engagement.tasks.get(role=TaskRole.PREPARER)
    assert response.status_code == 302
    assert response["Location"] == reverse("dispatch:task-detail", args=[preparer.pk])
    assert engagement.due_date == date(2026, 12, 1)
    assert sent == [(preparer.pk, "engagement_created")]
    assert list(
        RequiredDocument.objects.filter(engagement=engagement).values_list("name", flat=True)
    ) == ["Headcount change form"]


def test_engagement_form_explains_missing_deadline_inputs(client, manager):
    client.force_login(manager.user)

    response = client.post(
        reverse("engagements:engagement-create"),
        {
            "client": ClientFactory().pk,
            "work_type": WorkType.objects.get(code="audit").pk,
            "complexity": "high",
            "submission_token": str(uuid4()),
        },
    )

    assert response.status_code == 400
    assert "needs a due date per engagement" in response.content.decode()
    assert not Engagement.objects.exists()


def new_payroll(client_co, token) -> dict[str, object]:
    return {
        "client": client_co.pk,
        "work_type": WorkType.objects.get(code="payroll").pk,
        "event_date": "2026-12-04",
        "complexity": "medium",
        "submission_token": str(token),
    }


def test_the_form_carries_a_fresh_token_each_time_it_is_shown(client, manager):
    client.force_login(manager.user)

    first = client.get(reverse("engagements:engagement-create")).content.decode()
    second = client.get(reverse("engagements:engagement-create")).content.decode()

    pattern = r'type="hidden" name="submission_token" value="([0-9a-f-]{36})"'
    assert re.search(pattern, first).group(1) != re.search(pattern, second).group(1)


def test_the_same_form_sent_twice_opens_one_engagement_and_says_so(client, manager, broker):
    client.force_login(manager.user)
    data = new_payroll(ClientFactory(), uuid4())

    first = client.post(reverse("engagements:engagement-create"), data)
    again = client.post(reverse("engagements:engagement-create"), data)  # back, resubmit

    engagement = Engagement.objects.get()
    assert again.status_code == 302 and again["Location"] == first["Location"]
    said = [str(m) for m in get_messages(again.wsgi_request)]
    assert said[-1] == (
        f"{engagement} was already opened when this form was first sent; "
        "sending it again opened nothing new."
    )
    assert engagement.tasks.count() == 1


def test_two_forms_open_two_engagements(client, manager, broker):
    client.force_login(manager.user)
    client_co = ClientFactory()

    client.post(reverse("engagements:engagement-create"), new_payroll(client_co, uuid4()))
    client.post(reverse("engagements:engagement-create"), new_payroll(client_co, uuid4()))

    assert Engagement.objects.filter(client=client_co).count() == 2


def test_a_submission_racing_the_first_finds_its_engagement(manager, broker, monkeypatch):
    """The second request passed its look-up before the first committed: the unique
    constraint stops it, and it answers with the first one's engagement."""
    from engagements import services

    token = uuid4()
    fields = {
        "client": ClientFactory(),
        "work_type": WorkType.objects.get(code="payroll"),
        "event_date": date(2026, 12, 4),
    }
    first, created = services.engagement_open(submission_token=token, **fields)
    real_filter = Engagement.objects.filter
    lookups = []

    def blind_first_lookup(*args, **kwargs):
        lookups.append(kwargs)
        if len(lookups) == 1:
            return real_filter(pk=-1)  # the race: nothing there yet
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Engagement.objects, "filter", blind_first_lookup)
    second, created_again = services.engagement_open(submission_token=token, **fields)

    assert created and not created_again
    assert second == first
    assert Engagement.objects.count() == 1


def test_a_form_without_its_token_is_refused_in_words(client, manager):
    client.force_login(manager.user)
    data = new_payroll(ClientFactory(), "")

    response = client.post(reverse("engagements:engagement-create"), data)

    assert response.status_code == 400
    assert "reload the page" in response.content.decode()
    assert not Engagement.objects.exists()


def test_staff_cannot_open_engagements(client, alice):
    client.force_login(alice.user)

    assert client.get(reverse("engagements:engagement-create")).status_code == 403


def test_admin_add_engagement_goes_through_the_service_page(admin_client):
    response = admin_client.get(reverse("admin:engagements_engagement_add"))

    assert response.status_code == 302
    assert response["Location"] == reverse("engagements:engagement-create")


def test_admin_mark_received_completes_checklist(
    admin_client, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("core.queue.publish", lambda *args, **kwargs: True)
    engagement = engagement_create(
        client=ClientFactory(),
        work_type=WorkType.objects.get(code="1040"),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )
    ids = list(engagement.required_documents.values_list("pk", flat=True))

    response = admin_client.post(
        reverse("admin:engagements_requireddocument_changelist"),
        {"action": "mark_received", "_selected_action": ids},
    )

    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.milestone == "documents_received"


def test_timeline_says_each_move_in_words_with_who_acted(client, manager):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from engagements.models import MilestoneTransition
    from tests.factories import EngagementFactory

    engagement = EngagementFactory(
        work_type=WorkType.objects.get(code="month_end_close"), milestone="preparation_complete"
    )
    at = datetime(2026, 11, 2, 14, 5, tzinfo=ZoneInfo("UTC"))
    for old, new, source, actor in (
        ("new", "documents_requested", "system", None),
        ("in_preparation", "preparation_complete", "button", manager.user),
        ("documents_requested", "documents_received", "webhook", None),
    ):
        MilestoneTransition.objects.create(
            engagement=engagement,
            from_milestone=old,
            to_milestone=new,
            source=source,
            actor=actor,
            at=at,
        )
    client.force_login(manager.user)

    body = client.get(
        reverse("engagements:engagement-detail", args=[engagement.pk])
    ).content.decode()

    assert "Moved to Documents requested automatically, as the work moved on." in body
    assert "Mia Manager moved it from In bookkeeping to Bookkeeper complete." in body
    assert (
        "Moved from Documents requested to Documents received by another system (webhook)." in body
    )
    assert "preparation_complete" not in body.split('id="timeline-heading"', 1)[1]
