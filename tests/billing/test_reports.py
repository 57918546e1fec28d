"""The billing reports: figures on known data, who sees what, CSV content, query budgets."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import reports
from billing.choices import InvoiceOrigin, InvoiceStatus, TimeEntrySource, TimeEntryStatus
from billing.models import Invoice, InvoiceLine, RateOverride, TimeEntry
from core.csv_export import csv_cell
from tests.factories import ClientFactory, EngagementFactory, StaffMemberFactory, TaskFactory

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 12, 7)
_numbers = iter(range(1, 10**6))


def issued(client, *, due_on: date, total: str, paid: str = "0", **kwargs) -> Invoice:
    n = next(_numbers)
    due = due_on
    return Invoice.objects.create(
        client=client,
        origin=kwargs.pop("origin", InvoiceOrigin.MANUAL),
        status=kwargs.pop("status", InvoiceStatus.ISSUED),
        number=f"T-{n:05d}",
        issued_on=min(due - timedelta(days=30), AS_OF),
        due_on=due,
        total=Decimal(total),
        amount_paid=Decimal(paid),
        **kwargs,
    )


def approved_time(member, client, hours: str, *, engagement=None, **kwargs) -> TimeEntry:
    return TimeEntry.objects.create(
        staff_member=member,
        client=client,
        engagement=engagement,
        work_type=engagement.work_type if engagement else None,
        date=kwargs.pop("on", AS_OF - timedelta(days=3)),
        hours=Decimal(hours),
        source=TimeEntrySource.MANUAL,
        status=TimeEntryStatus.APPROVED,
        approved_at=kwargs.pop("approved_at", timezone.now()),
        **kwargs,
    )


def mine(manager_or_report, client) -> None:
    """Give ``client`` work held by ``manager_or_report`` (what puts it in a manager's scope)."""
    TaskFactory(engagement=EngagementFactory(client=client), assignee=manager_or_report)


# --- AR aging ------------------------------------------------------------------------------


def test_aging_puts_each_balance_in_its_bucket_on_the_boundary_days():
    client = ClientFactory(name="Boundary Co")
    days = {0: "1", 1: "2", 30: "4", 31: "8", 60: "16", 61: "32", 90: "64", 91: "128"}
    for overdue, amount in days.items():
        issued(client, due_on=AS_OF - timedelta(days=overdue), total=amount)
    issued(client, due_on=AS_OF + timedelta(days=10), total="256")  # not yet due

    report = reports.ar_aging(client_ids=None, as_of=AS_OF)

    (row,) = report.rows
    assert row.amounts == (
        Decimal("257"),  # due today and due in 10 days: current
        Decimal("6"),  # 1 and 30 days late
        Decimal("24"),  # 31 and 60
        Decimal("96"),  # 61 and 90
        Decimal("128"),  # 91
    )
    assert row.total == Decimal("511")
    assert row.invoices == 9


def test_aging_counts_the_open_balance_only_of_issued_invoices():
    client = ClientFactory(name="Partly Paid Inc")
    issued(client, due_on=AS_OF - timedelta(days=45), total="1000.00", paid="400.50")
    issued(client, due_on=AS_OF - timedelta(days=45), total="300.00", paid="300.00")
    issued(client, due_on=AS_OF - timedelta(days=45), total="300.00", status=InvoiceStatus.VOID)
    Invoice.objects.create(client=client, origin=InvoiceOrigin.MANUAL, total=Decimal("77"))

    report = reports.ar_aging(client_ids=None, as_of=AS_OF)

    assert [r.amounts for r in report.rows] == [(0, 0, Decimal("599.50"), 0, 0)]
    assert report.total == Decimal("599.50")
    assert "$599.50 owed" in report.chart.summary
    assert "31–60 days $599.50" in report.chart.summary


def test_aging_chart_bars_are_as_long_as_their_share_of_the_largest():
    client = ClientFactory()
    issued(client, due_on=AS_OF, total="100")
    issued(client, due_on=AS_OF - timedelta(days=100), total="50")

    chart = reports.ar_aging(client_ids=None, as_of=AS_OF).chart

    widths = {bar.key: float(bar.width) for bar in chart.bars}
    assert widths["current"] == pytest.approx(2 * widths["over90"])
    assert widths["d30"] == widths["d60"] == widths["d90"] == 0


# --- WIP -----------------------------------------------------------------------------------


def test_wip_values_unbilled_approved_time_at_the_clients_bill_rates(alice, bob):
    client = ClientFactory(name="Rates LLC")
    engagement = EngagementFactory(client=client)
    RateOverride.objects.create(client=client, staff_member=bob, hourly_rate=Decimal("99.50"))
    approved_time(alice, client, "2.5", engagement=engagement)  # 150/h: 375.00
    approved_time(bob, client, "1.5", engagement=engagement)  # client's rate: 149.25
    approved_time(alice, client, "1", engagement=None)  # a call: 150.00
    # Not WIP: internal-only, a draft, already invoiced.
    approved_time(alice, client, "3", engagement=engagement, internal_only=True)
    TimeEntry.objects.create(
        staff_member=alice,
        client=client,
        date=AS_OF,
        hours=Decimal("4"),
        source=TimeEntrySource.MANUAL,
    )
    invoice = issued(client, due_on=AS_OF, total="10")
    approved_time(alice, client, "5", engagement=engagement, invoice=invoice)

    report = reports.wip(client_ids=None)

    (entry,) = report.clients
    assert entry.client_name == "Rates LLC"
    by_label = {line.label: (line.hours, line.value) for line in entry.lines}
    assert by_label == {
        f"{engagement.work_type.name} Dec 2026": (Decimal("4.0"), Decimal("524.25")),
        "No engagement (calls, emails)": (Decimal("1"), Decimal("150.00")),
    }
    assert (report.hours, report.value) == (Decimal("5.0"), Decimal("674.25"))


# --- Scope, pages and CSV ---------------------------------------------------------------


def test_a_manager_sees_only_their_clients_and_a_partner_the_firm(client, manager, partner, alice):
    theirs = ClientFactory(name="Team Client")
    mine(alice, theirs)
    other = ClientFactory(name="Someone Else's Client")
    mine(StaffMemberFactory(), other)
    for each in (theirs, other):
        issued(each, due_on=timezone.localdate() - timedelta(days=5), total="100")
        approved_time(alice, each, "1")

    client.force_login(manager.user)
    for name in ("billing:report-aging", "billing:report-wip"):
        page = client.get(reverse(name)).content.decode()
        assert "Team Client" in page
        assert "Someone Else" not in page
        assert "Your clients only" in page

    client.force_login(partner.user)
    for name in ("billing:report-aging", "billing:report-wip"):
        page = client.get(reverse(name)).content.decode()
        assert "Team Client" in page and "Someone Else" in page


def test_staff_are_refused_the_reports(client, alice):
    client.force_login(alice.user)
    for name in (
        "billing:report-aging",
        "billing:report-aging-csv",
        "billing:report-wip",
        "billing:report-wip-csv",
    ):
        assert client.get(reverse(name)).status_code == 403


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_aging_csv_lists_each_client_with_its_buckets_and_escapes_formulas(client, partner):
    today = timezone.localdate()
    issued(
        ClientFactory(name='=HYPERLINK("http://x")'),
        due_on=today - timedelta(days=40),
        total="10.50",
    )
    issued(ClientFactory(name="Plain Co"), due_on=today, total="20")
    client.force_login(partner.user)

    rows = _csv(client.get(reverse("billing:report-aging-csv")))

    assert rows[0] == [
        "Client", "Open invoices", "Current", "1–30 days", "31–60 days", "61–90 days",
        "Over 90 days", "Total",
    ]  # fmt: skip
    assert rows[1] == [
        '\'=HYPERLINK("http://x")',
        "1",
        "0.00",
        "0.00",
        "10.50",
        "0.00",
        "0.00",
        "10.50",
    ]
    assert rows[2] == ["Plain Co", "1", "20.00", "0.00", "0.00", "0.00", "0.00", "20.00"]
    assert rows[3] == ["Total", "2", "20.00", "0.00", "10.50", "0.00", "0.00", "30.50"]


def test_wip_csv_has_a_line_per_engagement_and_the_total(client, partner, alice):
    target = ClientFactory(name="+Plus Client")
    approved_time(alice, target, "2")
    client.force_login(partner.user)

    rows = _csv(client.get(reverse("billing:report-wip-csv")))

    assert rows[0] == ["Client", "Engagement", "Hours", "Value", "Oldest entry"]
    assert rows[1][:4] == ["'+Plus Client", "No engagement (calls, emails)", "2.00", "300.00"]
    assert rows[2][:4] == ["Total", "", "2.00", "300.00"]


def test_csv_cells_keep_numbers_and_escape_text_that_reads_as_a_formula():
    assert csv_cell(Decimal("-120")) == "-120.00"
    assert csv_cell(Decimal("12.5")) == "12.50"
    assert [csv_cell(t) for t in ("-2+3", "@SUM(A1)", "\tx", "Fine", "")] == [
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "Fine",
        "",
    ]


@pytest.mark.parametrize("name", ["billing:report-aging", "billing:report-wip"])
def test_report_pages_answer_in_the_same_queries_whatever_the_rows(
    client, partner, manager, alice, django_assert_max_num_queries, name
):
    def add(n: int) -> None:
        for _ in range(n):
            each = ClientFactory()
            mine(alice, each)
            engagement = EngagementFactory(client=each)
            issued(each, due_on=timezone.localdate() - timedelta(days=20), total="50")
            approved_time(alice, each, "1", engagement=engagement)
            approved_time(StaffMemberFactory(), each, "2", engagement=engagement)

    add(2)
    for who in (partner, manager):
        client.force_login(who.user)
        client.get(reverse(name))  # warm the session and the role cache
        with django_assert_max_num_queries(16) as few:
            client.get(reverse(name))
        add(25)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(reverse(name)).status_code == 200


def test_report_pages_swap_only_their_body_for_htmx(client, partner):
    client.force_login(partner.user)
    response = client.get(reverse("billing:report-aging"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="report-body">')
    assert "<nav" not in body


# --- Realization, collection, days to pay -------------------------------------------------

START, END = date(2026, 11, 1), date(2026, 11, 30)


def billed(client, lines: list[tuple[str, str]], *, standard: str, paid: str = "0", **kwargs):
    """An invoice dated November 10 (or ``issued_on``) with ``lines`` of (kind, amount)."""
    issued_on = kwargs.pop("issued_on", date(2026, 11, 10))
    total = sum((Decimal(amount) for _, amount in lines), Decimal("0"))
    invoice = issued(
        client,
        due_on=issued_on + timedelta(days=30),
        total=str(total),
        paid=paid,
        standard_amount=Decimal(standard),
        approved_at=timezone.make_aware(timezone.datetime(2026, 12, 1, 12)),
        **kwargs,
    )
    for position, (kind, amount) in enumerate(lines, start=1):
        InvoiceLine.objects.create(
            invoice=invoice, kind=kind, description=kind, unit_price=Decimal(amount),
            amount=Decimal(amount), position=position,
        )  # fmt: skip
    return invoice


def test_realization_and_collection_by_work_type_partner_and_client(partner):
    from engagements.models import WorkType

    individual, corporate = WorkType.objects.get(code="1040"), WorkType.objects.get(code="1120")
    pat_client = ClientFactory(name="Pat's Client", relationship_partner=partner)
    loose = ClientFactory(name="Loose Client")
    # 1040, hourly: 800 of work on 1,000 standard, a 50 late fee; 425 paid.
    billed(
        pat_client, [("time", "800"), ("late_fee", "50")], standard="1000", paid="425",
        engagement=EngagementFactory(client=pat_client, work_type=individual),
    )  # fmt: skip
    # 1120, fixed fee 1,100 for time worth 1,000 at standard; paid in full.
    billed(
        loose, [("fee", "1100")], standard="1000", paid="1100", status=InvoiceStatus.PAID,
        engagement=EngagementFactory(client=loose, work_type=corporate),
    )  # fmt: skip
    # A retainer: billed, no time to compare; nothing paid yet.
    billed(
        pat_client,
        [("retainer", "500")],
        standard="0",
        origin=InvoiceOrigin.RETAINER,
        period=date(2026, 11, 1),
    )
    # Not in the period's figures: dated in October, and voided.
    billed(loose, [("time", "999")], standard="999", issued_on=date(2026, 10, 31))
    billed(loose, [("time", "999")], standard="1", status=InvoiceStatus.VOID)

    report = reports.realization_report(client_ids=None, start=START, end=END)

    firm = report.firm
    assert (firm.invoices, firm.billed, firm.collected) == (3, Decimal("2450"), Decimal("1525"))
    assert firm.realization == Decimal("0.9500")  # (800 + 1,100) / 2,000
    assert firm.collection == Decimal("0.6224")  # 1,525 / 2,450
    by_type = {f.label: (f.realization, f.collection) for f in report.by_work_type}
    assert by_type == {
        individual.name: (Decimal("0.8000"), Decimal("0.5000")),
        corporate.name: (Decimal("1.1000"), Decimal("1.0000")),
        "Monthly retainer": (None, Decimal("0")),
    }
    by_partner = {f.label: (f.invoices, f.billed) for f in report.by_partner}
    assert by_partner == {
        "Pat Partner": (2, Decimal("1350")),
        "No relationship partner": (1, Decimal("1100")),
    }
    by_client = {f.label: f.realization for f in report.by_client}
    assert by_client == {"Loose Client": Decimal("1.1000"), "Pat's Client": Decimal("0.8000")}


def test_days_to_pay_counts_issue_to_the_last_payment_of_invoices_paid_in_the_period(partner):
    from billing.choices import PaymentMethod, PaymentStatus
    from billing.models import Payment

    client = ClientFactory(name="Payer")

    def paid(issued_on: date, *received: date) -> None:
        invoice = issued(
            client,
            due_on=issued_on + timedelta(days=30),
            total="100",
            paid="100",
            status=InvoiceStatus.PAID,
        )
        Invoice.objects.filter(pk=invoice.pk).update(issued_on=issued_on)
        for day in received:
            Payment.objects.create(
                invoice=invoice, amount=Decimal("50"), received_on=day, method=PaymentMethod.CHECK,
                status=PaymentStatus.APPLIED, applied_at=timezone.now(),
            )  # fmt: skip

    paid(date(2026, 10, 20), date(2026, 10, 30), date(2026, 11, 9))  # 20 days
    paid(date(2026, 11, 1), date(2026, 11, 4), date(2026, 11, 6))  # 5 days
    paid(date(2026, 9, 1), date(2026, 9, 10), date(2026, 10, 1))  # paid before the period

    report = reports.days_to_pay(client_ids=None, start=START, end=END)

    assert (report.firm.invoices, report.firm.average_days) == (2, Decimal("12.5"))
    assert [(d.label, d.average_days) for d in report.by_client] == [("Payer", Decimal("12.5"))]


# --- Leakage -------------------------------------------------------------------------------


def test_leakage_counts_each_way_time_and_money_leak_in_the_week(partner, alice):
    from billing import invoices
    from billing.choices import LineKind
    from engagements.choices import TaskStatus

    week = (date(2026, 11, 23), date(2026, 11, 29))
    inside = timezone.make_aware(timezone.datetime(2026, 11, 24, 10))
    client = ClientFactory(name="Leaky LLC")
    engagement = EngagementFactory(client=client)

    def drafted(hours: str, **kwargs) -> TimeEntry:
        entry = TimeEntry.objects.create(
            staff_member=alice, client=client, engagement=engagement, date=week[0],
            hours=Decimal(hours), source=TimeEntrySource.COMPLETION, **kwargs,
        )  # fmt: skip
        TimeEntry.objects.filter(pk=entry.pk).update(created_at=inside)
        return entry

    drafted("2")
    drafted("3", status=TimeEntryStatus.APPROVED, approved_at=inside)
    on_invoice = issued(client, due_on=date(2026, 12, 24), total="450")
    drafted("1.5", status=TimeEntryStatus.APPROVED, approved_at=inside, invoice=on_invoice)
    Invoice.objects.filter(pk=on_invoice.pk).update(
        created_at=inside, sent_at=inside, approved_at=inside
    )
    # Completed in the week: one with approved time, one without.
    done = timezone.make_aware(timezone.datetime(2026, 11, 25, 16))
    TaskFactory(
        engagement=engagement, assignee=alice, status=TaskStatus.COMPLETED, completed_at=done
    )
    with_time = TaskFactory(
        engagement=engagement, assignee=alice, status=TaskStatus.COMPLETED, completed_at=done
    )
    approved_time(
        alice, client, "1", engagement=engagement, task=with_time, on=week[1], approved_at=inside
    )
    # A draft a partner writes down twice (an edit with a reason, an adjustment), approved
    # in the week but never sent.
    draft = Invoice.objects.create(client=client, origin=InvoiceOrigin.MANUAL)
    line = InvoiceLine.objects.create(
        invoice=draft, kind=LineKind.TIME, description="Prep", quantity=Decimal("10"),
        unit_price=Decimal("150"), amount=Decimal("1500"),
    )  # fmt: skip
    invoices.invoice_line_update(
        invoice_id=draft.pk, line_id=line.pk, user=partner.user, description="Prep",
        quantity=Decimal("6"), unit_price=Decimal("150"), write_down_reason="efficiency",
    )  # fmt: skip
    invoices.invoice_line_add(
        invoice_id=draft.pk, user=partner.user, description="Courtesy", amount=Decimal("-100"),
        write_down_reason="courtesy",
    )  # fmt: skip
    Invoice.objects.filter(pk=draft.pk).update(
        status=InvoiceStatus.ISSUED,
        number="T-DRAFT",
        issued_on=week[0],
        due_on=week[1],
        approved_at=inside,
    )

    report = reports.leakage_report(client_ids=None, start=week[0], end=week[1])

    # Four entries for work done in the week (the task's hour too), three approved since.
    assert (report.drafted.count, report.drafted.amount) == (4, Decimal("7.5"))
    assert (report.drafted_approved.count, report.drafted_invoiced.count) == (3, 1)
    assert report.approved.count == 3  # the two drafted and approved, and the task's hour
    assert report.invoices_drafted.count == 1
    assert report.tasks_without_time.count == 1
    assert report.approved_unbilled.count == 2
    assert [u.number for u in report.unsent] == ["T-DRAFT"]
    assert {(w.reason, w.amount) for w in report.write_downs} == {
        ("Took longer than it should", Decimal("600.00")),
        ("Courtesy discount", Decimal("100.00")),
    }
    assert report.written_down == Decimal("700.00")


def test_raising_a_line_records_no_write_down(partner):
    from billing import invoices
    from billing.choices import LineKind

    draft = Invoice.objects.create(client=ClientFactory(), origin=InvoiceOrigin.MANUAL)
    line = InvoiceLine.objects.create(
        invoice=draft, kind=LineKind.TIME, description="Prep", quantity=Decimal("2"),
        unit_price=Decimal("100"), amount=Decimal("200"),
    )  # fmt: skip
    invoices.invoice_line_update(
        invoice_id=draft.pk, line_id=line.pk, user=partner.user, description="Prep",
        quantity=Decimal("3"), unit_price=Decimal("100"), write_down_reason="scope",
    )  # fmt: skip
    line.refresh_from_db()
    assert (line.written_down, line.write_down_reason) == (Decimal("0"), "")
    invoices.invoice_line_update(
        invoice_id=draft.pk, line_id=line.pk, user=partner.user, description="Prep",
        quantity=Decimal("1"), unit_price=Decimal("100"),
    )  # fmt: skip
    line.refresh_from_db()
    assert (line.written_down, line.write_down_reason) == (Decimal("200.00"), "other")


# --- Follow-up status ---------------------------------------------------------------------


def test_followup_status_names_the_touch_each_open_invoice_is_at():
    from billing.choices import PauseReason
    from billing.models import FollowUpSequence, FollowUpState, FollowUpStep

    sequence = FollowUpSequence.objects.filter(kind="standard").first()
    steps = FollowUpStep.objects.filter(sequence=sequence).count()
    second = FollowUpStep.objects.get(sequence=sequence, position=2)
    client = ClientFactory(name="Chased Co")
    touched = issued(client, due_on=AS_OF - timedelta(days=20), total="300", paid="100")
    promised = issued(client, due_on=AS_OF - timedelta(days=3), total="50")
    issued(client, due_on=AS_OF + timedelta(days=3), total="70")  # not in a sequence yet
    FollowUpState.objects.create(
        invoice=touched, client=client, sequence=sequence, anchor_on=touched.due_on,
        last_position=2, next_touch_on=AS_OF + timedelta(days=10),
    )  # fmt: skip
    FollowUpState.objects.create(
        invoice=promised, client=client, sequence=sequence, anchor_on=promised.due_on,
        paused=PauseReason.PROMISE, promised_on=date(2026, 12, 12),
    )  # fmt: skip

    rows = reports.followup_by_invoice(client_ids=None, today=AS_OF)

    assert [(r.days_overdue, r.balance, r.touch, r.status) for r in rows] == [
        (20, Decimal("200"), f"Touch 2 of {steps}: {second.label} (day {second.day})", "Running"),
        (3, Decimal("50"), "No touch yet", "Paused: the client promised to pay (Dec 12)"),
        (0, Decimal("70"), "Not in a sequence yet", "—"),
    ]


# --- The period form ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "3000-01-01"}, "Choose a date between"),
        ({"start": "2026-11-10", "end": "2026-11-01"}, "The end is before the start."),
        ({"end": "not a date"}, "Enter a date like"),
    ],
)
@pytest.mark.parametrize(
    "name",
    ["billing:report-leakage", "billing:report-realization", "billing:report-realization-csv"],
)
def test_a_bad_period_is_refused_in_words(client, partner, query, message, name):
    client.force_login(partner.user)
    response = client.get(reverse(name), query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_period_asked_for_is_the_one_reported(client, partner):
    client.force_login(partner.user)
    page = client.get(
        reverse("billing:report-leakage"), {"start": "2026-11-02", "end": "2026-11-08"}
    )
    assert page.status_code == 200
    assert "between Mon Nov 2 and Sun Nov 8, 2026" in page.content.decode()
    assert (
        'href="/billing/reports/leakage.csv?start=2026-11-02&amp;end=2026-11-08"'
        in page.content.decode()
    )


def test_realization_csv_has_the_firm_then_each_group(client, partner):
    client.force_login(partner.user)
    pat_client = ClientFactory(name="@Risky Name", relationship_partner=partner)
    recent = timezone.localdate() - timedelta(days=3)
    billed(pat_client, [("time", "900")], standard="1000", paid="450", issued_on=recent)

    rows = _csv(client.get(reverse("billing:report-realization-csv")))

    assert rows[0][:9] == [
        "By", "Name", "Invoices", "Billed", "Collected", "Billed work", "Standard value",
        "Realization %", "Collection %",
    ]  # fmt: skip
    assert rows[1][:9] == [
        "Firm",
        "The firm",
        "1",
        "900.00",
        "450.00",
        "900.00",
        "1000.00",
        "90.00",
        "50.00",
    ]
    assert [
        "Client",
        "'@Risky Name",
        "1",
        "900.00",
        "450.00",
        "900.00",
        "1000.00",
        "90.00",
        "50.00",
    ] in [r[:9] for r in rows]
    assert ["Partner", "Pat Partner"] in [r[:2] for r in rows]


@pytest.mark.parametrize(
    "name", ["billing:report-leakage", "billing:report-realization", "billing:report-followups"]
)
def test_period_reports_answer_in_the_same_queries_whatever_the_rows(
    client, partner, manager, alice, django_assert_max_num_queries, name
):
    from engagements.choices import TaskStatus

    def add(n: int) -> None:
        recent = timezone.now() - timedelta(days=2)
        for _ in range(n):
            each = ClientFactory(relationship_partner=partner)
            engagement = EngagementFactory(client=each)
            TaskFactory(
                engagement=engagement,
                assignee=alice,
                status=TaskStatus.COMPLETED,
                completed_at=recent,
            )
            approved_time(alice, each, "1", engagement=engagement)
            billed(each, [("time", "100"), ("adjustment", "-10")], standard="120",
                   issued_on=recent.date(), sent_at=None)  # fmt: skip
            InvoiceLine.objects.filter(invoice__client=each, amount__lt=0).update(
                write_down_reason="courtesy"
            )

    add(2)
    for who in (partner, manager):
        client.force_login(who.user)
        client.get(reverse(name))
        with django_assert_max_num_queries(20) as few:
            assert client.get(reverse(name)).status_code == 200
        add(20)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(reverse(name)).status_code == 200


def test_the_leakage_page_opens_on_last_full_week_with_its_dates_in_the_form(client, partner):
    client.force_login(partner.user)
    monday, sunday = reports.last_full_week(timezone.localdate())

    page = client.get(reverse("billing:report-leakage")).content.decode()

    assert f'value="{monday:%Y-%m-%d}"' in page
    assert f'value="{sunday:%Y-%m-%d}"' in page
    assert monday.weekday() == 0 and (sunday - monday).days == 6
    assert sunday < timezone.localdate() <= sunday + timedelta(days=7)
