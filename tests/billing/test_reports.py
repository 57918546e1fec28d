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
from billing.models import Invoice, RateOverride, TimeEntry
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
        origin=InvoiceOrigin.MANUAL,
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
        approved_at=timezone.now(),
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
    assert rows[1] == ['\'=HYPERLINK("http://x")', "1", "0", "0", "10.50", "0", "0", "10.50"]
    assert rows[2] == ["Plain Co", "1", "20.00", "0", "0", "0", "0", "20.00"]
    assert rows[3] == ["Total", "2", "20.00", "0", "10.50", "0", "0", "30.50"]


def test_wip_csv_has_a_line_per_engagement_and_the_total(client, partner, alice):
    target = ClientFactory(name="+Plus Client")
    approved_time(alice, target, "2")
    client.force_login(partner.user)

    rows = _csv(client.get(reverse("billing:report-wip-csv")))

    assert rows[0] == ["Client", "Engagement", "Hours", "Value", "Oldest entry"]
    assert rows[1][:4] == ["'+Plus Client", "No engagement (calls, emails)", "2.00", "300.00"]
    assert rows[2][:4] == ["Total", "", "2.00", "300.00"]


def test_csv_cells_keep_numbers_and_escape_text_that_reads_as_a_formula():
    assert csv_cell(Decimal("-120.00")) == Decimal("-120.00")
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
