"""``manage.py seed_demo``: a believable, deterministic, idempotent demo firm.

Every test builds the demo size around 2026-11-22 (about a second each); the
large size is exercised by ``bench/seed_demo_bench.py``, never here.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import phonenumbers
import pytest
from dateutil.rrule import rrulestr
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory
from django.utils import timezone

from capacity.models import MoveStatus, PlanMove, ScenarioKind
from clients.choices import BillingModel, EntityType, ExternalSource, ValueTier
from clients.models import Client, ClientExternalId
from core.calendar import firm_calendar
from demo.rebalancing import MAX_RUSH_TASKS, RUSH_REASON
from demo.specs import ADMIN_USERNAME, DEMO_PASSWORD
from demo.timeline import (
    DELIVERED,
    NEEDS_NOBODY,
    NEEDS_PREPARER,
    NEEDS_REVIEWER,
    OPENED,
    PHASES,
    PREP_STARTED,
    READY,
    dispatch_phase,
    plan_steps,
    reachable,
)
from dispatch.choices import Trigger
from dispatch.models import DispatchDecision
from engagements.choices import (
    DeadlineBasis,
    EngagementSource,
    Milestone,
    TaskRole,
    TaskStatus,
    TriggerEvent,
)
from engagements.deadlines import internal_due_date
from engagements.milestones import Step, template_for
from engagements.models import (
    Engagement,
    EngagementMilestone,
    MilestoneSource,
    MilestoneTransition,
    RecurringPlan,
    ReviewException,
    Task,
    WorkType,
    WorkTypeSkill,
    validate_rrule,
)
from staff.choices import Role, SkillCategory
from staff.models import StaffMember, StaffSkill, TimeOff

TODAY = "2026-11-22"
TODAY_DATE = date(2026, 11, 22)
DEMO_DOMAIN = "@demo-cpa.example"
OPEN = (TaskStatus.ASSIGNED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS)
MONTHLY = ("monthly_bookkeeping", "month_end_close")

pytestmark = pytest.mark.django_db


def seed_demo(*args: str) -> str:
    """The firm as built, before this morning's live events (``tests/demo/test_morning.py``)."""
    out = StringIO()
    call_command("seed_demo", "--today", TODAY, "--no-morning", *args, stdout=out)
    return out.getvalue()


def delete_demo() -> None:
    """Remove everything the command built (billing first: invoices and time protect their
    clients and engagements; then engagements: tasks protect their assignee)."""
    from billing.models import Dispute, Invoice, Payment, TimeEntry

    Payment.objects.all().delete()
    Dispute.objects.all().delete()  # a dispute protects its invoice
    Invoice.objects.all().delete()
    TimeEntry.objects.all().delete()
    Engagement.objects.filter(source=EngagementSource.DEMO).delete()
    Client.objects.filter(external_ids__source=ExternalSource.DEMO).delete()
    get_user_model().objects.filter(email__endswith=DEMO_DOMAIN).delete()


def snapshot() -> dict[str, list[tuple[object, ...]]]:
    """What a seed decides, in a canonical order."""

    def rows(queryset, *fields: str) -> list[tuple[object, ...]]:
        return sorted(queryset.values_list(*fields), key=repr)

    demo_engagements = Engagement.objects.filter(source=EngagementSource.DEMO)
    # The rebalancing story (demo/rebalancing.py) goes through the live services, which
    # stamp the moment they ran: compared by who got which work, not when.
    # Read as a list first: as a subquery, PostgreSQL without statistics on the freshly
    # loaded rows ran it once per task (minutes on a loaded machine).
    story = list(
        DispatchDecision.objects.filter(override_reason=RUSH_REASON).values_list(
            "task__engagement", flat=True
        )
    )
    timed = demo_engagements.exclude(pk__in=story)
    return {
        "story": rows(
            Task.objects.filter(engagement__in=story),
            "engagement__external_id",
            "status",
            "assignee__user__username",
        ),
        "staff": rows(
            StaffMember.objects.all(),
            "user__username",
            "role",
            "seniority",
            "manager__user__username",
            "weekly_capacity_hours",
            "mobile",
        ),
        "skills": rows(
            StaffSkill.objects.all(), "staff_member__user__username", "skill__slug", "level"
        ),
        "clients": rows(
            ClientExternalId.objects.filter(source=ExternalSource.DEMO),
            "external_id",
            "client__name",
            "client__entity_type",
            "client__billing_model",
        ),
        "engagements": rows(
            demo_engagements, "external_id", "due_date", "milestone", "estimated_hours"
        ),
        "milestones": rows(
            EngagementMilestone.objects.filter(engagement__in=timed),
            "engagement__external_id",
            "milestone",
            "reached_at",
        ),
        "transitions": rows(
            MilestoneTransition.objects.filter(engagement__in=timed),
            "engagement__external_id",
            "from_milestone",
            "to_milestone",
            "at",
        ),
        "exceptions": rows(
            ReviewException.objects.all(),
            "engagement__external_id",
            "note",
            "raised_at",
            "resolved_at",
        ),
        "plans": rows(
            RecurringPlan.objects.all(),
            "client__name",
            "work_type__code",
            "starts_on",
            "event_rule",
            "estimated_hours",
        ),
        "tasks": rows(
            Task.objects.filter(engagement__in=timed),
            "engagement__external_id",
            "role",
            "title",
            "status",
            "assignee__user__username",
            "assigned_at",
            "completed_at",
        ),
    }


def steps_by_work_type() -> dict[int, list[str]]:
    """Each work type's template codes, with "new" in front: index = position."""
    return {wt.pk: ["new"] + [s.code for s in template_for(wt)] for wt in WorkType.objects.all()}


def timelines(model, time_field: str, *fields: str) -> dict[int, list[tuple[object, ...]]]:
    """Rows of ``model`` per engagement, in time then insertion order."""
    rows = defaultdict(list)
    for engagement_id, *values in model.objects.order_by(
        "engagement_id", time_field, "id"
    ).values_list("engagement_id", *fields):
        rows[engagement_id].append(tuple(values))
    return rows


def login_lines(output: str) -> list[tuple[str, str]]:
    """(username, role) from the command's logins table."""
    return [
        (line.split()[0], line.split()[1])
        for line in output.splitlines()
        if line.strip().endswith(DEMO_PASSWORD) and "username" not in line
    ]


def model_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # The command hashes once per run; PBKDF2 would only make this suite slower.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Staff ----------------------------------------------------------------------


def test_seed_demo_builds_fifteen_staff_with_the_role_mix():
    seed_demo()

    staff = list(StaffMember.objects.select_related("user", "manager"))
    assert len(staff) == 15
    assert Counter(s.role for s in staff) == {
        Role.PARTNER: 2,
        Role.MANAGER: 3,
        Role.SENIOR: 4,
        Role.STAFF: 6,
    }
    allowed = {
        Role.PARTNER: {6},
        Role.MANAGER: {4, 5},
        Role.SENIOR: {3},
        Role.STAFF: {1, 2},
    }
    reports_to = {Role.PARTNER: None, Role.MANAGER: Role.PARTNER, Role.SENIOR: Role.MANAGER}
    reports_to[Role.STAFF] = Role.MANAGER
    for person in staff:
        assert person.seniority in allowed[person.role], person
        assert (person.manager.role if person.manager else None) == reports_to[person.role]
        assert re.fullmatch(r"[a-z]+\.[a-z]+@demo-cpa\.example", person.user.email)
        assert person.user.username == person.user.email.split("@")[0]
        assert phonenumbers.is_valid_number(person.mobile)
        assert re.fullmatch(r"U0DEMO\d\d", person.slack_member_id)
        assert person.bill_rate > person.cost_rate > Decimal("0")


def test_seed_demo_gives_two_part_timers_one_working_monday_to_thursday():
    seed_demo()

    part_time = StaffMember.objects.filter(weekly_capacity_hours__lt=40)
    assert part_time.count() == 2
    assert all(Decimal("24") <= s.weekly_capacity_hours <= Decimal("32") for s in part_time)
    assert sorted(len(s.working_days) for s in part_time) == [4, 5]
    assert StaffMember.objects.filter(weekly_capacity_hours=40).count() == 13


def test_seed_demo_gives_skills_with_a_couple_of_licences_expiring_soon():
    seed_demo()

    certified = StaffSkill.objects.filter(skill__category=SkillCategory.CERTIFICATION)
    assert certified.filter(certified_until__isnull=True).count() == 0
    soon = certified.filter(certified_until__range=(TODAY_DATE, TODAY_DATE + timedelta(days=60)))
    assert soon.count() >= 2
    assert certified.filter(certified_until__lt=TODAY_DATE).count() == 0
    assert not StaffMember.objects.filter(staff_skills__isnull=True).exists()
    assert TimeOff.objects.count() >= 3
    assert TimeOff.objects.filter(start_date__month=12, start_date__day__gte=20).exists()


def test_seed_demo_creates_a_superuser_admin_without_a_staff_record():
    seed_demo()

    admin = get_user_model().objects.get(username=ADMIN_USERNAME)
    assert admin.is_superuser and admin.is_staff
    assert not StaffMember.objects.filter(user=admin).exists()


# --- Clients --------------------------------------------------------------------


def test_seed_demo_builds_at_least_120_varied_clients():
    seed_demo()

    clients = list(Client.objects.prefetch_related("industry_tags", "external_ids"))
    assert len(clients) >= 120
    assert len({c.name for c in clients}) == len(clients)
    assert {c.entity_type for c in clients} == set(EntityType.values)
    assert {c.billing_model for c in clients} == set(BillingModel.values)
    key_accounts = [c for c in clients if c.value_tier == ValueTier.KEY]
    assert 0.07 <= len(key_accounts) / len(clients) <= 0.13
    assert all(c.min_seniority in (3, 4) for c in key_accounts)
    for client in clients:
        assert [e.source for e in client.external_ids.all()] == [ExternalSource.DEMO]
        assert client.relationship_partner.role == Role.PARTNER
        assert all(t.category == SkillCategory.INDUSTRY for t in client.industry_tags.all())
        if client.mobile:
            assert phonenumbers.is_valid_number(client.mobile)
    assert any(c.payment_plan for c in clients)
    assert any(c.autopay for c in clients)
    assert any(c.account_hold for c in clients)
    assert 0.04 <= sum(1 for c in clients if c.preferred_staff_id) / len(clients) <= 0.12
    # One client has a card surcharge of their own (it applies once Stripe is configured).
    from billing.models import ClientBillingProfile

    surcharged = ClientBillingProfile.objects.filter(card_surcharge_mode="on")
    assert [p.card_surcharge_percent for p in surcharged] == [Decimal("2.00")]


# --- Engagements and tasks -----------------------------------------------------------


def test_seed_demo_builds_a_season_of_engagements_across_work_types():
    seed_demo()

    engagements = list(Engagement.objects.select_related("work_type", "client"))
    assert 290 <= len(engagements) <= 360
    codes = Counter(e.work_type.code for e in engagements)
    assert len(codes) >= 6
    assert codes["1040"] == Client.objects.filter(entity_type=EntityType.INDIVIDUAL).count()
    returns = [e for e in engagements if e.work_type.code == "1040"]
    assert {(e.period_start, e.period_end) for e in returns} == {
        (date(2026, 1, 1), date(2026, 12, 31))
    }
    # Two closed months (September and October, so a delivered month always shows) and
    # the one in progress.
    assert {e.period_end for e in engagements if e.work_type.code == "month_end_close"} == {
        date(2026, 9, 30),
        date(2026, 10, 31),
        date(2026, 11, 30),
    }
    assert all(e.source == EngagementSource.DEMO and e.external_id for e in engagements)
    missing_estimate = sum(1 for e in engagements if e.estimated_hours is None)
    assert 1 <= missing_estimate <= 0.06 * len(engagements)
    assert any(e.priority == "urgent" for e in engagements)


def test_seed_demo_due_dates_follow_the_work_type_rules():
    seed_demo()

    calendar = firm_calendar()
    for engagement in Engagement.objects.select_related("work_type"):
        work_type = engagement.work_type
        if work_type.deadline_basis == DeadlineBasis.ENGAGEMENT:
            assert engagement.due_date > engagement.period_end
            continue
        if work_type.deadline_basis == DeadlineBasis.EVENT_DATE:
            continue  # the event (pay day, session) is not stored on the engagement
        expected = internal_due_date(work_type, calendar=calendar, period_end=engagement.period_end)
        assert engagement.due_date == expected, engagement


def test_demo_timeline_places_edited_templates_steps_in_order():
    # An admin added a sign-off step, and put delivery (a "close" step) before invoicing.
    template = [
        Step("documents_requested", "Documents requested"),
        Step("client_signoff", "Client signed off"),
        Step("in_preparation", "In preparation"),
        Step("delivered", "Delivered", "close"),
        Step("invoiced", "Invoiced"),
    ]
    times = [datetime(2026, 11, 2, 9) + timedelta(days=phase) for phase in range(PHASES)]

    steps = plan_steps(template, times)

    assert steps == [
        ("documents_requested", times[OPENED], NEEDS_NOBODY),
        ("client_signoff", times[OPENED], NEEDS_NOBODY),
        ("in_preparation", times[PREP_STARTED], NEEDS_PREPARER),
        ("delivered", times[DELIVERED], NEEDS_REVIEWER),
        ("invoiced", times[DELIVERED], NEEDS_REVIEWER),
    ]
    assert reachable(steps, NEEDS_PREPARER) == 2
    assert reachable(steps, NEEDS_REVIEWER) == 3


def test_demo_timeline_dispatches_where_the_template_says():
    close = [
        Step("documents_requested", "Requested"),
        Step("documents_received", "In", "dispatch_preparer"),
    ]
    audit = [Step("kickoff_signed", "Kickoff signed", "dispatch_preparer")]
    waits = TriggerEvent.DOCUMENTS_COMPLETE

    assert dispatch_phase(close, TriggerEvent.MONTHLY_CALENDAR, True) == READY
    assert dispatch_phase(audit, TriggerEvent.KICKOFF_SIGNED, True) == OPENED
    assert dispatch_phase([], waits, True) == READY
    assert dispatch_phase([], waits, False) == OPENED


def test_seed_demo_timelines_follow_each_work_types_template():
    seed_demo()

    steps = steps_by_work_type()
    closes = {
        wt.pk: {s.code for s in template_for(wt) if s.on_enter == "close"}
        for wt in WorkType.objects.all()
    }
    times = timelines(EngagementMilestone, "reached_at", "milestone", "reached_at")
    engagements = Engagement.objects.prefetch_related("required_documents")
    assert {e.milestone for e in engagements} >= {"kickoff_signed", "headcount_change"}
    for engagement in engagements:
        codes = steps[engagement.work_type_id]
        assert engagement.milestone in codes, engagement
        position = codes.index(engagement.milestone)
        reached = times[engagement.pk]
        assert [m for m, _ in reached] == codes[1 : position + 1], engagement
        for (previous, before), (_code, after) in zip(reached, reached[1:], strict=False):
            # The state machine moves on from a "close" step at the same moment.
            if previous in closes[engagement.work_type_id]:
                assert after == before, engagement
            else:
                assert after > before, engagement
        documents = list(engagement.required_documents.all())
        if Milestone.DOCUMENTS_RECEIVED in codes:
            received = Milestone.DOCUMENTS_RECEIVED in dict(reached)
            assert received == all(d.received_at for d in documents), engagement


def test_seed_demo_writes_one_system_transition_per_step_reached():
    seed_demo()

    times = timelines(EngagementMilestone, "reached_at", "milestone", "reached_at")
    moves = timelines(MilestoneTransition, "at", "from_milestone", "to_milestone", "at", "source")
    assert moves
    for engagement_id in Engagement.objects.values_list("pk", flat=True):
        reached = times[engagement_id]
        previous = ["new"] + [code for code, _ in reached[:-1]]
        expected = [
            (before, code, at, MilestoneSource.SYSTEM)
            for before, (code, at) in zip(previous, reached, strict=True)
        ]
        assert moves[engagement_id] == expected, engagement_id


def test_seed_demo_task_statuses_agree_with_the_milestone():
    seed_demo()

    steps = steps_by_work_type()
    dispatched_at = {
        wt.pk: next((s.code for s in template_for(wt) if s.on_enter == "dispatch_preparer"), "new")
        for wt in WorkType.objects.all()
    }
    tasks = Task.objects.select_related("engagement")
    assert {t.status for t in tasks} >= {
        TaskStatus.UNASSIGNED,
        TaskStatus.ACCEPTED,
        TaskStatus.IN_PROGRESS,
        TaskStatus.COMPLETED,
    }
    for task in tasks:
        codes = steps[task.engagement.work_type_id]
        position = codes.index(task.engagement.milestone)
        if task.status == TaskStatus.UNASSIGNED:
            assert task.assignee_id is None and task.assigned_at is None
        else:
            assert task.assignee_id and task.assigned_at
            # Dispatched when the template's dispatch step was entered, or before it by
            # the sweep because the due date came near.
            if task.role == TaskRole.PREPARER and position < codes.index(
                dispatched_at[task.engagement.work_type_id]
            ):
                first = task.dispatch_decisions.order_by("created_at", "pk").first()
                assert first is not None and first.trigger == Trigger.DEADLINE_PROXIMITY, task
        if task.status == TaskStatus.COMPLETED:
            assert task.assigned_at <= task.accepted_at <= task.started_at <= task.completed_at
        working, done = (
            (Milestone.IN_PREPARATION, Milestone.PREPARATION_COMPLETE)
            if task.role == TaskRole.PREPARER
            else (Milestone.IN_REVIEW, Milestone.REVIEW_COMPLETE)
        )
        if done in codes:
            assert (task.status == TaskStatus.COMPLETED) == (position >= codes.index(done)), task
        if task.engagement.milestone == working:
            assert task.status == TaskStatus.IN_PROGRESS, task
    # Work still waiting on its documents has nobody on it yet.
    for code in ("1040", "month_end_close"):
        waiting = Task.objects.filter(
            role=TaskRole.PREPARER,
            engagement__work_type__code=code,
            engagement__milestone=Milestone.DOCUMENTS_REQUESTED,
        )
        assert waiting.exists(), code
        placed = waiting.exclude(status=TaskStatus.UNASSIGNED)
        assert not placed.exclude(
            dispatch_decisions__trigger=Trigger.DEADLINE_PROXIMITY
        ).exists(), code


def test_seed_demo_last_months_close_is_mostly_delivered_in_six_to_eleven_business_days():
    seed_demo()

    calendar = firm_calendar()
    period_end = date(2026, 10, 31)

    def business_days_to(moment: datetime) -> int:
        return calendar.business_days_between(period_end, timezone.localtime(moment).date())

    october = Engagement.objects.filter(work_type__code__in=MONTHLY, period_end=period_end)
    reached = timelines(EngagementMilestone, "reached_at", "milestone", "reached_at")
    held = set(
        ReviewException.objects.filter(resolved_at__isnull=True).values_list(
            "engagement_id", flat=True
        )
    )
    cycles = []
    for engagement in october:
        times = dict(reached[engagement.pk])
        if Milestone.DELIVERED in times:
            cycles.append(business_days_to(times[Milestone.DELIVERED]))
        elif engagement.pk not in held:
            # The rest are late clients: statements in well after the usual 1-3 days.
            received = times.get(Milestone.DOCUMENTS_RECEIVED)
            assert received is None or business_days_to(received) >= 9, engagement
    assert len(cycles) >= 0.8 * october.count() >= 30
    assert 6 <= min(cycles) and max(cycles) <= 11
    assert 7.5 <= statistics.median(cycles) <= 8.5
    assert len(held) >= 2
    november = Engagement.objects.filter(work_type__code__in=MONTHLY, period_end=date(2026, 11, 30))
    assert november.count() == october.count()
    # Except the few whose statements came in early for the demo's rebalancing story.
    early = list(
        DispatchDecision.objects.filter(override_reason=RUSH_REASON).values_list(
            "task__engagement", flat=True
        )
    )
    assert 0 < len(early) <= MAX_RUSH_TASKS
    waiting = november.exclude(pk__in=early).values_list("milestone", flat=True)
    assert set(waiting) == {Milestone.DOCUMENTS_REQUESTED}


def test_seed_demo_leaves_a_rebalancing_proposal_made_by_the_loop():
    seed_demo()
    proposals = PlanMove.objects.filter(kind=ScenarioKind.REBALANCE, status=MoveStatus.PENDING)
    assert proposals.exists()
    move = proposals.select_related("from_staff").first()
    assert move.summary.startswith("Move ") and "1 change" in move.summary
    assert move.scenario.created_by is None  # the loop made it, not a person
    seed_demo()  # idempotent: a second run proposes nothing more
    assert PlanMove.objects.filter(kind=ScenarioKind.REBALANCE).count() == proposals.count()


def test_seed_demo_open_review_exceptions_hold_closes_in_review():
    seed_demo()

    exceptions = ReviewException.objects.select_related("engagement__work_type", "task")
    open_ones = [x for x in exceptions if x.resolved_at is None]
    resolved = [x for x in exceptions if x.resolved_at is not None]
    assert len(open_ones) >= 2 and len(resolved) == 1
    today_starts = timezone.make_aware(datetime.combine(TODAY_DATE, datetime.min.time()))
    for exception in exceptions:
        engagement, task = exception.engagement, exception.task
        assert engagement.work_type.code == "month_end_close"
        assert engagement.period_end == date(2026, 10, 31)
        assert re.search(r"\$\d[\d,]*\.\d\d", exception.note), exception.note
        assert task.role == TaskRole.REVIEWER and task.engagement_id == engagement.pk
        assert exception.raised_by_id == task.assignee.user_id
        review = dict(
            EngagementMilestone.objects.filter(engagement=engagement).values_list(
                "milestone", "reached_at"
            )
        )
        assert review[Milestone.IN_REVIEW] < exception.raised_at < today_starts
        if exception.resolved_at is None:
            assert engagement.milestone == Milestone.IN_REVIEW
            assert task.status == TaskStatus.IN_PROGRESS
        else:
            assert exception.raised_at < exception.resolved_at < review[Milestone.REVIEW_COMPLETE]
            assert exception.resolution and exception.resolved_by_id == exception.raised_by_id
    assert (
        not ReviewException.objects.filter(resolved_at__isnull=True)
        .exclude(engagement__milestone=Milestone.IN_REVIEW)
        .exists()
    )


def test_seed_demo_gives_recurring_plans_for_monthly_payroll_and_some_1099_work():
    seed_demo()

    plans = {
        (p.client_id, p.work_type.code): p
        for p in RecurringPlan.objects.select_related("work_type")
    }
    engagements = Engagement.objects.select_related("work_type")
    for engagement in engagements:
        code = engagement.work_type.code
        if code in MONTHLY:
            plan = plans[(engagement.client_id, code)]
            assert plan.starts_on <= engagement.period_start and plan.event_rule == ""
        if code != "payroll":
            continue
        plan = plans[(engagement.client_id, code)]
        validate_rrule(plan.event_rule)
        pay_dates = rrulestr(
            plan.event_rule, dtstart=datetime.combine(plan.starts_on, datetime.min.time())
        )
        # The rule reproduces the run: semi-monthly on the 15th and last day, biweekly
        # on the Friday after a period ending on Sunday.
        if plan.event_rule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR":
            pay_day = engagement.period_end + timedelta(days=5)
        else:
            assert plan.event_rule == "FREQ=MONTHLY;BYMONTHDAY=15,-1"
            pay_day = engagement.period_end
        moment = datetime.combine(pay_day, datetime.min.time())
        assert pay_dates.after(moment, inc=True) == moment, engagement
    rules = {p.event_rule for (_c, code), p in plans.items() if code == "payroll"}
    assert rules == {"FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "FREQ=MONTHLY;BYMONTHDAY=15,-1"}
    clients_1099 = set(
        engagements.filter(work_type__code="1099").values_list("client_id", flat=True)
    )
    plans_1099 = {client for client, code in plans if code == "1099"}
    assert 3 <= len(plans_1099) < len(clients_1099)
    assert all(p.starts_on < TODAY_DATE for p in plans.values())
    assert set(code for _c, code in plans) == {*MONTHLY, "payroll", "1099"}


def test_seed_demo_each_engagement_has_one_preparer_and_a_reviewer_when_required():
    seed_demo()

    for engagement in Engagement.objects.select_related("work_type").prefetch_related("tasks"):
        roles = sorted(t.role for t in engagement.tasks.all())
        expected = [TaskRole.PREPARER]
        if engagement.work_type.reviewer_required:
            expected.append(TaskRole.REVIEWER)
        assert roles == expected, engagement


def test_seed_demo_assignees_hold_the_skills_and_seniority_the_work_needs():
    seed_demo()

    rules = defaultdict(list)
    for rule in WorkTypeSkill.objects.all():
        rules[rule.work_type_id].append(rule)
    held = {
        (s.staff_member_id, s.skill_id): s for s in StaffSkill.objects.all()
    }  # (staff, skill) -> StaffSkill
    tasks = Task.objects.filter(assignee__isnull=False).select_related(
        "assignee", "engagement__work_type", "engagement__client"
    )
    preparers = {t.engagement_id: t.assignee_id for t in tasks if t.role == TaskRole.PREPARER}
    assert tasks.count() > 100
    for task in tasks:
        work_type, client = task.engagement.work_type, task.engagement.client
        for rule in rules[work_type.pk]:
            skill = held.get((task.assignee_id, rule.skill_id))
            assert skill is not None and skill.level >= rule.min_level, task
            assert skill.certified_until is None or skill.certified_until >= TODAY_DATE
        assert task.assignee.seniority >= (client.min_seniority or 1), task
        if task.role == TaskRole.PREPARER:
            assert task.assignee.seniority >= (work_type.min_seniority or 1), task
        else:
            assert task.assignee.seniority >= work_type.reviewer_min_seniority, task
            assert task.assignee_id != preparers[task.engagement_id], task


def test_seed_demo_keeps_everyones_open_work_within_capacity():
    seed_demo()

    # Open hours x complexity weight, spread evenly over business days up to the due date
    # (overdue work lands on the next business day), as the capacity ledger counts them.
    calendar = firm_calendar()
    start = calendar.add_business_days(TODAY_DATE, 0)
    load: dict[tuple[int, int], float] = defaultdict(float)
    for task in Task.objects.filter(status__in=OPEN).select_related("engagement__work_type"):
        hours = float(task.estimated_hours or 0) * float(
            task.engagement.work_type.complexity_weight
        )
        days = list(calendar.business_days(start, task.due_date)) or [start]
        for day in days:
            load[(task.assignee_id, (day - start).days // 7)] += hours / len(days)
    for person in StaffMember.objects.all():
        for week in range(4):
            assert load[(person.pk, week)] <= float(person.weekly_capacity_hours), person


# --- Idempotence, determinism, logins ----------------------------------------------------


def test_seed_demo_second_run_creates_nothing_and_still_prints_the_logins():
    seed_demo()
    before = model_counts()

    output = seed_demo()

    assert model_counts() == before
    assert re.search(r"engagements\s+0\s+\d+", output)
    partners = set(
        StaffMember.objects.filter(role=Role.PARTNER).values_list("user__username", flat=True)
    )
    logins = dict(login_lines(output))
    assert logins.keys() & partners
    assert logins[ADMIN_USERNAME] == "admin"


def test_seed_demo_same_seed_rebuilds_the_same_firm_and_another_seed_does_not():
    seed_demo("--seed", "42")
    first = snapshot()
    delete_demo()
    assert not Engagement.objects.exists() and not StaffMember.objects.exists()

    seed_demo("--seed", "42")
    again = snapshot()
    delete_demo()
    seed_demo("--seed", "7")
    other = snapshot()

    assert again == first
    for part in ("staff", "clients", "engagements", "tasks"):
        assert other[part] != first[part], part


def test_seed_demo_refuses_a_database_built_with_another_seed():
    seed_demo("--seed", "42")

    with pytest.raises(CommandError, match="another --seed"):
        seed_demo("--seed", "7")


def test_seed_demo_rejects_a_malformed_date():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("seed_demo", "--today", "22/11/2026", stdout=StringIO())


def test_seed_demo_logins_authenticate_with_the_demo_password():
    logins = login_lines(seed_demo())

    assert [role for _, role in logins] == ["partner", "manager", "senior", "associate", "admin"]
    for username, _role in logins:
        request = RequestFactory().post("/login/")  # as the login page asks
        assert authenticate(request, username=username, password=DEMO_PASSWORD), username
    partner = get_user_model().objects.get(username=logins[0][0])
    assert set(partner.groups.values_list("name", flat=True)) == {"staff", "manager", "partner"}
    associate = get_user_model().objects.get(username=logins[3][0])
    assert set(associate.groups.values_list("name", flat=True)) == {"staff"}
    assert Task.objects.filter(assignee__user=associate, status__in=OPEN).exists()
