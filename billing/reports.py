"""Billing reports: AR aging, WIP, the weekly leakage report, realization and collection,
days to pay, follow-up status. Reads only, each in a fixed number of queries whatever
the rows (grouped in the database, or one row per invoice grouped here).

Partners, administrators and the billing coordinator see the firm; a manager sees
their clients (those whose work they or their reports hold or held): ``client_scope``.

| figure | what it counts |
| aging | issued invoices with a balance, by days past due on the day asked: current (not yet due), 1–30, 31–60, 61–90, over 90 |
| WIP | approved, billable time on no invoice yet, at the client's bill rates (``billing.rates``) |
| realization | billed work (time, fee, retainer and adjustment lines) ÷ the standard value of the time those invoices cover; invoices without time to compare are left out of it |
| collection | collected ÷ billed, on the invoices dated (issued) in the period |
| days to pay | from issue to the last payment, for invoices paid in full in the period |
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from billing.choices import InvoiceStatus, LineKind, TimeEntryStatus
from billing.models import Invoice, InvoiceLine, RateOverride, TimeEntry
from billing.rates import ZERO, RateCard, money
from clients.models import Client
from core.charts import svg_number
from core.roles import is_billing_coordinator, is_partner
from engagements.models import Engagement, Task, WorkType
from staff.models import StaffMember

WORK_KINDS = (LineKind.TIME, LineKind.FEE, LineKind.RETAINER, LineKind.ADJUSTMENT)
BILLED_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PAID)


def client_scope(user: AbstractBaseUser | AnonymousUser) -> list[int] | None:
    """None: the whole firm; else the ids of the clients this manager looks after."""
    if is_partner(user) or is_billing_coordinator(user):
        return None
    member = getattr(user, "staff_member", None)
    if member is None:
        return []
    theirs = Task.objects.filter(engagement__client=OuterRef("pk")).filter(
        Q(assignee=member) | Q(assignee__manager=member)
    )
    return list(Client.objects.filter(Exists(theirs)).values_list("pk", flat=True))


def _scoped(queryset: QuerySet, client_ids: list[int] | None, path: str = "client_id") -> QuerySet:
    if client_ids is None:
        return queryset
    return queryset.filter(**{f"{path}__in": client_ids})


def ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` ÷ ``whole`` as a fraction to four places; None without a whole."""
    if not whole:
        return None
    return (part / whole).quantize(Decimal("0.0001"))


# --- AR aging ------------------------------------------------------------------------------

BUCKETS = (
    ("current", "Current"),
    ("d30", "1–30 days"),
    ("d60", "31–60 days"),
    ("d90", "61–90 days"),
    ("over90", "Over 90 days"),
)


@dataclass(frozen=True)
class AgingRow:
    client_id: int
    client_name: str
    invoices: int
    amounts: tuple[Decimal, ...]  # one per bucket, in BUCKETS order

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, ZERO)


@dataclass(frozen=True)
class AgingBar:
    key: str
    label: str
    amount: Decimal
    y: str
    text_y: str
    width: str
    text_x: str


@dataclass(frozen=True)
class AgingChart:
    """The buckets as horizontal bars (drawn like the close dashboard's risk chart)."""

    bars: list[AgingBar]
    total: Decimal
    width: int = 480
    height: int = 0
    label_width: int = 110

    @property
    def summary(self) -> str:
        if not self.total:
            return "Nothing is owed."
        parts = "; ".join(f"{bar.label.lower()} ${bar.amount:,.2f}" for bar in self.bars)
        return f"${self.total:,.2f} owed: {parts}."


@dataclass(frozen=True)
class AgingReport:
    as_of: date
    rows: list[AgingRow]
    totals: tuple[Decimal, ...]
    chart: AgingChart

    @property
    def total(self) -> Decimal:
        return sum(self.totals, ZERO)

    @property
    def invoices(self) -> int:
        return sum(row.invoices for row in self.rows)

    @property
    def buckets(self) -> list[tuple[str, Decimal]]:
        return [(label, amount) for (_, label), amount in zip(BUCKETS, self.totals, strict=True)]


AGING_BAR_HEIGHT, AGING_BAR_GAP = 26, 10


def aging_chart(totals: tuple[Decimal, ...]) -> AgingChart:
    chart = AgingChart(bars=[], total=sum(totals, ZERO))
    plot = chart.width - chart.label_width - 110  # room for the amount after the bar
    top = max(totals) or Decimal("1")
    bars = []
    for index, ((key, label), amount) in enumerate(zip(BUCKETS, totals, strict=True)):
        width = float(plot * amount / top)
        y = index * (AGING_BAR_HEIGHT + AGING_BAR_GAP)
        bars.append(
            AgingBar(
                key=key,
                label=label,
                amount=amount,
                y=svg_number(y),
                text_y=svg_number(y + 17),
                width=svg_number(width),
                text_x=svg_number(chart.label_width + width + 6),
            )
        )
    return AgingChart(
        bars=bars, total=chart.total, height=len(BUCKETS) * (AGING_BAR_HEIGHT + AGING_BAR_GAP)
    )


def ar_aging(*, client_ids: list[int] | None, as_of: date) -> AgingReport:
    """Open balances by client and days past due on ``as_of``: one query."""

    def band(condition: Q) -> Sum:
        return Sum("balance", filter=condition, default=ZERO)

    d = [as_of - timedelta(days=n) for n in (30, 60, 90)]
    queryset = _scoped(
        Invoice.objects.filter(status=InvoiceStatus.ISSUED, balance__gt=0), client_ids
    )
    found = (
        queryset.order_by()
        .values("client_id", "client__name")
        .annotate(
            invoices=Count("pk"),
            current=band(Q(due_on__gte=as_of)),
            d30=band(Q(due_on__lt=as_of, due_on__gte=d[0])),
            d60=band(Q(due_on__lt=d[0], due_on__gte=d[1])),
            d90=band(Q(due_on__lt=d[1], due_on__gte=d[2])),
            over90=band(Q(due_on__lt=d[2])),
        )
        .order_by("client__name", "client_id")
    )
    rows = [
        AgingRow(
            client_id=row["client_id"],
            client_name=row["client__name"],
            invoices=row["invoices"],
            amounts=tuple(row[key] for key, _ in BUCKETS),
        )
        for row in found
    ]
    totals = tuple(sum((row.amounts[i] for row in rows), ZERO) for i in range(len(BUCKETS)))
    return AgingReport(as_of=as_of, rows=rows, totals=totals, chart=aging_chart(totals))


# --- WIP -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WipLine:
    engagement_id: int | None
    label: str
    hours: Decimal
    value: Decimal
    oldest: date


@dataclass
class WipClient:
    client_id: int
    client_name: str
    lines: list[WipLine] = field(default_factory=list)

    @property
    def hours(self) -> Decimal:
        return sum((line.hours for line in self.lines), ZERO)

    @property
    def value(self) -> Decimal:
        return sum((line.value for line in self.lines), ZERO)


@dataclass(frozen=True)
class WipReport:
    clients: list[WipClient]

    @property
    def hours(self) -> Decimal:
        return sum((c.hours for c in self.clients), ZERO)

    @property
    def value(self) -> Decimal:
        return sum((c.value for c in self.clients), ZERO)


def _engagement_label(engagement: Engagement | None) -> str:
    if engagement is None:
        return "No engagement (calls, emails)"
    if engagement.name:  # named with its period already ("Bookkeeping December 2026")
        return engagement.name
    period = f" {engagement.period_end:%b %Y}" if engagement.period_end else ""
    return f"{engagement.work_type.name}{period}"


def unbilled_time(client_ids: list[int] | None) -> QuerySet[TimeEntry]:
    """Approved time that would be billed by the hour and is on no invoice yet."""
    return _scoped(
        TimeEntry.objects.filter(
            status=TimeEntryStatus.APPROVED, invoice__isnull=True, internal_only=False
        ),
        client_ids,
    )


def wip(*, client_ids: list[int] | None) -> WipReport:
    """Unbilled approved time and its value at bill rates, by client and engagement.

    Six queries: the time grouped by (client, engagement, person, work type) in the
    database, then the clients, engagements, people, work types and client rates it
    names; the rate card answers in Python.
    """
    groups = list(
        unbilled_time(client_ids)
        .order_by()
        .values("client_id", "engagement_id", "staff_member_id", "work_type_id")
        .annotate(hours=Sum("hours"), oldest=Min("date"))
    )
    client_pks = {g["client_id"] for g in groups}
    clients = Client.objects.in_bulk(client_pks)
    engagements = Engagement.objects.select_related("work_type").in_bulk(
        {g["engagement_id"] for g in groups if g["engagement_id"]}
    )
    people = StaffMember.objects.select_related("user").in_bulk(
        {g["staff_member_id"] for g in groups}
    )
    work_types = WorkType.objects.in_bulk({g["work_type_id"] for g in groups if g["work_type_id"]})
    overrides: dict[int, list[RateOverride]] = defaultdict(list)
    for override in RateOverride.objects.filter(client_id__in=client_pks):
        overrides[override.client_id].append(override)
    cards = {pk: RateCard(client, overrides[pk]) for pk, client in clients.items()}

    totals: dict[tuple[int, int | None], WipLine] = {}
    for g in groups:
        rate = cards[g["client_id"]].bill_rate(
            work_type=work_types.get(g["work_type_id"]), staff=people[g["staff_member_id"]]
        )
        key = (g["client_id"], g["engagement_id"])
        hours: Decimal = g["hours"]
        before = totals.get(key)
        totals[key] = WipLine(
            engagement_id=g["engagement_id"],
            label=_engagement_label(engagements.get(g["engagement_id"] or 0)),
            hours=hours + (before.hours if before else ZERO),
            value=money(hours * rate.amount) + (before.value if before else ZERO),
            oldest=min(g["oldest"], before.oldest) if before else g["oldest"],
        )
    by_client: dict[int, WipClient] = {}
    for (client_id, _engagement_id), line in totals.items():
        entry = by_client.setdefault(client_id, WipClient(client_id, clients[client_id].name))
        entry.lines.append(line)
    for entry in by_client.values():
        entry.lines.sort(key=lambda line: (line.oldest, line.label))
    ordered = sorted(by_client.values(), key=lambda c: (c.client_name.lower(), c.client_id))
    return WipReport(clients=ordered)


# --- Realization, collection and days to pay --------------------------------------------


@dataclass
class Figures:
    """One group's money: what realization and collection are worked out from."""

    label: str
    invoices: int = 0
    billed: Decimal = ZERO  # invoice totals (late fees and surcharges included)
    collected: Decimal = ZERO
    work: Decimal = ZERO  # billed work, on invoices with time to compare against
    standard: Decimal = ZERO  # the standard value of that time

    @property
    def realization(self) -> Decimal | None:
        return ratio(self.work, self.standard)

    @property
    def collection(self) -> Decimal | None:
        return ratio(self.collected, self.billed)

    def add(self, row: Mapping[str, Any]) -> None:
        self.invoices += 1
        self.billed += row["total"]
        self.collected += row["amount_paid"]
        if row["standard_amount"]:
            self.work += row["work"]
            self.standard += row["standard_amount"]


@dataclass(frozen=True)
class RealizationReport:
    start: date
    end: date
    firm: Figures
    by_work_type: list[Figures]
    by_partner: list[Figures]
    by_client: list[Figures]


def billed_invoices(*, client_ids: list[int] | None, start: date, end: date) -> QuerySet[Invoice]:
    """Invoices dated (issued) in the period and not voided since."""
    return _scoped(
        Invoice.objects.filter(
            status__in=BILLED_STATUSES, issued_on__gte=start, issued_on__lte=end
        ),
        client_ids,
    )


def realization_report(
    *, client_ids: list[int] | None, start: date, end: date
) -> RealizationReport:
    """Realization and collection by work type, relationship partner and client: one
    query (a row per invoice with its billed work summed in a subquery)."""
    work = (
        InvoiceLine.objects.filter(invoice=OuterRef("pk"), kind__in=WORK_KINDS)
        .order_by()
        .values("invoice")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    rows = (
        billed_invoices(client_ids=client_ids, start=start, end=end)
        .annotate(work=Coalesce(Subquery(work), ZERO))
        .order_by("pk")
        .values(
            "client_id",
            "client__name",
            "client__relationship_partner_id",
            "client__relationship_partner__user__first_name",
            "client__relationship_partner__user__last_name",
            "engagement__work_type_id",
            "engagement__work_type__name",
            "origin",
            "total",
            "amount_paid",
            "standard_amount",
            "work",
        )
    )
    firm = Figures("The firm")
    groups: dict[str, dict[object, Figures]] = {"wt": {}, "partner": {}, "client": {}}
    for row in rows:
        firm.add(row)
        wt_key: object
        if row["engagement__work_type_id"]:
            wt_key, wt_label = row["engagement__work_type_id"], row["engagement__work_type__name"]
        elif row["origin"] == "retainer":
            wt_key, wt_label = "retainer", "Monthly retainer"
        else:
            wt_key, wt_label = None, "Other (no engagement)"
        partner = " ".join(
            part
            for part in (
                row["client__relationship_partner__user__first_name"],
                row["client__relationship_partner__user__last_name"],
            )
            if part
        )
        keys = {
            "wt": (wt_key, wt_label),
            "partner": (
                row["client__relationship_partner_id"],
                partner or "No relationship partner",
            ),
            "client": (row["client_id"], row["client__name"]),
        }
        for name, (key, label) in keys.items():
            groups[name].setdefault(key, Figures(str(label))).add(row)

    def ordered(found: dict[object, Figures]) -> list[Figures]:
        return sorted(found.values(), key=lambda f: f.label.lower())

    return RealizationReport(
        start=start,
        end=end,
        firm=firm,
        by_work_type=ordered(groups["wt"]),
        by_partner=ordered(groups["partner"]),
        by_client=ordered(groups["client"]),
    )


@dataclass(frozen=True)
class DaysToPay:
    label: str
    invoices: int
    average_days: Decimal | None


@dataclass(frozen=True)
class DaysToPayReport:
    firm: DaysToPay
    by_client: list[DaysToPay]


def days_to_pay(*, client_ids: list[int] | None, start: date, end: date) -> DaysToPayReport:
    """Average days from issue to the last payment, for invoices paid in full in the
    period: one query."""
    rows = (
        _scoped(Invoice.objects.filter(status=InvoiceStatus.PAID), client_ids)
        .annotate(paid_on=Max("payments__received_on"))
        .filter(paid_on__gte=start, paid_on__lte=end)
        .order_by()
        .values_list("client_id", "client__name", "issued_on", "paid_on")
    )
    per_client: dict[int, tuple[str, list[int]]] = {}
    every: list[int] = []
    for client_id, name, issued_on, paid_on in rows:
        days = max(0, (paid_on - issued_on).days)
        per_client.setdefault(client_id, (name, []))[1].append(days)
        every.append(days)

    def average(label: str, days: list[int]) -> DaysToPay:
        mean = (Decimal(sum(days)) / len(days)).quantize(Decimal("0.1")) if days else None
        return DaysToPay(label, len(days), mean)

    clients = [average(name, days) for name, days in per_client.values()]
    clients.sort(key=lambda d: d.label.lower())
    return DaysToPayReport(firm=average("The firm", every), by_client=clients)


# --- The weekly leakage report -----------------------------------------------------------


def last_full_week(today: date) -> tuple[date, date]:
    """Monday to Sunday of the week before ``today``'s."""
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


@dataclass(frozen=True)
class Tally:
    count: int
    amount: Decimal  # hours or dollars, as the row says


@dataclass(frozen=True)
class LeakTask:
    task_id: int
    client_name: str
    work: str
    assignee: str
    completed_on: date


@dataclass(frozen=True)
class UnsentInvoice:
    invoice_id: int
    number: str
    client_name: str
    approved_on: date
    total: Decimal


@dataclass(frozen=True)
class WriteDown:
    reason: str
    lines: int
    amount: Decimal  # value taken off, as a positive figure


@dataclass(frozen=True)
class LeakageReport:
    start: date
    end: date
    drafted: Tally  # time entries for work done in the period (each starts as a draft; hours)
    drafted_approved: Tally  # ... of them approved since
    drafted_invoiced: Tally  # ... of them on an invoice since
    approved: Tally  # time approved in the period, whenever drafted (hours)
    invoices_drafted: Tally  # invoices drafted in the period (dollars)
    tasks_without_time: Tally
    tasks_without_time_rows: list[LeakTask]
    approved_unbilled: Tally  # billable work done by the period's end, approved, on no invoice
    approved_unbilled_oldest: date | None
    unsent: list[UnsentInvoice]
    write_downs: list[WriteDown]

    @property
    def written_down(self) -> Decimal:
        return sum((w.amount for w in self.write_downs), ZERO)


LEAK_ROWS = 50


def _tally(queryset: QuerySet, amount: str) -> Tally:
    found = queryset.order_by().aggregate(n=Count("pk"), amount=Sum(amount, default=ZERO))
    return Tally(found["n"], found["amount"])


def leakage_report(*, client_ids: list[int] | None, start: date, end: date) -> LeakageReport:
    """Where billable time leaked in the period (seeds: "Connecting dispatch to billing"):
    eleven queries whatever the rows; the lists are capped at ``LEAK_ROWS``."""
    from billing.choices import WriteDownReason
    from engagements.choices import TaskStatus

    in_period = {"created_at__date__gte": start, "created_at__date__lte": end}
    drafted = _scoped(TimeEntry.objects.filter(date__gte=start, date__lte=end), client_ids)
    approved_in_period = _scoped(
        TimeEntry.objects.filter(
            status=TimeEntryStatus.APPROVED,
            approved_at__date__gte=start,
            approved_at__date__lte=end,
        ),
        client_ids,
    )
    approved_time = TimeEntry.objects.filter(task=OuterRef("pk"), status=TimeEntryStatus.APPROVED)
    tasks = _scoped(
        Task.objects.filter(
            status=TaskStatus.COMPLETED,
            completed_at__date__gte=start,
            completed_at__date__lte=end,
        ).filter(~Exists(approved_time)),
        client_ids,
        "engagement__client_id",
    )
    task_rows = [
        LeakTask(
            task_id=task.pk,
            client_name=task.engagement.client.name,
            work=f"{task.engagement.work_type.name} ({task.get_role_display().lower()})",
            assignee=task.assignee.display_name if task.assignee else "nobody",
            completed_on=task.completed_at.date() if task.completed_at else end,
        )
        for task in tasks.select_related(
            "engagement__client", "engagement__work_type", "assignee__user"
        ).order_by("completed_at", "pk")[:LEAK_ROWS]
    ]
    unbilled = unbilled_time(client_ids).filter(date__lte=end)
    unsent = [
        UnsentInvoice(
            invoice_id=invoice.pk,
            number=invoice.display_number,
            client_name=invoice.client.name,
            approved_on=invoice.approved_at.date() if invoice.approved_at else end,
            total=invoice.total,
        )
        for invoice in _scoped(
            Invoice.objects.filter(
                status__in=BILLED_STATUSES, sent_at__isnull=True, approved_at__date__lte=end
            ),
            client_ids,
        )
        .select_related("client")
        .order_by("approved_at", "pk")[:LEAK_ROWS]
    ]
    labels = dict(WriteDownReason.choices)
    downs = (
        InvoiceLine.objects.filter(
            invoice__in=billed_invoices(client_ids=client_ids, start=start, end=end),
        )
        .exclude(write_down_reason="")
        .order_by()
        .values("write_down_reason")
        .annotate(
            lines=Count("pk"),
            adjusted=Sum("amount", filter=Q(amount__lt=0), default=ZERO),
            edited=Sum("written_down", default=ZERO),
        )
        .order_by("write_down_reason")
    )
    write_downs = [
        WriteDown(
            labels.get(row["write_down_reason"], row["write_down_reason"]),
            row["lines"],
            row["edited"] - row["adjusted"],
        )
        for row in downs
    ]
    return LeakageReport(
        start=start,
        end=end,
        drafted=_tally(drafted, "hours"),
        drafted_approved=_tally(drafted.filter(status=TimeEntryStatus.APPROVED), "hours"),
        drafted_invoiced=_tally(drafted.filter(invoice__isnull=False), "hours"),
        approved=_tally(approved_in_period, "hours"),
        invoices_drafted=_tally(_scoped(Invoice.objects.filter(**in_period), client_ids), "total"),
        tasks_without_time=Tally(tasks.count(), ZERO),
        tasks_without_time_rows=task_rows,
        approved_unbilled=_tally(unbilled, "hours"),
        approved_unbilled_oldest=unbilled.order_by().aggregate(d=Min("date"))["d"],
        unsent=unsent,
        write_downs=write_downs,
    )


# --- Follow-up status by client, invoice by invoice ------------------------------------


@dataclass(frozen=True)
class FollowUpInvoice:
    client_id: int
    client_name: str
    on_hold: bool
    invoice_id: int
    number: str
    due_on: date | None
    days_overdue: int
    balance: Decimal
    sequence: str
    touch: str  # "Touch 2 of 3: Firm reminder (day 15)", "No touch yet", ...
    status: str  # "Running", "Paused: the client disputes the invoice", ...
    next_touch_on: date | None


FOLLOWUP_ROWS = 2000


def followup_by_invoice(*, client_ids: list[int] | None, today: date) -> list[FollowUpInvoice]:
    """Which touch each open invoice is at, grouped by client: two queries (the invoices
    with their state, and every sequence's steps)."""
    from billing.choices import PauseReason
    from billing.models import FollowUpState, FollowUpStep

    steps: dict[tuple[int, int], FollowUpStep] = {}
    counts: dict[int, int] = defaultdict(int)
    for step in FollowUpStep.objects.all():
        steps[(step.sequence_id, step.position)] = step
        counts[step.sequence_id] += 1
    paused = dict(PauseReason.choices)
    rows = []
    invoices = (
        _scoped(Invoice.objects.filter(status=InvoiceStatus.ISSUED, balance__gt=0), client_ids)
        .select_related("client", "followup__sequence")
        .order_by("client__name", "client_id", "due_on", "pk")[:FOLLOWUP_ROWS]
    )
    for invoice in invoices:
        try:
            state: FollowUpState | None = invoice.followup
        except FollowUpState.DoesNotExist:
            state = None
        if state is None:
            sequence, touch, status, upcoming = "—", "Not in a sequence yet", "—", None
        else:
            sequence = state.sequence.name
            last = steps.get((state.sequence_id, state.last_position))
            if last is None:
                touch = "No touch yet"
            else:
                touch = (
                    f"Touch {last.position} of {counts[state.sequence_id]}: "
                    f"{last.label} (day {last.day})"
                )
                if state.cycle > 1:
                    touch += f", cycle {state.cycle}"
            if state.stopped_at:
                status = "Stopped"
            elif state.paused:
                status = paused.get(state.paused, state.paused)
                if state.promised_on:
                    status += f" ({state.promised_on:%b %-d})"
            else:
                status = "Running" if state.next_touch_on else "Sequence finished"
            upcoming = state.next_touch_on
        rows.append(
            FollowUpInvoice(
                client_id=invoice.client_id,
                client_name=invoice.client.name,
                on_hold=invoice.client.account_hold,
                invoice_id=invoice.pk,
                number=invoice.display_number,
                due_on=invoice.due_on,
                days_overdue=max(0, (today - invoice.due_on).days) if invoice.due_on else 0,
                balance=invoice.total - invoice.amount_paid,
                sequence=sequence,
                touch=touch,
                status=status,
                next_touch_on=upcoming,
            )
        )
    return rows
