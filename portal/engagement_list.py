"""The engagement list: every engagement this person may see, filtered the way the
home page counts them (by milestone label and by state), a page at a time.

Managers, partners and admins see the firm's engagements; everyone else the ones
they hold a task on (as on the engagement page). A page of 50 reads a fixed number
of queries: the page and its count, then its rows (``portal.engagement_rows``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.paginator import Page, Paginator
from django.db.models import Q

from clients.models import Client
from core.calendar import BusinessCalendar
from engagements.milestones import MilestoneLabel, milestone_labels
from engagements.models import Engagement, WorkType
from engagements.selectors import ENGAGEMENT_STATES, engagement_state_q
from portal.clients import UserLike, viewer_for
from portal.engagement_rows import Row, engagement_rows
from staff.models import StaffMember

ENGAGEMENTS_PER_PAGE = 50


@dataclass(frozen=True)
class EngagementFilters:
    q: str = ""
    milestone: str = ""  # a milestone label, as the home page shows it (or a code)
    state: str = ""  # one of ENGAGEMENT_STATES
    work_type_id: int | None = None
    partner_id: int | None = None
    client_id: int | None = None
    page: int = 1


@dataclass
class EngagementList:
    rows: list[Row]
    page: Page
    total: int
    labels: list[MilestoneLabel] = field(default_factory=list)
    work_types: list[WorkType] = field(default_factory=list)
    partners: list[StaffMember] = field(default_factory=list)
    client: Client | None = None
    states: dict[str, str] = field(default_factory=lambda: dict(ENGAGEMENT_STATES))


def _milestone_q(value: str, labels: list[MilestoneLabel]) -> Q:
    """The engagements at the steps carrying this label (or at this code)."""
    for group in labels:
        if group.label == value:
            wanted = Q(pk__in=[])
            for work_type_id, code in group.steps:
                wanted |= Q(work_type_id=work_type_id, milestone=code)
            return wanted
    return Q(milestone=value)


def engagement_list(
    *, user: UserLike, filters: EngagementFilters, today: date, calendar: BusinessCalendar
) -> EngagementList:
    work_types = list(WorkType.objects.order_by("name"))
    labels = milestone_labels(work_types)
    engagements = viewer_for(user).engagements()
    client = None
    if filters.client_id:
        engagements = engagements.filter(client_id=filters.client_id)
        client = Client.objects.filter(pk=filters.client_id).first()
    if filters.q:
        engagements = engagements.filter(
            Q(client__name__icontains=filters.q) | Q(name__icontains=filters.q)
        )
    if filters.milestone:
        engagements = engagements.filter(_milestone_q(filters.milestone, labels))
    if filters.state:
        engagements = engagements.filter(engagement_state_q(filters.state, today=today))
    if filters.work_type_id:
        engagements = engagements.filter(work_type_id=filters.work_type_id)
    if filters.partner_id:
        engagements = engagements.filter(client__relationship_partner_id=filters.partner_id)
    paginator = Paginator(
        engagements.order_by("due_date", "pk").values_list("pk", flat=True), ENGAGEMENTS_PER_PAGE
    )
    page = paginator.get_page(filters.page)
    ids = list(page.object_list)
    rows = engagement_rows(
        engagements=Engagement.objects.filter(pk__in=ids), today=today, calendar=calendar
    ).rows
    place = {pk: index for index, pk in enumerate(ids)}
    rows.sort(key=lambda row: place[row.pk])
    return EngagementList(
        rows=rows,
        page=page,
        total=paginator.count,
        labels=labels,
        work_types=work_types,
        partners=list(
            StaffMember.objects.filter(partner_for_clients__isnull=False)
            .distinct()
            .select_related("user")
        ),
        client=client,
    )
