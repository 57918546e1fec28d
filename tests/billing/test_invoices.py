"""Invoice drafts from the billing milestones, the partner's approval, lines and totals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import invoices, services
from billing.choices import InvoiceOrigin, InvoiceStatus, LineKind, TimeEntryStatus
from billing.invoices import invoice_create_for_engagement, invoice_recompute
from billing.models import Invoice, InvoiceLine, RateOverride, TimeEntry
from clients.choices import BillingModel
from core.exceptions import ApplicationError, NotPermitted
from engagements.choices import Milestone
from engagements.milestones import engagement_transition
from engagements.models import MilestoneSource, WorkType
from notifications.choices import NotificationTemplate
from notifications.models import Notification
from notifications.services import notification_send
from tests.billing.conftest import complete, hold, open_engagement, preparer, reviewer
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def approve_all(member) -> None:
    for entry in TimeEntry.objects.filter(staff_member=member, status=TimeEntryStatus.DRAFT):
        services.time_entry_approve(entry_id=entry.pk, staff=member)


def finished(code: str, alice, bob, *, approve_prep: bool = True, client=None, hours: str = "8"):
    """An engagement through preparation (alice) and review (bob): final review complete."""
    engagement = open_engagement(code, hours=hours, client=client)
    complete(hold(preparer(engagement), alice), alice)
    if approve_prep:
        approve_all(alice)
    complete(hold(reviewer(engagement), bob), bob)
    engagement.refresh_from_db()
    return engagement


def test_final_review_complete_drafts_an_hourly_invoice_from_approved_time(alice, bob, broker):
    engagement = finished("1120", alice, bob)
    assert engagement.milestone == Milestone.REVIEW_COMPLETE
    invoice = Invoice.objects.get(engagement=engagement)
    assert (invoice.status, invoice.origin) == (InvoiceStatus.DRAFT, InvoiceOrigin.MILESTONE)
    [line] = invoice.lines.all()
    assert line.kind == LineKind.TIME
    assert (line.quantity, line.unit_price, line.amount) == (
        Decimal("8"),
        Decimal("150"),
        Decimal("1200"),
    )
    assert invoice.total == Decimal("1200") and invoice.hours == Decimal("8")
    # The reviewer's draft joins the invoice once approved.
    approve_all(bob)
    invoice.refresh_from_db()
    assert invoice.total == Decimal("1500") and invoice.lines.count() == 2
    assert invoice.standard_amount == Decimal("1500")


def test_client_rate_applies_on_the_invoice(alice, bob, broker):
    client = ClientFactory()
    RateOverride.objects.create(client=client, staff_member=alice, hourly_rate=Decimal("99.99"))
    engagement = finished("1120", alice, bob, client=client, hours="1.25")
    [line] = Invoice.objects.get(engagement=engagement).lines.all()
    assert line.unit_price == Decimal("99.99")
    assert line.amount == Decimal("124.99")  # 124.9875 rounds half up to the cent


def test_fixed_fee_drafts_the_fee_with_time_kept_internal(alice, bob, broker):
    engagement = finished("1040", alice, bob)
    invoice = Invoice.objects.get(engagement=engagement)
    [line] = invoice.lines.all()
    assert (line.kind, line.amount) == (LineKind.FEE, Decimal("650.00"))
    assert invoice.hours == Decimal("3.5")  # the preparer's approved internal time
    assert invoice.standard_amount == Decimal("525.00")  # 3.5 h at $150


def test_one_automated_draft_per_engagement(alice, bob, broker):
    engagement = finished("1120", alice, bob)
    assert (
        invoice_create_for_engagement(engagement_id=engagement.pk, origin=InvoiceOrigin.MILESTONE)
        is None
    )
    assert (
        invoice_create_for_engagement(
            engagement_id=engagement.pk, origin=InvoiceOrigin.RETURN_FILED
        )
        is None
    )
    assert Invoice.objects.filter(engagement=engagement).count() == 1


def test_a_return_marked_filed_drafts_the_invoice(alice, bob, broker):
    work_type = WorkType.objects.get(code="1099")
    template = [dict(step) for step in work_type.milestone_template]
    for step in template:
        if step.get("on_enter") == "invoice":
            del step["on_enter"]
    at = [s["code"] for s in template].index("review_complete") + 1
    template.insert(at, {"code": "filed", "label": "Return filed"})
    work_type.milestone_template = template
    work_type.save()
    engagement = finished("1099", alice, bob)
    assert not Invoice.objects.filter(engagement=engagement).exists()
    engagement_transition(engagement_id=engagement.pk, to="filed", source=MilestoneSource.BUTTON)
    invoice = Invoice.objects.get(engagement=engagement)
    assert invoice.origin == InvoiceOrigin.RETURN_FILED and invoice.total == Decimal("150")


def test_retainer_clients_get_one_invoice_per_month(broker):
    client = ClientFactory(billing_model=BillingModel.RETAINER, retainer_amount=Decimal("1250.50"))
    ClientFactory()  # hourly: none
    assert invoices.retainer_invoices_create(today=date(2026, 11, 1)) == 1
    assert invoices.retainer_invoices_create(today=date(2026, 11, 1)) == 0
    assert invoices.retainer_invoices_create(today=date(2026, 11, 17)) == 0
    assert invoices.retainer_invoices_create(today=date(2026, 12, 1)) == 1
    november = Invoice.objects.get(client=client, period=date(2026, 11, 1))
    assert november.total == Decimal("1250.50") and november.origin == InvoiceOrigin.RETAINER
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            client=client, origin=InvoiceOrigin.RETAINER, period=date(2026, 11, 1)
        )


def test_retainer_clients_engagements_draft_no_invoice(alice, bob, broker):
    client = ClientFactory(billing_model=BillingModel.RETAINER, retainer_amount=Decimal("900"))
    engagement = finished("1120", alice, bob, client=client)
    assert not Invoice.objects.filter(engagement=engagement).exists()
    assert set(
        TimeEntry.objects.filter(engagement=engagement).values_list("internal_only", flat=True)
    ) == {True}


@pytest.mark.parametrize("who", ["alice", "bob", "manager"])
def test_only_partners_approve(alice, bob, manager, partner, broker, who):
    engagement = finished("1120", alice, bob)
    invoice = Invoice.objects.get(engagement=engagement)
    person = {"alice": alice, "bob": bob, "manager": manager}[who]
    with pytest.raises(NotPermitted):
        invoices.invoice_approve(invoice_id=invoice.pk, user=person.user)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT and invoice.number == ""


def test_approval_numbers_sends_and_closes_the_engagement(alice, bob, partner, broker, settings):
    settings.INVOICE_NUMBER_PREFIX = "INV-"
    engagement = finished("1120", alice, bob)
    invoice = Invoice.objects.get(engagement=engagement)
    approved = invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user)
    invoice = approved.invoice
    assert approved.emailed is True
    assert invoice.status == InvoiceStatus.ISSUED and invoice.number.startswith("INV-")
    assert invoice.issued_on == timezone.localdate()
    assert (invoice.due_on - invoice.issued_on).days == 30
    engagement.refresh_from_db()
    assert engagement.milestone == Milestone.CLOSED  # invoiced, delivered, closed
    assert engagement.transitions.filter(to_milestone=Milestone.INVOICED).exists()
    # Approving again (a double click) changes nothing.
    again = invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user)
    assert again.invoice.number == invoice.number and again.emailed is False
    # The client's email: payment instructions, the link, the PDF attached.
    notification = Notification.objects.get(template=NotificationTemplate.INVOICE_ISSUED)
    assert notification.recipient == engagement.client.email
    assert "How to pay" in notification.body and "/i/" in notification.body
    assert notification_send(notification_id=notification.pk) == "sent"
    [email] = mail.outbox
    [(filename, content, mimetype)] = email.attachments
    assert filename == f"invoice-{invoice.number}.pdf" and mimetype == "application/pdf"
    assert content[:5] == b"%PDF-"


def test_numbers_are_sequential_across_approvals(alice, bob, partner, broker):
    numbers = []
    for _ in range(3):
        engagement = finished("1120", alice, bob)
        invoice = Invoice.objects.get(engagement=engagement)
        numbers.append(
            invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user).invoice.number
        )
    values = [int(n.removeprefix("INV-")) for n in numbers]
    assert values == list(range(values[0], values[0] + 3))


def test_an_empty_draft_cannot_be_approved(alice, bob, partner, broker):
    engagement = finished("1120", alice, bob, approve_prep=False)
    invoice = Invoice.objects.get(engagement=engagement)
    assert invoice.total == 0
    with pytest.raises(ApplicationError, match="nothing to bill"):
        invoices.invoice_approve(invoice_id=invoice.pk, user=partner.user)


def test_reject_returns_the_time_to_unbilled(alice, bob, partner, broker):
    engagement = finished("1120", alice, bob)
    invoice = Invoice.objects.get(engagement=engagement)
    with pytest.raises(ApplicationError):
        invoices.invoice_reject(invoice_id=invoice.pk, user=partner.user, note="  ")
    invoices.invoice_reject(invoice_id=invoice.pk, user=partner.user, note="Write down the review")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.REJECTED
    assert not TimeEntry.objects.filter(invoice=invoice).exists()
    # The released time can be drafted again (a rejected draft does not hold the engagement).
    again = invoice_create_for_engagement(
        engagement_id=engagement.pk, origin=InvoiceOrigin.MILESTONE
    )
    assert again is not None and again.pk != invoice.pk and again.total == Decimal("1200")


def test_line_edits_recompute_the_total_and_realization(alice, bob, partner, broker):
    engagement = finished("1120", alice, bob)
    invoice = Invoice.objects.get(engagement=engagement)
    [line] = invoice.lines.all()
    invoices.invoice_line_update(
        invoice_id=invoice.pk,
        line_id=line.pk,
        user=partner.user,
        description="Corporate return",
        quantity=Decimal("7.5"),
        unit_price=Decimal("150"),
    )
    invoices.invoice_line_add(
        invoice_id=invoice.pk, user=partner.user, description="Courtesy", amount=Decimal("-25.55")
    )
    invoice.refresh_from_db()
    assert invoice.total == Decimal("1099.45")
    with pytest.raises(ApplicationError):
        invoices.invoice_line_add(
            invoice_id=invoice.pk,
            user=partner.user,
            description="Too much",
            amount=Decimal("-5000"),
        )
    invoice.refresh_from_db()
    assert invoice.total == Decimal("1099.45")
    with pytest.raises(NotPermitted):
        invoices.invoice_line_add(
            invoice_id=invoice.pk, user=alice.user, description="x", amount=Decimal("1")
        )


def test_totals_add_up_to_the_cent(broker):
    client = ClientFactory()
    invoice = Invoice.objects.create(client=client, origin=InvoiceOrigin.MANUAL)
    for position, (quantity, price) in enumerate(
        [("1.25", "133.33"), ("0.33", "187.50"), ("2.10", "99.99")], start=1
    ):
        q, p = Decimal(quantity), Decimal(price)
        InvoiceLine.objects.create(
            invoice=invoice,
            kind=LineKind.TIME,
            description="x",
            quantity=q,
            unit_price=p,
            amount=(q * p).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP"),
            position=position,
        )
    invoice_recompute(invoice)
    assert invoice.total == Decimal("166.66") + Decimal("61.88") + Decimal("209.98")


def test_database_refuses_inconsistent_money(broker):
    invoice = Invoice.objects.create(client=ClientFactory(), origin=InvoiceOrigin.MANUAL)
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(
            invoice=invoice,
            kind=LineKind.TIME,
            description="x",
            quantity=Decimal("2"),
            unit_price=Decimal("10"),
            amount=Decimal("25"),
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(total=Decimal("10"), amount_paid=Decimal("11"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.ISSUED)  # no number
