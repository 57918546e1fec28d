"""Clients as the firm looks them up: the list and the client page (reads only).

Who sees which clients (decided here, never in a template):
- managers, partners and admins: every client of the firm;
- everyone else: the clients they work on — a task of theirs on one of the
  client's engagements, in any state (the history counts), or the client asked for
  them as preferred staff. On a client's page they see the engagements they work
  on, the documents and files of those engagements and the dispatch decisions
  about their own tasks; colleagues' work stays with the managers.

A client's "manager" (the list's filter) is the manager of someone holding open work
for the client, the same as the close dashboard's manager filter. "Open" work is an
engagement not yet delivered or closed. Every read here is a fixed number of queries
whatever the number of clients or engagements.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery

from clients.models import Client, ClientContact
from clients.selectors import client_search_q
from core.calendar import BusinessCalendar
from core.roles import is_manager
from dispatch.models import DispatchDecision
from engagements.choices import OPEN_TASK_STATUSES, Milestone
from engagements.milestones import step_label, template_for
from engagements.models import (
    DocumentUpload,
    Engagement,
    EngagementMilestone,
    RecurringPlan,
    RequiredDocument,
    Task,
    WorkType,
)
from portal.engagement_rows import AMBER, GREEN, RED, Row, engagement_rows
from staff.choices import Role
from staff.models import StaffMember
from staff.selectors import staff_member_for_user

CLIENTS_PER_PAGE = 25
RECENT_DECISIONS = 10
PAST_ENGAGEMENTS = 12
RECENT_FILES = 25
DONE_MILESTONES = (Milestone.DELIVERED, Milestone.CLOSED)
RISK_ORDER = {RED: 0, AMBER: 1, GREEN: 2}
SORTS = {"name": "Name", "due": "Next due date"}

UserLike = AbstractBaseUser | AnonymousUser


def _open(engagements: QuerySet[Engagement]) -> QuerySet[Engagement]:
    return engagements.exclude(milestone__in=DONE_MILESTONES)


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the whole firm, or one staff member's own clients."""

    firm_wide: bool
    member: StaffMember | None

    def clients(self) -> QuerySet[Client]:
        if self.firm_wide:
            return Client.objects.all()
        if self.member is None:
            return Client.objects.none()
        works_on = Task.objects.filter(engagement__client=OuterRef("pk"), assignee=self.member)
        return Client.objects.filter(Exists(works_on) | Q(preferred_staff=self.member))

    def engagements(self) -> QuerySet[Engagement]:
        """The engagements this person may open (as on the engagement page)."""
        if self.firm_wide:
            return Engagement.objects.all()
        if self.member is None:
            return Engagement.objects.none()
        mine = Task.objects.filter(engagement=OuterRef("pk"), assignee=self.member)
        return Engagement.objects.filter(Exists(mine))


def viewer_for(user: UserLike) -> Viewer:
    return Viewer(firm_wide=is_manager(user), member=staff_member_for_user(user=user))


# --- The list -------------------------------------------------------------------


@dataclass(frozen=True)
class ClientFilters:
    q: str = ""
    partner_id: int | None = None
    manager_id: int | None = None
    work_type_id: int | None = None
    risk: str | None = None  # the worst risk of the client's open work
    sort: str = "name"
    page: int = 1


@dataclass
class ClientLine:
    client: Client
    rows: list[Row]  # open engagements, soonest due first

    @property
    def worst(self) -> Row | None:
        return worst_row(self.rows)

    @property
    def next_due(self) -> date | None:
        return min((row.due_date for row in self.rows), default=None)

    @property
    def work_types(self) -> list[str]:
        return sorted({row.work_type_name for row in self.rows})


@dataclass
class ClientList:
    lines: list[ClientLine]
    page: Page
    total: int
    partners: list[StaffMember] = field(default_factory=list)
    managers: list[StaffMember] = field(default_factory=list)
    work_types: list[WorkType] = field(default_factory=list)


def worst_row(rows: list[Row]) -> Row | None:
    """The open engagement that most needs attention: red before amber before green,
    then the nearest deadline."""
    return min(rows, key=lambda row: (RISK_ORDER[row.risk], row.days_left), default=None)


def _filtered(viewer: Viewer, filters: ClientFilters) -> QuerySet[Client]:
    clients = viewer.clients()
    if filters.q:
        clients = clients.filter(client_search_q(filters.q))
    if filters.partner_id:
        clients = clients.filter(relationship_partner_id=filters.partner_id)
    if filters.manager_id:
        held = Task.objects.filter(
            Q(assignee__manager_id=filters.manager_id) | Q(assignee_id=filters.manager_id),
            engagement__client=OuterRef("pk"),
            status__in=OPEN_TASK_STATUSES,
        )
        clients = clients.filter(Exists(held))
    if filters.work_type_id:
        engaged = _open(Engagement.objects.filter(work_type_id=filters.work_type_id)).filter(
            client=OuterRef("pk")
        )
        planned = RecurringPlan.objects.filter(
            client=OuterRef("pk"), work_type_id=filters.work_type_id, active=True
        )
        clients = clients.filter(Exists(engaged) | Exists(planned))
    return clients


def client_list(
    *, user: UserLike, filters: ClientFilters, today: date, calendar: BusinessCalendar
) -> ClientList:
    """One page of the clients this user may see, with each one's open work and risk.

    Without a risk filter the database pages the clients and risk is worked out for
    that page's open engagements only; with one, risk is worked out for the open
    engagements of every client that passes the other filters, then paged.
    """
    viewer = viewer_for(user)
    clients = _filtered(viewer, filters).select_related(
        "relationship_partner__user", "preferred_staff__user"
    )
    if filters.sort == "due":
        next_due = _open(Engagement.objects.filter(client=OuterRef("pk"))).order_by("due_date")
        clients = clients.annotate(next_due=Subquery(next_due.values("due_date")[:1])).order_by(
            F("next_due").asc(nulls_last=True), "name", "pk"
        )
    else:
        clients = clients.order_by("name", "pk")

    if filters.risk:
        rows = _open_rows(Q(client__in=clients.values("pk")), viewer, today, calendar)
        worst = {client_id: worst_row(client_rows) for client_id, client_rows in rows.items()}
        wanted = [pk for pk, row in worst.items() if row is not None and row.risk == filters.risk]
        ordered = list(clients.filter(pk__in=wanted).values_list("pk", flat=True))
        paginator: Paginator = Paginator(ordered, CLIENTS_PER_PAGE)
        page = paginator.get_page(filters.page)
        by_pk = clients.in_bulk(list(page.object_list))
        page_clients = [by_pk[pk] for pk in page.object_list]
    else:
        paginator = Paginator(clients, CLIENTS_PER_PAGE)
        page = paginator.get_page(filters.page)
        page_clients = list(page.object_list)
        rows = _open_rows(Q(client__in=[c.pk for c in page_clients]), viewer, today, calendar)
    lines = [
        ClientLine(client=c, rows=sorted(rows.get(c.pk, []), key=lambda r: r.due_date))
        for c in page_clients
    ]
    return ClientList(
        lines=lines,
        page=page,
        total=paginator.count,
        partners=list(
            StaffMember.objects.filter(
                Q(role=Role.PARTNER) | Q(partner_for_clients__isnull=False), active=True
            )
            .distinct()
            .select_related("user")
        ),
        managers=list(
            StaffMember.objects.filter(
                role__in=(Role.MANAGER, Role.PARTNER), active=True
            ).select_related("user")
        ),
        work_types=list(WorkType.objects.filter(active=True).order_by("name")),
    )


def _open_rows(
    which: Q, viewer: Viewer, today: date, calendar: BusinessCalendar
) -> dict[int, list[Row]]:
    engagements = _open(viewer.engagements().filter(which))
    result = engagement_rows(engagements=engagements, today=today, calendar=calendar)
    by_client: dict[int, list[Row]] = defaultdict(list)
    for row in result.rows:
        by_client[row.client_id].append(row)
    return by_client


# --- The client page ------------------------------------------------------------


@dataclass(frozen=True)
class DocumentLine:
    engagement_id: int
    engagement_label: str
    name: str
    requested_on: date | None
    received_at: datetime | None
    files: list[DocumentUpload]


@dataclass(frozen=True)
class PastEngagement:
    pk: int
    work_type_name: str
    name: str
    period_end: date | None
    due_date: date
    label: str
    finished_at: datetime | None


@dataclass
class ClientPage:
    client: Client
    firm_wide: bool
    open_rows: list[Row]
    past: list[PastEngagement]
    documents: list[DocumentLine]
    files: list[DocumentUpload]
    decisions: list[DispatchDecision]
    people: list[tuple[StaffMember, str]]  # who at the firm, and what they do for the client
    plans: list[RecurringPlan]
    contacts: list[ClientContact]  # the others, besides the primary contact

    @property
    def outstanding_documents(self) -> int:
        return sum(1 for line in self.documents if line.received_at is None)


def client_get_for_user(*, user: UserLike, pk: int) -> Client | None:
    """The client if this user may see it (see the module docstring)."""
    return (
        viewer_for(user)
        .clients()
        .select_related("relationship_partner__user", "preferred_staff__user")
        .filter(pk=pk)
        .first()
    )


def client_page(
    *, user: UserLike, client: Client, today: date, calendar: BusinessCalendar
) -> ClientPage:
    """Everything the client page shows, in a fixed number of queries."""
    viewer = viewer_for(user)
    visible = viewer.engagements().filter(client=client)
    open_rows = sorted(
        engagement_rows(engagements=_open(visible), today=today, calendar=calendar).rows,
        key=lambda row: (row.due_date, row.pk),
    )
    reached = EngagementMilestone.objects.filter(engagement=OuterRef("pk")).order_by()
    past_engagements = (
        visible.filter(milestone__in=DONE_MILESTONES)
        .select_related("work_type")
        .annotate(
            delivered_at=Subquery(
                reached.filter(milestone=Milestone.DELIVERED).values("reached_at")[:1]
            ),
            closed_at=Subquery(reached.filter(milestone=Milestone.CLOSED).values("reached_at")[:1]),
        )
        .order_by("-period_end", "-due_date", "-pk")[:PAST_ENGAGEMENTS]
    )
    past = [
        PastEngagement(
            pk=e.pk,
            work_type_name=e.work_type.name,
            name=e.name,
            period_end=e.period_end,
            due_date=e.due_date,
            label=step_label(template_for(e.work_type), e.milestone),
            finished_at=e.delivered_at or e.closed_at,
        )
        for e in past_engagements
    ]
    return ClientPage(
        client=client,
        firm_wide=viewer.firm_wide,
        open_rows=open_rows,
        past=past,
        documents=_documents(visible, open_rows),
        files=list(
            DocumentUpload.objects.filter(engagement__in=visible)
            .select_related("engagement__work_type", "required_document")
            .order_by("-uploaded_at", "-pk")[:RECENT_FILES]
        ),
        decisions=_decisions(viewer, visible),
        people=_people(client, open_rows, visible),
        plans=list(
            RecurringPlan.objects.filter(client=client, active=True)
            .select_related("work_type", "requested_staff__user")
            .order_by("work_type__name")
        )
        if viewer.firm_wide
        else [],
        contacts=list(client.contacts.all()),
    )


def _documents(visible: QuerySet[Engagement], open_rows: list[Row]) -> list[DocumentLine]:
    """The open engagements' checklists: what was asked for, when, and what came in."""
    open_ids = [row.pk for row in open_rows]
    labels = {row.pk: f"{row.work_type_name}" + _period(row.period_end) for row in open_rows}
    requested = dict(
        EngagementMilestone.objects.filter(
            engagement_id__in=open_ids, milestone=Milestone.DOCUMENTS_REQUESTED
        ).values_list("engagement_id", "reached_at")
    )
    created = dict(visible.filter(pk__in=open_ids).values_list("pk", "created_at"))
    documents = RequiredDocument.objects.filter(engagement_id__in=open_ids).prefetch_related(
        Prefetch("uploads", queryset=DocumentUpload.objects.order_by("-uploaded_at", "-pk"))
    )
    lines = []
    for document in documents.order_by("engagement__due_date", "engagement_id", "name"):
        asked = requested.get(document.engagement_id) or created.get(document.engagement_id)
        lines.append(
            DocumentLine(
                engagement_id=document.engagement_id,
                engagement_label=labels[document.engagement_id],
                name=document.name,
                requested_on=asked.date() if asked else None,
                received_at=document.received_at,
                files=list(document.uploads.all()),
            )
        )
    return lines


def _period(period_end: date | None) -> str:
    return f" · {period_end:%b %Y}" if period_end else ""


def _decisions(viewer: Viewer, visible: QuerySet[Engagement]) -> list[DispatchDecision]:
    decisions = DispatchDecision.objects.filter(task__engagement__in=visible)
    if not viewer.firm_wide:
        decisions = decisions.filter(task__assignee=viewer.member)
    return list(
        decisions.select_related(
            "task__engagement__work_type", "assignee__user", "actor", "confirmed_by"
        ).order_by("-created_at", "-pk")[:RECENT_DECISIONS]
    )


def _people(
    client: Client, open_rows: list[Row], visible: QuerySet[Engagement]
) -> list[tuple[StaffMember, str]]:
    """The firm's people for this client: partner, preferred staff, who holds open work."""
    people: dict[int, tuple[StaffMember, list[str]]] = {}

    def add(member: StaffMember | None, what: str) -> None:
        if member is None:
            return
        people.setdefault(member.pk, (member, []))[1].append(what)

    add(client.relationship_partner, "relationship partner")
    add(client.preferred_staff, "preferred staff")
    holding = (
        Task.objects.filter(
            engagement__in=_open(visible), status__in=OPEN_TASK_STATUSES, assignee__isnull=False
        )
        .select_related("assignee__user", "engagement__work_type")
        .order_by("engagement__due_date", "role", "pk")
    )
    for task in holding:
        add(task.assignee, f"{task.get_role_display().lower()}, {task.engagement.work_type.name}")
    return [(member, ", ".join(dict.fromkeys(roles))) for member, roles in people.values()]
