"""The demo firm as a new user meets it: ``seed_demo`` builds the history, then plays
this morning through the live services (documents in, work for managers, the first
sweep). What each demo login finds, what the log says, and how much mail it sends.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client as Browser
from django.utils import timezone

from capacity.models import MoveStatus, PlanMove, ScenarioKind
from dispatch.choices import DecisionOutcome, EscalationStatus
from dispatch.messages import CAUSE_CAPACITY, CAUSE_DEADLINE, CAUSE_SKILLS, escalation_cause
from dispatch.models import DispatchDecision, Escalation
from dispatch.sweeps import dispatch_sweep
from engagements.choices import TaskRole, TaskStatus
from engagements.models import ReviewException, Task
from notifications.choices import NotificationStatus, NotificationTemplate
from notifications.models import Notification
from staff.choices import Role

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PASSWORD = "closeloop-demo"
NO_PARTNER_PREPARES = ("monthly_bookkeeping", "payroll", "month_end_close")
BILLING_MAIL = (
    NotificationTemplate.INVOICE_ISSUED,
    NotificationTemplate.PAYMENT_RECEIVED,
    NotificationTemplate.FOLLOWUP_TOUCH,
)


def seed_with_morning(today: str) -> dict[str, str]:
    """Run ``seed_demo`` as ``./scripts/run`` does; the printed logins by role."""
    out = StringIO()
    call_command("seed_demo", "--today", today, stdout=out)
    text = out.getvalue()
    logins = dict(
        (role, username)
        for username, role in re.findall(
            r"^  (\S+)\s+(partner|manager|senior|associate|admin)\b", text, re.M
        )
    )
    assert set(logins) == {"partner", "manager", "senior", "associate", "admin"}, text
    return logins


def signed_in(username: str) -> Browser:
    user = get_user_model().objects.get(username=username)
    assert user.check_password(PASSWORD)
    browser = Browser()
    browser.force_login(user)
    return browser


def test_demo_morning_looks_like_a_healthy_firm_in_a_busy_week():
    started = timezone.now()
    logins = seed_with_morning("2026-11-22")
    # After the morning, the rebalancing loop has found work of its own to propose moving.
    proposals = PlanMove.objects.filter(kind=ScenarioKind.REBALANCE, status=MoveStatus.PENDING)
    assert proposals.filter(scenario__created_by__isnull=True).exists()
    # The first beat tick after ./scripts/run starts: a sweep over what the morning left.
    dispatch_sweep(today=date(2026, 11, 22))

    # Most work dispatches on its own: escalations are at most a tenth of the log,
    # and of what this morning's live dispatches and sweeps decided.
    outcomes = Counter(DispatchDecision.objects.values_list("outcome", flat=True))
    total = sum(outcomes.values())
    assert total >= 100
    assert outcomes[DecisionOutcome.ESCALATED] <= total // 10, outcomes
    # The morning is the new firm's first batch (documents in for 24 engagements, the
    # three stories, the first sweep): it decides real work, at most a tenth escalates.
    morning = DispatchDecision.objects.filter(created_at__gte=started)
    assert morning.count() >= 20, morning.count()
    assert morning.filter(outcome=DecisionOutcome.ESCALATED).count() * 10 <= morning.count()

    # A handful of escalations, each for a different reason.
    open_escalations = list(
        Escalation.objects.filter(status=EscalationStatus.OPEN).select_related("decision")
    )
    causes = Counter(escalation_cause(e) for e in open_escalations)
    assert causes == {CAUSE_SKILLS: 1, CAUSE_CAPACITY: 1, CAUSE_DEADLINE: 1}, causes

    # A few requested-staff confirmations waiting.
    waiting = DispatchDecision.objects.awaiting_confirmation().filter(
        task__status=TaskStatus.UNASSIGNED
    )
    assert 2 <= waiting.count() <= 4

    # No partner prepares bookkeeping, payroll or close work, past or present.
    assert not Task.objects.filter(
        role=TaskRole.PREPARER,
        assignee__role=Role.PARTNER,
        engagement__work_type__code__in=NO_PARTNER_PREPARES,
    ).exists()

    # Each demo login lands on a page with something to act on.
    associate = signed_in(logins["associate"])
    home = associate.get("/")
    assert home.context["my_counts"]["awaiting"] >= 1
    assert b">Accept</button>" in associate.get("/queue/").content

    senior = signed_in(logins["senior"])
    queue = senior.get("/queue/").content
    assert any(
        label.encode() in queue
        for label in (">Accept</button>", ">Start</button>", ">Complete…</a>")
    )

    for role in ("manager", "partner", "admin"):
        attention = signed_in(logins[role]).get("/").context["attention"]
        assert attention["escalated"] == 3, role
        assert attention["awaiting"] >= 2, role
    manager = signed_in(logins["manager"])
    assert manager.get("/escalations/").content.count(b'class="card escalation"') == 3

    # The partner: last month's close with its median, the exceptions holding it.
    board = signed_in(logins["partner"]).get("/close/?period=2026-10").context["board"]
    assert board.median_close_days is not None and 6 <= board.median_close_days <= 11
    assert ReviewException.objects.filter(resolved_at__isnull=True).exists()
    assert any(row.open_exceptions for row in board.rows)

    # The first sweep never mail-bombs: one digest per manager at most, and nobody
    # gets more than a few emails about work from the whole morning (a client's
    # invoice, receipt and payment reminders are the billing history's own story).
    digests = Counter(
        Notification.objects.filter(template=NotificationTemplate.ESCALATION_DIGEST).values_list(
            "staff_member_id", flat=True
        )
    )
    assert digests and max(digests.values()) == 1
    sent = (
        Notification.objects.exclude(status=NotificationStatus.SKIPPED)
        .filter(channel="email")
        .exclude(template__in=BILLING_MAIL)
    )
    per_person = Counter(sent.values_list("recipient", flat=True))
    most, _count = per_person.most_common(1)[0]
    assert max(per_person.values()) <= 3, (
        per_person.most_common(3),
        list(sent.filter(recipient=most).values_list("template", "subject")),
    )
    # The firm's people get a few dozen emails in all; each client whose documents
    # came in gets its receipt (counted per person above).
    to_staff = sent.filter(staff_member__isnull=False)
    assert to_staff.count() <= 40, Counter(to_staff.values_list("template", flat=True))
