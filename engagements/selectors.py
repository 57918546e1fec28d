from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from clients.models import Client
from clients.selectors import client_search_q
from core.calendar import BusinessCalendar
from core.roles import is_manager
from engagements.choices import OPEN_TASK_STATUSES, DeadlineBasis, Milestone, TaskStatus
from engagements.deadlines import DeadlineRuleError, due_date_explained, preparer_due_date
from engagements.milestones import Step, milestone_labels, position, step_label, template_for
from engagements.models import (
    DocumentUpload,
    Engagement,
    MilestoneSource,
    MilestoneTransition,
    Task,
    WorkType,
)
from engagements.recurring import period_containing
from staff.models import StaffMember


def task_list_open_for_assignee(*, assignee: StaffMember) -> QuerySet[Task]:
    return (
        Task.objects.filter(assignee=assignee, status__in=OPEN_TASK_STATUSES)
        .select_related("engagement__client", "engagement__work_type")
        .order_by("due_date", "id")
    )


DONE_MILESTONES = (Milestone.DELIVERED, Milestone.CLOSED)


def engagement_state_q(state: str, *, today: date) -> Q:
    """Engagements in one of the firm's states, as the home page counts them and the
    engagement list filters them (one definition for both):

    - ``open``: not yet delivered or closed;
    - ``overdue``: past its due date and not yet invoiced;
    - ``unassigned``: open with a task that is ready to start and held by nobody;
    - ``done``: delivered or closed.
    """
    open_q = ~Q(milestone__in=DONE_MILESTONES)
    if state == "open":
        return open_q
    if state == "overdue":
        # Invoiced work is finished: what is left is delivery, never "overdue work".
        finished = (Milestone.INVOICED, *DONE_MILESTONES)
        return ~Q(milestone__in=finished) & Q(due_date__lt=today)
    if state == "unassigned":
        waiting = Task.objects.filter(
            engagement=OuterRef("pk"), status=TaskStatus.UNASSIGNED, ready_at__isnull=False
        )
        return open_q & Q(Exists(waiting))
    if state == "done":
        return Q(milestone__in=DONE_MILESTONES)
    raise ValueError(f"Unknown engagement state {state!r}.")


ENGAGEMENT_STATES = {
    "open": "Open",
    "overdue": "Overdue",
    "unassigned": "Ready, nobody assigned",
    "done": "Delivered or closed",
}


def firm_snapshot(*, today: date | None = None) -> dict[str, object]:
    """Firm-wide counts for managers, every engagement accounted for: by milestone
    label (the work types' own words, "New" to "Closed"), by state, and open tasks.
    Five queries whatever the size of the firm."""
    today = today or timezone.localdate()
    by_step = Counter(
        {
            (work_type_id, milestone): n
            for work_type_id, milestone, n in Engagement.objects.values_list(
                "work_type_id", "milestone"
            )
            .annotate(n=Count("id"))
            .order_by()
            .values_list("work_type_id", "milestone", "n")
        }
    )
    work_types = list(WorkType.objects.filter(pk__in={wt for wt, _ in by_step}))
    labels = []
    counted: set[tuple[int, str]] = set()
    for group in milestone_labels(work_types):
        n = sum(by_step[step] for step in group.steps)
        counted.update(group.steps)
        if n:
            labels.append((group.label, n))
    # A step a template no longer has: counted under its code in words, never dropped.
    for (work_type_id, code), n in sorted(by_step.items()):
        if (work_type_id, code) not in counted:
            labels.append((code.replace("_", " ").capitalize(), n))
    states = Engagement.objects.aggregate(
        **{
            state: Count("id", filter=engagement_state_q(state, today=today))
            for state in ENGAGEMENT_STATES
        }
    )
    tasks = Task.objects.aggregate(
        open=Count("id", filter=Q(status__in=OPEN_TASK_STATUSES)),
        overdue=Count("id", filter=Q(status__in=OPEN_TASK_STATUSES, due_date__lt=today)),
    )
    return {
        "milestones": labels,
        "total": sum(by_step.values()),
        "states": [(state, label, states[state]) for state, label in ENGAGEMENT_STATES.items()],
        "open_tasks": tasks["open"],
        "overdue_tasks": tasks["overdue"],
        # Kept for the pages that read them by name.
        "unassigned": states["unassigned"],
        "overdue": states["overdue"],
        "open": states["open"],
    }


def engagement_get_for_user(*, user, pk: int) -> Engagement | None:  # type: ignore[no-untyped-def]
    """The engagement if this user may see it: managers see all, staff those they work on."""
    queryset = Engagement.objects.select_related(
        "client__relationship_partner__user", "work_type", "requested_staff__user"
    ).filter(pk=pk)
    if not is_manager(user):
        queryset = queryset.filter(tasks__assignee__user=user).distinct()
    return queryset.first()


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    text: str  # "Mia Manager moved it from In bookkeeping to Bookkeeper complete."
    note: str


_BY_SOURCE: dict[str, str] = {
    MilestoneSource.SYSTEM: "automatically, as the work moved on",
    MilestoneSource.BEAT: "by the scheduled job",
    MilestoneSource.WEBHOOK: "by another system (webhook)",
    MilestoneSource.BUTTON: "by hand",
}


def timeline_entry(transition: MilestoneTransition, steps: list[Step]) -> TimelineEntry:
    """One milestone move in words, with who moved it (or what did)."""
    to = step_label(steps, transition.to_milestone)
    if transition.from_milestone == Milestone.NEW:
        moved = f"to {to}"
    else:
        moved = f"from {step_label(steps, transition.from_milestone)} to {to}"
    actor = transition.actor
    if actor is not None:
        text = f"{actor.get_full_name() or actor.get_username()} moved it {moved}."
    else:
        text = f"Moved {moved} {_BY_SOURCE.get(transition.source, '')}".rstrip() + "."
    return TimelineEntry(at=transition.at, text=text, note=transition.note)


def engagement_timeline(*, engagement: Engagement) -> dict[str, object]:
    """Everything the engagement page shows, in a fixed number of queries."""
    steps = template_for(engagement.work_type)
    reached = dict(engagement.milestone_times.values_list("milestone", "reached_at"))
    current = position(engagement.work_type, engagement.milestone)
    return {
        "steps": [
            {
                "code": s.code,
                "label": s.label,
                "reached_at": reached.get(s.code),
                "done": i < current,
            }
            for i, s in enumerate(steps, start=1)
        ],
        "next_step": steps[current] if 0 <= current < len(steps) else None,
        "timeline": [
            timeline_entry(transition, steps)
            for transition in engagement.transitions.select_related("actor").order_by("-at", "-id")
        ],
        "tasks": list(engagement.tasks.select_related("assignee__user").order_by("role", "pk")),
        "documents": list(
            engagement.required_documents.prefetch_related(
                Prefetch("uploads", queryset=DocumentUpload.objects.order_by("-uploaded_at", "-pk"))
            ).order_by("name")
        ),
        "other_files": list(
            engagement.uploads.filter(required_document__isnull=True).order_by(
                "-uploaded_at", "-pk"
            )
        ),
        "exceptions": list(
            engagement.exceptions.select_related("raised_by", "resolved_by").order_by("-raised_at")
        ),
    }


# --- The new-engagement form: finding the client, the dates before saving ---------

CLIENT_CHOICES_SHOWN = 50


def client_search(*, query: str, keep_id: int | None = None) -> tuple[list[Client], int]:
    """Clients whose name, contact or email contains ``query`` (all when empty), the first
    ``CLIENT_CHOICES_SHOWN`` by name, with the one already chosen kept in the list;
    and how many matched in all."""
    matches = Client.objects.order_by("name", "pk")
    if query:
        matches = matches.filter(client_search_q(query))
    shown = list(matches[:CLIENT_CHOICES_SHOWN])
    if keep_id is not None and all(client.pk != keep_id for client in shown):
        kept = Client.objects.filter(pk=keep_id).first()
        if kept is not None:
            shown.insert(0, kept)
    return shown, matches.count() if len(shown) >= CLIENT_CHOICES_SHOWN else len(shown)


def engagement_period(
    *, work_type: WorkType, period_start: date | None, period_end: date | None
) -> tuple[date | None, str]:
    """The period's start as the engagement will be saved: as given, else the start of
    the period the work type's recurrence covers up to ``period_end``; and a note
    saying which when it was worked out."""
    if period_start is not None or period_end is None:
        return period_start, ""
    covered = period_containing(work_type, period_end=period_end)
    if covered is None:
        return None, ""
    return covered[0], "the start follows from the work type's recurrence"


@dataclass(frozen=True)
class DatesPreview:
    """The dates an engagement would get, said in words, before it is saved."""

    period_start: date | None = None
    period_end: date | None = None
    period_note: str = ""
    due: date | None = None
    due_given: bool = False
    rule_due: date | None = None  # what the rule gives, when a due date was typed
    steps: list[str] = field(default_factory=list)
    adjustment: str = ""
    preparer_due: date | None = None
    reviewer_due: date | None = None
    problem: str = ""


def engagement_dates_preview(
    *,
    work_type: WorkType,
    period_start: date | None,
    period_end: date | None,
    event_date: date | None,
    due_date: date | None,
    today: date,
    calendar: BusinessCalendar,
) -> DatesPreview:
    """What ``engagement_create`` would compute from these inputs (the same functions)."""
    start, note = engagement_period(
        work_type=work_type, period_start=period_start, period_end=period_end
    )
    explained = None
    problem = ""
    try:
        explained = due_date_explained(
            work_type, calendar=calendar, period_end=period_end, event_date=event_date
        )
    except DeadlineRuleError:
        basis = work_type.deadline_basis
        if basis == DeadlineBasis.ENGAGEMENT:
            problem = f"{work_type.name} has no deadline rule: give the due date."
        elif basis == DeadlineBasis.EVENT_DATE:
            problem = "Give the event date and the deadline is worked out from it."
        else:
            problem = "Give the period end and the deadline is worked out from it."
    due = due_date or (explained.due if explained else None)
    if due is not None and due_date is not None:
        problem = ""
    return DatesPreview(
        period_start=start,
        period_end=period_end,
        period_note=note,
        due=due,
        due_given=due_date is not None,
        rule_due=explained.due if explained and due_date is not None else None,
        steps=explained.steps if explained and due_date is None else [],
        adjustment=explained.adjustment if explained and due_date is None else "",
        preparer_due=preparer_due_date(work_type, due_date=due, today=today, calendar=calendar)
        if due
        else None,
        reviewer_due=due if due and work_type.reviewer_required else None,
        problem=problem,
    )


def engagement_list_for_user(*, user) -> QuerySet[Engagement]:  # type: ignore[no-untyped-def]
    """Engagements this user may see: managers every one, staff those they hold a task on."""
    queryset = Engagement.objects.all()
    if not is_manager(user):
        queryset = queryset.filter(
            pk__in=Task.objects.filter(assignee__user=user).values("engagement_id")
        )
    return queryset


def task_list_for_user(*, user) -> QuerySet[Task]:  # type: ignore[no-untyped-def]
    """Tasks this user may see: managers every task, staff only their own."""
    queryset = Task.objects.all()
    if not is_manager(user):
        queryset = queryset.filter(assignee__user=user)
    return queryset


def client_list_for_user(*, user) -> QuerySet[Client]:  # type: ignore[no-untyped-def]
    """Clients this user may see: managers every client, staff those they hold a task for."""
    queryset = Client.objects.prefetch_related("external_ids")
    if not is_manager(user):
        queryset = queryset.filter(
            pk__in=Task.objects.filter(assignee__user=user).values("engagement__client_id")
        )
    return queryset
