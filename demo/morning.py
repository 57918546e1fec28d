"""This morning at the demo firm, played through the live services.

The history (``demo.build``) ends at this morning; what happens next is what any
firm's Monday brings, and it goes through the code a firm runs, never a copy:

1. Documents in: the last documents of the engagements next in line arrive
   (``required_document_receive``), which readies their preparers; each is
   dispatched the way the worker does it (``task_dispatch``).
2. Work a manager must look at, each case found by asking the live service in a
   savepoint that is undone when the engine answers otherwise: work nobody is
   qualified for, work nobody has room for this week, work nobody can finish
   before its deadline (the three causes an escalation digest groups by), and
   clients asking by name for someone without room (confirmations).
3. The first sweep (``dispatch_sweep``): work come near its due date, and one
   digest per manager for the morning's escalations.

The morning is one batch, as a sweep is: escalations wait for the digest and each
person's new assignments are folded into one email, so a new firm's first morning
reaches each person as one email, not one per task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from capacity.selectors import staff_loads
from clients.choices import BillingModel, EntityType, ExternalSource, ValueTier
from clients.models import Client, ClientExternalId
from core.calendar import firm_calendar
from demo.specs import DemoPlan
from dispatch.choices import DecisionOutcome, Trigger
from dispatch.messages import (
    CAUSE_CAPACITY,
    CAUSE_DEADLINE,
    CAUSE_SKILLS,
    escalation_cause,
)
from dispatch.models import DispatchDecision, Escalation
from dispatch.services import task_dispatch
from dispatch.sweeps import dispatch_sweep
from engagements.choices import EngagementSource, Milestone, TaskRole, TaskStatus
from engagements.models import Engagement, RequiredDocument, Task, WorkType
from engagements.services import engagement_create, required_document_receive
from staff.choices import Role
from staff.models import StaffMember

# How many engagements' documents come in this morning.
ARRIVALS = 24
CONFIRMATIONS = 3


@dataclass
class MorningReport:
    """What this morning did, for ``seed_demo``'s output and the tests."""

    arrivals: list[DispatchDecision] = field(default_factory=list)
    escalations: dict[str, Escalation] = field(default_factory=dict)  # by cause
    confirmations: list[DispatchDecision] = field(default_factory=list)
    swept: int = 0

    def lines(self) -> list[str]:
        assigned = sum(d.outcome == DecisionOutcome.ASSIGNED for d in self.arrivals)
        causes = ", ".join(cause.lower() for cause in self.escalations) or "none"
        return [
            "This morning (live services):",
            f"  documents in for {len(self.arrivals)} engagements: {assigned} assigned",
            f"  escalations for a manager: {len(self.escalations)} ({causes})",
            f"  requested staff waiting for confirmation: {len(self.confirmations)}",
            f"  first sweep: {self.swept} task(s) near their due date tried",
        ]


class _NotThisOne(Exception):
    """The engine answered otherwise: undo the attempt."""


def demo_morning(*, plan: DemoPlan, today: date) -> MorningReport:
    """Run this morning for a freshly built demo firm (see the module docstring)."""
    report = MorningReport()
    started = timezone.now()
    morning = _Morning(plan, today)
    report.arrivals = morning.documents_in()
    for cause, story in (
        (CAUSE_SKILLS, morning.nobody_qualified),
        (CAUSE_CAPACITY, morning.nobody_with_room),
        (CAUSE_DEADLINE, morning.nobody_before_the_deadline),
    ):
        escalation = story()
        if escalation is not None:
            report.escalations[cause] = escalation
    report.confirmations = morning.requests_without_room()
    report.swept = dispatch_sweep(today=today, since=started)
    return report


# A story's try: (estimated hours, due date, the client's seniority floor).
Variant = tuple[Decimal, date, int | None]


class _Morning:
    def __init__(self, plan: DemoPlan, today: date) -> None:
        self.plan = plan
        self.today = today
        self.calendar = firm_calendar()
        self.prefix = f"{plan.size.key_prefix}-morning"
        self.work_types = {wt.code: wt for wt in WorkType.objects.filter(active=True)}

    # 1. Documents in ---------------------------------------------------------------

    def documents_in(self) -> list[DispatchDecision]:
        """The engagements whose last documents were due to arrive next come in now."""
        now = self.plan_now()
        waiting = sorted(
            (max(at for _name, at in spec.documents), spec.key)
            for spec in self.plan.engagements
            if spec.documents
            and spec.milestone == Milestone.DOCUMENTS_REQUESTED
            and any(at > now for _name, at in spec.documents)
            and spec.tasks[0].estimated_hours is not None
        )
        keys = [key for _at, key in waiting]
        engagements = {
            e.external_id: e
            for e in Engagement.objects.filter(
                source=EngagementSource.DEMO, external_id__in=keys
            ).only("pk", "external_id")
        }
        decisions = []
        for key in keys:
            engagement = engagements.get(key)
            if engagement is None:
                continue
            decision = self._ready_and_dispatch(engagement, Trigger.DOCUMENTS_RECEIVED)
            if decision is not None:
                decisions.append(decision)
            if len(decisions) == ARRIVALS:
                break
        return decisions

    def plan_now(self) -> datetime:
        """The plan's "now": this morning, as the history was cut."""
        return datetime.combine(self.today, time(9, 0))

    def _ready_and_dispatch(
        self, engagement: Engagement, trigger: str, *, batch: bool = True
    ) -> DispatchDecision | None:
        """Receive what is outstanding, then dispatch the preparer as the worker does."""
        for document_id in RequiredDocument.objects.filter(
            engagement=engagement, received_at__isnull=True
        ).values_list("pk", flat=True):
            required_document_receive(document_id=document_id)
        preparer = Task.objects.filter(
            engagement=engagement, role=TaskRole.PREPARER, status=TaskStatus.UNASSIGNED
        ).first()
        if preparer is None:
            return None
        return task_dispatch(
            task_id=preparer.pk,
            trigger=trigger,
            today=self.today,
            only_if_requested=True,
            batch=batch,
        )

    # 2. Work for a manager --------------------------------------------------------

    def escalate_for(
        self, cause: str, build: Callable[[], Engagement], variants: Iterable[Variant]
    ) -> Escalation | None:
        """Open the story's engagement, then try its variants (hours, due date, the
        client's seniority floor) until the live dispatch escalates it for ``cause``;
        every other try is undone, and the engagement too if none does."""
        try:
            with transaction.atomic():
                engagement = build()
                for variant in variants:
                    try:
                        with transaction.atomic():
                            self._vary(engagement, variant)
                            decision = self._ready_and_dispatch(
                                engagement, Trigger.DOCUMENTS_RECEIVED
                            )
                            escalation = (
                                Escalation.objects.select_related("decision", "task")
                                .filter(decision=decision)
                                .first()
                            )
                            if escalation is None or escalation_cause(escalation) != cause:
                                raise _NotThisOne
                            return escalation
                    except _NotThisOne:
                        continue
                raise _NotThisOne
        except _NotThisOne:
            return None

    def _vary(self, engagement: Engagement, variant: Variant) -> None:
        hours, due, floor = variant
        Client.objects.filter(pk=engagement.client_id).update(min_seniority=floor)
        Engagement.objects.filter(pk=engagement.pk).update(due_date=due, estimated_hours=hours)
        Task.objects.filter(engagement=engagement, role=TaskRole.PREPARER).update(
            estimated_hours=hours, due_date=due
        )

    def _client(self, key: str, name: str, **fields: object) -> Client:
        """A client that signed this week."""
        partner = StaffMember.objects.filter(role=Role.PARTNER, active=True).order_by("pk").first()
        client = Client.objects.create(
            name=name,
            relationship_partner=partner,
            billing_model=BillingModel.HOURLY,
            **fields,  # type: ignore[arg-type]
        )
        ClientExternalId.objects.create(
            client=client, source=ExternalSource.DEMO, external_id=f"{self.prefix}-{key}"
        )
        return client

    def _engagement(
        self,
        client: Client,
        code: str,
        name: str,
        *,
        key: str,
        hours: Decimal = Decimal("8"),
        due: date | None = None,
        instructions: str = "",
        requested: StaffMember | None = None,
    ) -> Engagement:
        return engagement_create(
            client=client,
            work_type=self.work_types[code],
            due_date=due or self.calendar.add_business_days(self.today, 5),
            period_start=self.today.replace(day=1),
            period_end=self.today,
            estimated_hours=hours,
            name=name,
            special_instructions=instructions,
            requested_staff=requested,
            source=EngagementSource.DEMO,
            external_id=f"{self.prefix}-{key}",
        )

    def nobody_qualified(self) -> Escalation | None:
        """A new key client whose board wants a partner on the books: partners do not
        prepare bookkeeping, everyone else is below the client's floor."""

        def build() -> Engagement:
            client = self._client(
                "partner-books",
                "Halvorsen Marine Holdings Inc.",
                entity_type=EntityType.C_CORP,
                value_tier=ValueTier.KEY,
                contact_name="Ingrid Halvorsen",
                email="ingrid@halvorsenmarine.example",
                notes="Sale of the company under way: the board asked for a partner on "
                "every piece of work until closing.",
            )
            return self._engagement(
                client, "monthly_bookkeeping", f"Bookkeeping {self.today:%B %Y}", key="books"
            )

        due = self.calendar.add_business_days(self.today, 6)
        return self.escalate_for(CAUSE_SKILLS, build, [(Decimal("8"), due, 6)])

    def nobody_with_room(self) -> Escalation | None:
        """Months of catch-up bookkeeping a lender wants by the end of the week: more
        than anyone qualified can add to this week without passing their threshold."""

        def build() -> Engagement:
            client = self._client(
                "catch-up",
                "Ferreira Bakehouse LLC",
                entity_type=EntityType.PARTNERSHIP,
                value_tier=ValueTier.STANDARD,
                contact_name="Lucia Ferreira",
                email="lucia@ferreirabakehouse.example",
                notes="New client: books not kept since January.",
            )
            return self._engagement(
                client,
                "monthly_bookkeeping",
                "Catch-up bookkeeping, January to date",
                key="catch-up",
                instructions="The bank's loan review needs these financials by Friday.",
            )

        friday = self.today + timedelta(days=4 - self.today.weekday())
        if friday < self.today:  # the weekend: next week's Friday
            friday += timedelta(days=7)
        due = max(self.calendar.previous_business_day(friday), self.today)
        return self.escalate_for(
            CAUSE_CAPACITY,
            build,
            [(Decimal(hours), due, None) for hours in ("60", "90", "140")],
        )

    def nobody_before_the_deadline(self) -> Escalation | None:
        """Work for a lender meeting within a day or two, more than a day's work: some of
        the few people who may do it have room this week, but not that much before
        then. The engine decides which variant shows it."""
        dues = [self.calendar.add_business_days(self.today, offset) for offset in (1, 0)]
        for code, floors in (("cfo_advisory", (None,)), ("1040", (5, None))):

            def build(code: str = code) -> Engagement:
                client = self._client(
                    "lender-meeting",
                    "Okafor Freight Systems Inc.",
                    entity_type=EntityType.S_CORP,
                    value_tier=ValueTier.KEY,
                    contact_name="Chidi Okafor",
                    email="chidi@okaforfreight.example",
                    notes="Refinancing the fleet; the lender meets the owners this week. "
                    "The owners want senior people on it.",
                )
                return self._engagement(
                    client,
                    code,
                    LENDER_WORK[code],
                    key="lender-meeting",
                    instructions="Needed for the lender meeting: cash-flow forecast and "
                    "covenant figures.",
                )

            variants = [
                (Decimal(hours), due, floor)
                for due in dues
                for floor in floors
                for hours in ("12", "9", "16", "6")
            ]
            escalation = self.escalate_for(CAUSE_DEADLINE, build, variants)
            if escalation is not None:
                return escalation
        return None

    def requests_without_room(self) -> list[DispatchDecision]:
        """Clients asking, for extra work, for the person who knows them — who has no
        room: the engine asks a manager to confirm."""
        loads = staff_loads(
            staff=StaffMember.objects.filter(active=True).exclude(role=Role.PARTNER),
            today=self.today,
        )
        busiest = sorted(loads.values(), key=lambda load: -load.utilization)
        confirmed: list[DispatchDecision] = []
        used: set[int] = set()
        for load in busiest:
            if len(confirmed) == CONFIRMATIONS:
                break
            for task in (
                Task.objects.filter(assignee=load.member, role=TaskRole.PREPARER)
                .exclude(engagement__client_id__in=used)
                .select_related("engagement__client", "engagement__work_type")
                .order_by("-assigned_at", "pk")[:8]
            ):
                decision = self._request(task, load.member)
                if decision is not None:
                    confirmed.append(decision)
                    used.add(task.engagement.client_id)
                    break
        return confirmed

    def _request(self, task: Task, person: StaffMember) -> DispatchDecision | None:
        work_type = task.engagement.work_type
        client = task.engagement.client
        try:
            with transaction.atomic():
                engagement = self._engagement(
                    client,
                    work_type.code,
                    EXTRA_WORK.get(work_type.code, f"Additional {work_type.name.lower()}"),
                    hours=Decimal("6"),
                    due=self.calendar.add_business_days(self.today, 4),
                    key=f"request-{client.pk}",
                    instructions=f"The client asked for {person.display_name} by name.",
                    requested=person,
                )
                decision = self._ready_and_dispatch(engagement, Trigger.DOCUMENTS_RECEIVED)
                if decision is None or decision.outcome != DecisionOutcome.NEEDS_CONFIRMATION:
                    raise _NotThisOne
                return decision
        except _NotThisOne:
            return None


LENDER_WORK = {
    "cfo_advisory": "CFO session: lender meeting pack",
    "1040": "Owners' personal returns for the lender (Form 1040-X)",
    "1120": "Amended corporate return for the lender",
}

EXTRA_WORK = {
    "1040": "Amended return (Form 1040-X)",
    "1120": "Amended corporate return",
    "monthly_bookkeeping": "Bookkeeping clean-up, last quarter",
    "month_end_close": "Re-close of last month after late invoices",
    "payroll": "Off-cycle payroll run",
    "1099": "Corrected Forms 1099",
    "cfo_advisory": "Extra CFO session: lender meeting",
}
