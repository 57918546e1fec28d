"""Plain helpers shared by the dispatch tests: the frozen clock, work and loads, mail."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives

from clients.models import Client
from engagements.choices import TaskRole, TaskStatus
from engagements.models import Task, WorkType
from engagements.services import engagement_create
from staff.models import StaffMember
from tests.factories import TaskFactory


def firm_time(*args: int) -> datetime:
    """An aware datetime on the firm's wall clock, e.g. ``firm_time(2026, 11, 17, 10)``."""
    return datetime(*args, tzinfo=ZoneInfo(settings.TIME_ZONE))


# Tuesday 2026-11-17, 10:00 at the firm: a plain week, Tuesday to Friday left (32
# working hours for a 40-hour person); Thanksgiving is the Thursday after.
FROZEN_NOW = firm_time(2026, 11, 17, 10)
TODAY = FROZEN_NOW.date()
FRIDAY = date(2026, 11, 20)
DUE = date(2026, 12, 4)  # a Friday, three weeks out


def bookkeeping_task(client: Client, *, due_date: date = DUE, **kwargs: object) -> Task:
    """A monthly-bookkeeping engagement's preparer task (needs skill bookkeeping; weight 0.8)."""
    engagement = engagement_create(
        client=client,
        work_type=WorkType.objects.get(code="monthly_bookkeeping"),
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        due_date=due_date,
        **kwargs,  # type: ignore[arg-type]
    )
    return engagement.tasks.get(role=TaskRole.PREPARER)


def load_up(
    member: StaffMember, hours: str, due: date = FRIDAY, status: str = TaskStatus.ACCEPTED
) -> Task:
    """Give ``member`` open bookkeeping work of ``hours`` (x 0.8 weighted) due on ``due``."""
    return TaskFactory(
        assignee=member,
        status=status,
        estimated_hours=Decimal(hours),
        due_date=due,
        engagement__work_type=WorkType.objects.get(code="monthly_bookkeeping"),
    )


def emails_to(address: str) -> list[EmailMessage]:
    return [message for message in mail.outbox if address in message.to]


def html_of(message: EmailMessage) -> str:
    assert isinstance(message, EmailMultiAlternatives)
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return str(content)
