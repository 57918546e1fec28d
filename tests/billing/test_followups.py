"""Follow-up sequences day by day (the run is given each day, as a frozen clock would):
every touch boundary of each sequence kind, payments at each stage, a partial payment's
restart, disputes, promises, catch-up after downtime, one email per client — asserting
exactly the emails, texts, holds and tasks expected, no more."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from billing import disputes, followups, invoices, payments
from billing.choices import (
    BillingTaskKind,
    DisputeOutcome,
    InvoiceOrigin,
    InvoiceStatus,
    LineKind,
    PauseReason,
    PromiseStatus,
)
from billing.models import (
    BillingTask,
    ClientBillingProfile,
    FollowUpState,
    FollowUpTouch,
    Invoice,
    InvoiceLine,
)
from clients.choices import BillingModel
from notifications.choices import Channel, NotificationTemplate, WebhookEventType
from notifications.models import Notification, WebhookEvent, WebhookSubscription
from notifications.webhooks import new_secret
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DUE = TODAY - timedelta(
    days=60
)  # every day of a sequence lies in the past: payments may fall on it


@pytest.fixture(autouse=True)
def _twilio(settings):
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "secret"
    settings.TWILIO_FROM = "+15005550006"
    settings.FIRM_PHONE = "+1 555 0100"


def client_with(**kwargs):
    kwargs.setdefault("email", "ap@client.example")
    kwargs.setdefault("mobile", "+12025550143")
    kwargs.setdefault("contact_name", "Dana")
    return ClientFactory(**kwargs)


def issue(
    partner, *, client=None, amount: str = "1000.00", due_on: date = DUE, lines=None
) -> Invoice:
    """An invoice approved by the partner, then dated so it fell due on ``due_on``."""
    invoice = Invoice.objects.create(client=client or client_with(), origin=InvoiceOrigin.MANUAL)
    for position, value in enumerate(lines or [amount], start=1):
        InvoiceLine.objects.create(
            invoice=invoice,
            kind=LineKind.FEE,
            description=f"Work {position}",
            quantity=Decimal("1"),
            unit_price=Decimal(value),
            amount=Decimal(value),
            position=position,
        )
    invoices.invoice_recompute(invoice)
    invoice = invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user).invoice
    Invoice.objects.filter(pk=invoice.pk).update(
        issued_on=due_on - timedelta(days=30), due_on=due_on
    )
    invoice.refresh_from_db()
    state = FollowUpState.objects.get(invoice=invoice)
    state.anchor_on = due_on
    followups._schedule(state, followups.Steps())
    state.save()
    return invoice


def touches_sent() -> list[Notification]:
    return list(
        Notification.objects.filter(template=NotificationTemplate.FOLLOWUP_TOUCH).order_by("pk")
    )


def run_days(first: date, last: date) -> dict[date, list[tuple[str, int]]]:
    """Run the daily job for each day; what it stored each day, as (channel, step)."""
    seen: dict[date, list[tuple[str, int]]] = {}
    before = {n.pk for n in touches_sent()}
    day = first
    while day <= last:
        followups.followups_run(today=day)
        new = [n for n in touches_sent() if n.pk not in before]
        if new:
            seen[day] = [(n.channel, n.step) for n in new]
            before |= {n.pk for n in new}
        day += timedelta(days=1)
    return seen


def test_standard_sequence_day_1_15_30_exactly(partner, broker):
    invoice = issue(partner)
    sent = run_days(DUE - timedelta(days=3), DUE + timedelta(days=45))
    assert sent == {
        DUE + timedelta(days=1): [("email", 1)],
        DUE + timedelta(days=15): [("email", 2), ("sms", 2)],
        DUE + timedelta(days=30): [("email", 3)],
    }
    emails = [n for n in touches_sent() if n.channel == Channel.EMAIL]
    assert emails[0].subject == (
        f"Payment reminder — Invoice {invoice.number} for {invoice.client.name} "
        f"due {DUE:%B %-d, %Y}"
    )
    assert "can you confirm receipt and expected payment date?" in emails[1].subject
    assert emails[2].subject == f"Account hold notice — Invoice {invoice.number}"
    assert "work on your account will be paused until Invoice" in emails[2].body
    sms = Notification.objects.get(channel=Channel.SMS)
    assert sms.recipient == "+12025550143"
    assert sms.body == (
        f"Hi Dana, this is Closeloop CPA. Invoice {invoice.number} for $1,000.00 is 15 days "
        "past due. Reply to confirm or call +1 555 0100."
    )
    invoice.client.refresh_from_db()
    assert invoice.client.account_hold
    assert invoice.number in invoice.client.account_hold_reason
    call = BillingTask.objects.get()
    assert call.kind == BillingTaskKind.CALL and invoice.number in call.title
    # Why each was sent: stored with the touch.
    reasons = list(FollowUpTouch.objects.order_by("sent_on").values_list("reason", flat=True))
    assert "touch 1" in reasons[0] and "1 days past due" in reasons[0]
    assert "touch 3" in reasons[2] and "$1,000.00 undisputed balance" in reasons[2]


def test_retainer_sequence_5_20_35_and_no_hold(partner, broker):
    client = client_with(billing_model=BillingModel.RETAINER, retainer_amount=Decimal("500"))
    invoice = issue(partner, client=client, amount="500.00")
    sent = run_days(DUE, DUE + timedelta(days=50))
    assert sent == {
        DUE + timedelta(days=5): [("email", 1)],
        DUE + timedelta(days=20): [("email", 2)],
    }
    first = touches_sent()[0]
    assert "auto-pay" in first.body
    assert FollowUpTouch.objects.filter(invoice=invoice).count() == 3  # day 35: the call
    assert BillingTask.objects.get().kind == BillingTaskKind.CALL
    client.refresh_from_db()
    assert not client.account_hold


def test_payment_plan_reminds_of_each_instalment_and_a_missed_one(partner, broker):
    invoice = issue(partner, amount="900.00")
    followups.instalment_plan_create(
        invoice_id=invoice.pk, count=3, first_due_on=TODAY, every_days=30
    )
    # Before the plan's first date nothing is overdue-chased; 3 days ahead: a reminder.
    sent = run_days(TODAY - timedelta(days=5), TODAY)
    assert sent == {TODAY - timedelta(days=3): [("email", 1)]}
    assert "Instalment 1 of your payment plan — $300.00 due" in touches_sent()[0].subject
    # Paid on time: the next reminder is for instalment 2, 3 days before it.
    payments.payment_record(invoice_id=invoice.pk, amount=Decimal("300"), received_on=TODAY)
    sent = run_days(TODAY + timedelta(days=1), TODAY + timedelta(days=45))
    second = TODAY + timedelta(days=30)
    assert sent == {
        second - timedelta(days=3): [("email", 1)],
        second + timedelta(days=1): [("email", 2), ("sms", 2)],
    }
    assert "Instalment 2 for Invoice" in touches_sent()[-2].subject
    assert BillingTask.objects.get().kind == BillingTaskKind.CALL  # day 10 after it


def test_a_missed_instalment_is_one_outbound_event_however_many_touches_follow(partner, broker):
    WebhookSubscription.objects.create(
        name="Ledger",
        url="https://ledger.example/hook",
        secret=new_secret(),
        event_types=[WebhookEventType.INSTALMENT_MISSED],
    )
    invoice = issue(partner, amount="900.00")
    followups.instalment_plan_create(
        invoice_id=invoice.pk, count=3, first_due_on=TODAY, every_days=30
    )
    run_days(
        TODAY - timedelta(days=5), TODAY + timedelta(days=15)
    )  # instalment 1 reminded, missed, called

    missed = [e.payload["data"] for e in WebhookEvent.objects.order_by("sequence")]
    assert [(d["instalment"]["number"], d["instalment"]["days_overdue"]) for d in missed] == [
        (1, 1)
    ]
    assert missed[0]["instalment"]["still_owed"] == "300.00"
    assert missed[0]["invoice"]["number"] == invoice.number


@pytest.mark.parametrize("paid_on_day", [0, 1, 14, 15, 29, 30])
def test_paying_in_full_at_any_stage_stops_the_sequence_at_once(partner, broker, paid_on_day):
    invoice = issue(partner)
    run_days(DUE, DUE + timedelta(days=paid_on_day))
    before = len(touches_sent())
    payments.payment_record(
        invoice_id=invoice.pk,
        amount=invoice.total,
        received_on=DUE + timedelta(days=paid_on_day),
    )
    assert run_days(DUE + timedelta(days=paid_on_day + 1), DUE + timedelta(days=60)) == {}
    assert len(touches_sent()) == before
    assert FollowUpState.objects.get(invoice=invoice).next_touch_on is None


def test_a_touch_stored_but_not_sent_is_dropped_once_paid(partner, broker):
    invoice = issue(partner)
    followups.followups_run(today=DUE + timedelta(days=1))
    payments.payment_record(invoice_id=invoice.pk, amount=invoice.total, received_on=TODAY)
    from notifications.services import notification_send

    pending = touches_sent()[0]
    assert notification_send(notification_id=pending.pk) == "skipped"


def test_a_partial_payment_is_acknowledged_and_restarts_from_touch_1(partner, broker):
    invoice = issue(partner)
    run_days(DUE, DUE + timedelta(days=20))  # touches 1 and 2
    paid_on = DUE + timedelta(days=20)
    payments.payment_record(invoice_id=invoice.pk, amount=Decimal("400"), received_on=paid_on)
    ack = Notification.objects.get(template=NotificationTemplate.PAYMENT_RECEIVED)
    assert "$400.00 received" in ack.subject and "$600.00 remains" in ack.subject
    assert "Balance:       $600.00" in ack.body
    sent = run_days(paid_on + timedelta(days=1), paid_on + timedelta(days=40))
    assert sent == {
        paid_on + timedelta(days=1): [("email", 1)],
        paid_on + timedelta(days=15): [("email", 2), ("sms", 2)],
        paid_on + timedelta(days=30): [("email", 3)],
    }
    restarted = FollowUpTouch.objects.filter(cycle=2).order_by("sent_on").first()
    assert restarted.balance == Decimal("600.00") and "Partial payment" in restarted.reason


def test_catch_up_after_downtime_sends_only_the_touch_due_now_once(partner, broker):
    invoice = issue(partner)
    # The scheduler was down from the due date until day 22: one run on day 22.
    followups.followups_run(today=DUE + timedelta(days=22))
    followups.followups_run(today=DUE + timedelta(days=22))
    assert [(n.channel, n.step) for n in touches_sent()] == [("email", 2), ("sms", 2)]
    assert list(FollowUpTouch.objects.values_list("step__position", flat=True)) == [2]
    sent = run_days(DUE + timedelta(days=23), DUE + timedelta(days=40))
    assert sent == {DUE + timedelta(days=30): [("email", 3)]}
    assert FollowUpTouch.objects.filter(invoice=invoice).count() == 2


def test_running_every_hour_sends_each_touch_once(partner, broker):
    issue(partner)
    for _ in range(5):
        followups.followups_run(today=DUE + timedelta(days=1))
    assert len(touches_sent()) == 1
    assert FollowUpTouch.objects.count() == 1


def test_one_email_per_client_lists_every_invoice_with_the_total(partner, broker):
    client = client_with()
    first = issue(partner, client=client, amount="100.00")
    second = issue(partner, client=client, amount="250.50")
    other = issue(partner, amount="75.00")
    followups.followups_run(today=DUE + timedelta(days=1))
    emails = [n for n in touches_sent() if n.channel == Channel.EMAIL]
    assert len(emails) == 2
    mine = next(n for n in emails if n.recipient == client.email and other.number not in n.body)
    assert first.number in mine.body and second.number in mine.body
    assert "Total: $350.50" in mine.body
    assert mine.body.count("Pay online:") == 1 and "/s/" in mine.body  # one statement link
    assert FollowUpTouch.objects.filter(message__client=client).count() == 2


def test_an_excluded_client_and_a_small_balance_get_nothing(partner, broker):
    excluded = client_with()
    ClientBillingProfile.objects.create(client=excluded, exclude_from_reminders=True)
    small = client_with()
    ClientBillingProfile.objects.create(client=small, min_reminder_balance=Decimal("50"))
    issue(partner, client=excluded)
    issue(partner, client=small, amount="49.99")
    assert run_days(DUE, DUE + timedelta(days=40)) == {}
    assert not FollowUpTouch.objects.exists()


def test_a_client_chosen_sequence_overrides_its_kind(partner, broker):
    from billing.models import FollowUpSequence

    client = client_with()
    ClientBillingProfile.objects.create(
        client=client, followup_sequence=FollowUpSequence.objects.get(kind="retainer")
    )
    issue(partner, client=client)
    sent = run_days(DUE, DUE + timedelta(days=16))
    assert sent == {DUE + timedelta(days=5): [("email", 1)]}


def test_an_emailed_dispute_pauses_and_resolving_restarts(partner, broker):
    invoice = issue(partner)
    run_days(DUE, DUE + timedelta(days=5))  # touch 1
    intake = disputes.dispute_open_from_email(
        sender="AP@client.example",
        subject=f"Re: Payment reminder — Invoice {invoice.number}",
        body="These hours look incorrect to us.",
        received_at=timezone.now(),
    )
    assert len(intake.disputes) == 1
    task = BillingTask.objects.get(kind=BillingTaskKind.DISPUTE)
    assert task.title == (
        f"Billing dispute — {invoice.client.name} — Invoice {invoice.number} — requires review"
    )
    state = FollowUpState.objects.get(invoice=invoice)
    assert state.paused == PauseReason.DISPUTE and state.next_touch_on is None
    assert run_days(DUE + timedelta(days=6), DUE + timedelta(days=40)) == {}  # no hold notice
    resolved_on = DUE + timedelta(days=40)
    disputes.dispute_resolve(
        dispute_id=intake.disputes[0].pk,
        user=partner.user,
        outcome=DisputeOutcome.STANDS,
        note="Hours checked with the client.",
        today=resolved_on,
    )
    task.refresh_from_db()
    assert not task.is_open
    sent = run_days(resolved_on, resolved_on + timedelta(days=16))
    assert sent == {
        resolved_on + timedelta(days=1): [("email", 1)],
        resolved_on + timedelta(days=15): [("email", 2), ("sms", 2)],
    }


def test_a_reply_without_a_keyword_opens_nothing(partner, broker):
    invoice = issue(partner)
    intake = disputes.dispute_open_from_email(
        sender=invoice.client.email,
        subject="Re: reminder",
        body="Paid yesterday, thanks!",
        received_at=timezone.now(),
    )
    assert intake.disputes == [] and "keyword" in intake.reason
    assert not BillingTask.objects.exists()


def test_a_line_dispute_keeps_chasing_the_undisputed_balance(partner, broker):
    invoice = issue(partner, lines=["700.00", "300.00"])
    disputed = invoice.lines.get(amount=Decimal("300.00"))
    disputes.dispute_open(invoice_id=invoice.pk, user=partner.user, line_ids=[disputed.pk])
    invoice.refresh_from_db()
    assert invoice.disputed_amount == Decimal("300.00")
    assert invoice.chaseable_balance == Decimal("700.00")
    sent = run_days(DUE, DUE + timedelta(days=2))
    assert sent == {DUE + timedelta(days=1): [("email", 1)]}
    assert "$700.00" in touches_sent()[0].subject + touches_sent()[0].body
    assert FollowUpTouch.objects.get().balance == Decimal("700.00")


def test_crediting_a_dispute_writes_it_down_and_may_settle_the_invoice(partner, broker):
    invoice = issue(partner)
    dispute = disputes.dispute_open(invoice_id=invoice.pk, user=partner.user)
    disputes.dispute_resolve(
        dispute_id=dispute.pk, user=partner.user, outcome=DisputeOutcome.CREDITED, note="Goodwill"
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.total == 0
    assert invoice.lines.filter(write_down_reason="dispute").count() == 1


def test_a_kept_promise_sends_nothing_a_broken_one_one_touch(partner, broker):
    kept = issue(partner)
    broken = issue(partner)
    run_days(DUE, DUE + timedelta(days=2))
    promised = DUE + timedelta(days=10)
    for invoice in (kept, broken):
        followups.promise_record(
            invoice_id=invoice.pk,
            user=partner.user,
            promised_on=promised,
            today=DUE + timedelta(days=2),
        )
    payments.payment_record(invoice_id=kept.pk, amount=kept.total, received_on=promised)
    sent = run_days(DUE + timedelta(days=3), promised + timedelta(days=10))
    # Only the broken one: one touch the day after the date, none for the kept one.
    assert sent == {promised + timedelta(days=1): [("email", 1)]}
    assert kept.promises.get().status == PromiseStatus.KEPT
    assert broken.promises.get().status == PromiseStatus.BROKEN
    assert "not kept" in FollowUpTouch.objects.filter(invoice=broken).last().reason


def test_no_mobile_or_no_twilio_means_no_text(partner, broker, settings):
    issue(partner, client=client_with(mobile=""))
    settings.TWILIO_FROM = ""
    issue(partner)
    run_days(DUE, DUE + timedelta(days=16))
    assert Counter(n.channel for n in touches_sent()) == {"email": 4}


def test_the_runs_links_open_the_invoice_and_the_statement():
    from billing.links import PublicLinks, read_invoice_token, read_statement_token

    links = PublicLinks()
    invoice_url, statement_url = links.invoice(41), links.statement(7)
    assert "/i/" in invoice_url and "/s/" in statement_url
    assert read_invoice_token(invoice_url.rstrip("/").rsplit("/", 1)[1]) == 41
    assert read_statement_token(statement_url.rstrip("/").rsplit("/", 1)[1]) == 7


def test_the_runs_links_are_the_tokens_djangos_signer_makes(monkeypatch):
    """The batch signer's shortcut writes exactly what ``signing.dumps`` would."""
    import time

    from django.core import signing

    from billing.links import SALT, STATEMENT_SALT, PublicLinks

    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.25)  # one second for both
    links = PublicLinks()
    for pk in (1, 41, 987_654_321):
        invoice_token = links.invoice(pk).rstrip("/").rsplit("/", 1)[1]
        statement_token = links.statement(pk).rstrip("/").rsplit("/", 1)[1]
        assert invoice_token == signing.TimestampSigner(salt=SALT).sign_object({"i": pk})
        assert statement_token == signing.TimestampSigner(salt=STATEMENT_SALT).sign_object(
            {"c": pk}
        )


def test_the_beat_job_queues_each_client_batch_and_each_batch_sends_once(
    partner, broker, django_capture_on_commit_callbacks
):
    """The hourly job fans the day's run out, a task per client batch; a batch queued
    twice (the next hour's run before the first drained) sends nothing the second time,
    and the next hour finds nothing left to queue."""
    from billing import tasks
    from billing.followup_run import BATCH_TASK, followups_fan_out

    yesterday = TODAY - timedelta(days=1)  # touch 1 is due today
    invoices = [issue(partner, client=client_with(mobile=""), due_on=yesterday) for _ in range(5)]
    morning = timezone.make_aware(
        datetime.combine(TODAY, time(hour=settings.FOLLOWUP_SEND_HOUR, minute=5))
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert followups_fan_out(now=morning - timedelta(hours=1)) == 0  # before the hour
        assert followups_fan_out(now=morning, client_batch=2) == 3
    batches = broker.named(BATCH_TASK)
    assert sorted(pk for client_ids, _ in batches for pk in client_ids) == sorted(
        i.client_id for i in invoices
    )
    for client_ids, day in batches + batches:
        tasks.followups_batch_task(client_ids, day)

    assert sorted(FollowUpTouch.objects.values_list("invoice_id", flat=True)) == sorted(
        i.pk for i in invoices
    )
    assert len(touches_sent()) == 5
    assert followups_fan_out(now=morning + timedelta(hours=1)) == 0
