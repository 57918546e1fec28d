"""The admin's delivery log: both directions in one list, linked to their records, with replay."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import TestCase

from integrations.choices import EventStatus, Source
from integrations.inbox import PROCESS_TASK, inbound_event_process
from integrations.models import InboundEvent
from notifications.choices import DeliveryStatus
from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.webhooks import SEND_WEBHOOK_TASK, new_secret, webhook_event_record
from tests.integrations.webhook_helpers import deliver, generic_event, make_integration

pytestmark = pytest.mark.django_db

LOG = "/admin/integrations/deliverylog/"


@pytest.fixture
def both_directions(broker, firm_admin):
    taxdome = make_integration(Source.TAXDOME)
    deliver(taxdome, generic_event("e-1"))  # unknown client: an exception
    inbound_event_process(event_id=InboundEvent.objects.get().pk)
    WebhookSubscription.objects.create(
        name="Firm script",
        url="https://hooks.example.com/x",
        secret=new_secret(),
        event_types=["task.accepted"],
    )
    with transaction.atomic():
        webhook_event_record(event_type="task.accepted", record_type="task", record_id=41, data={})
    WebhookDelivery.objects.update(status=DeliveryStatus.FAILED, last_error="HTTP 500")
    firm_admin.user.is_superuser = True
    firm_admin.user.save()
    return firm_admin


def test_the_log_lists_both_directions_with_their_records(client, both_directions):
    client.force_login(both_directions.user)

    page = client.get(LOG).content.decode()

    assert "job.created" in page and "task.accepted" in page
    assert "No client has" in page
    assert "task 41 (#1)" in page and "/admin/engagements/task/41/change/" in page
    assert page.count(">Replay</button>") == 2
    assert client.get(LOG + "?direction=out").content.decode().count(">Replay</button>") == 1


def test_replay_from_the_log_queues_each_direction_again(client, both_directions, broker):
    client.force_login(both_directions.user)
    event = InboundEvent.objects.get()
    delivery = WebhookDelivery.objects.get()

    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(LOG, {"kind": "inbound", "pk": event.pk})
        client.post(LOG, {"kind": "outbound", "pk": delivery.pk})

    assert InboundEvent.objects.get().status == EventStatus.PENDING
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING
    assert (event.pk,) in broker.named(PROCESS_TASK)
    assert (delivery.pk,) in broker.named(SEND_WEBHOOK_TASK)


def test_staff_cannot_open_the_log(client, alice, both_directions):
    client.force_login(alice.user)

    assert client.get(LOG).status_code in (302, 403)


def test_the_admin_role_manages_integrations_and_webhooks(client, firm_admin):
    client.force_login(firm_admin.user)  # role "admin", not a superuser

    for page in (
        "/admin/integrations/integration/",
        "/admin/integrations/apitoken/",
        "/admin/integrations/inboundevent/",
        LOG,
        "/admin/notifications/webhooksubscription/",
        "/admin/notifications/teamswebhook/",
    ):
        assert client.get(page).status_code == 200, page
