"""Every notification Closeloop sends, in one place: who gets what, on which channel.

1. A builder decides recipients and renders the message for one event.
2. ``notify`` stores one row per (channel, recipient) under an idempotency key;
   a second call for the same event finds the rows and sends nothing new.
3. After commit, a worker sends each row: claimed by a conditional update, so a
   retried task never sends twice; failures retry with backoff, then show as failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dispatch.channels import SENDERS, PermanentSendError, TransientSendError, slack_configured
from dispatch.choices import Channel, NotificationStatus, NotificationTemplate
from dispatch.links import action_url
from dispatch.models import DispatchDecision, Escalation, Notification
from engagements.choices import Milestone, TaskRole
from engagements.models import Engagement, RequiredDocument, ReviewException, Task
from engagements.uploads import upload_url
from staff.choices import Role
from staff.models import StaffMember

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    key: str  # idempotency key for the event; channel and recipient are appended
    template: str
    subject: str
    context: dict[str, object]
    task: Task | None = None
    layout: str | None = None  # template files to render, when shared (checkpoints)


def _task_url(task: Task) -> str:
    return settings.SITE_URL + reverse("dispatch:task-detail", args=[task.pk])


def _task_facts(task: Task) -> dict[str, object]:
    engagement = task.engagement
    return {
        "task": task,
        "engagement": engagement,
        "client": engagement.client,
        "work_type": engagement.work_type,
        "task_url": _task_url(task),
        "firm_name": settings.FIRM_NAME,
    }


def _render(template: str, context: dict[str, object]) -> tuple[str, str]:
    text = render_to_string(f"emails/{template}.txt", context).strip() + "\n"
    html = render_to_string(f"emails/{template}.html", context)
    return text, html


def notification_key(event_key: str, channel: str, recipient: str) -> str:
    """The stored row's idempotency key: one per (event, channel, recipient)."""
    return f"{event_key}:{channel}:{recipient}"[:200]


def notify(
    message: Message,
    *,
    staff: list[StaffMember] = (),  # type: ignore[assignment]
    emails: list[str] = (),  # type: ignore[assignment]
    countdown: int = 0,
) -> list[Notification]:
    """Store the message for each recipient (email, plus Slack for staff) and queue the sends."""
    text, html = _render(message.layout or message.template, message.context)
    send_after = timezone.now() + timedelta(seconds=countdown) if countdown else None
    rows: list[tuple[str, str, StaffMember | None]] = []
    for member in staff:
        if member.email:
            rows.append((Channel.EMAIL, member.email, member))
        if slack_configured() and (member.slack_member_id or not settings.SLACK_BOT_TOKEN):
            rows.append((Channel.SLACK, member.slack_member_id or member.display_name, member))
    rows += [(Channel.EMAIL, address, None) for address in emails if address]
    created: list[Notification] = []
    for channel, recipient, member in rows:
        key = notification_key(message.key, channel, recipient)
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    idempotency_key=key,
                    channel=channel,
                    template=message.template,
                    recipient=recipient,
                    subject=message.subject,
                    body=text,
                    html_body=html if channel == Channel.EMAIL else "",
                    task=message.task,
                    staff_member=member,
                    send_after=send_after,
                )
        except IntegrityError:
            continue  # this event already notified this recipient on this channel
        created.append(notification)
        _queue_send(notification.pk, countdown)
    return created


def _queue_send(notification_id: int, countdown: int) -> None:
    from dispatch.tasks import notification_send_task

    transaction.on_commit(
        lambda: notification_send_task.apply_async((notification_id,), countdown=countdown or None)
    )


def _documents_still_wanted(engagement_id: int) -> bool:
    return Engagement.objects.filter(
        pk=engagement_id,
        milestone=Milestone.DOCUMENTS_REQUESTED,
        required_documents__received_at__isnull=True,
    ).exists()


def _key_id(notification: Notification) -> int:
    """The object id a client notification's key names: <event>:<id>:..."""
    return int(notification.idempotency_key.split(":")[1])


def _still_applies(notification: Notification) -> bool:
    """Notifications about a task that has since moved on are skipped, not sent."""
    template = notification.template
    if template in (NotificationTemplate.DOCUMENT_REQUEST, NotificationTemplate.DOCUMENT_REMINDER):
        # The client sent everything (or staff moved on) while the email waited.
        return _documents_still_wanted(_key_id(notification))
    if template == NotificationTemplate.CLARIFICATION_REQUEST:
        return ReviewException.objects.filter(
            pk=_key_id(notification), resolved_at__isnull=True
        ).exists()
    task = notification.task
    if task is None:
        return True
    if template == NotificationTemplate.CLIENT_CONFIRMATION:
        # key: client_confirmation:<engagement>:<assignee>:<channel>:<recipient>
        named = notification.idempotency_key.split(":")[2]
        return str(task.assignee_id) == named
    if template in (NotificationTemplate.TASK_ASSIGNED,):
        return task.assignee_id == notification.staff_member_id
    if template.startswith("checkpoint_") or template == NotificationTemplate.STAFF_OVERLOADED:
        return task.status not in ("completed", "cancelled")
    return True


def notification_send(*, notification_id: int) -> str:
    """Send one stored notification at most once; returns its status afterwards.

    ``retrying`` tells the caller to try again later; every other status is final.
    """
    claimed = Notification.objects.filter(
        pk=notification_id,
        status__in=[NotificationStatus.PENDING, NotificationStatus.RETRYING],
    ).update(
        status=NotificationStatus.SENDING, attempts=F("attempts") + 1, claimed_at=timezone.now()
    )
    if not claimed:
        # Someone else sent it (or is sending it), or it already gave up.
        return (
            Notification.objects.filter(pk=notification_id).values_list("status", flat=True).first()
            or "missing"
        )
    notification = Notification.objects.select_related(
        "task__engagement__client", "task__engagement__work_type"
    ).get(pk=notification_id)
    if not _still_applies(notification):
        notification.status = NotificationStatus.SKIPPED
        notification.save(update_fields=["status"])
        return notification.status
    try:
        SENDERS[notification.channel](notification)
    except TransientSendError as exc:
        final = notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
        notification.status = NotificationStatus.FAILED if final else NotificationStatus.RETRYING
        notification.last_error = str(exc)[:2000]
    except PermanentSendError as exc:
        notification.status = NotificationStatus.FAILED
        notification.last_error = str(exc)[:2000]
    except Exception as exc:  # a bug or an unexpected library error: retry, then show it
        logger.exception("notification %s: unexpected error while sending", notification.pk)
        final = notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
        notification.status = NotificationStatus.FAILED if final else NotificationStatus.RETRYING
        notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    else:
        notification.status = NotificationStatus.SENT
        notification.sent_at = timezone.now()
        notification.last_error = ""
    notification.save(update_fields=["status", "last_error", "sent_at"])
    if notification.status == NotificationStatus.FAILED:
        logger.error(
            "notification %s failed for good: %s", notification.pk, notification.last_error
        )
    return notification.status


# --- Builders: one per event --------------------------------------------------


def _managers_of(member: StaffMember | None) -> list[StaffMember]:
    if member is not None and member.manager_id:
        manager = StaffMember.objects.select_related("user").get(pk=member.manager_id)
        if manager.active:
            return [manager]
    return list(
        StaffMember.objects.filter(
            active=True, role__in=[Role.MANAGER, Role.PARTNER]
        ).select_related("user")[:3]
    )


def notify_task_assigned(*, decision_id: int) -> None:
    decision = DispatchDecision.objects.select_related(
        "assignee__user", "task__engagement__client", "task__engagement__work_type"
    ).get(pk=decision_id)
    task, assignee = decision.task, decision.assignee
    if assignee is None or task.assignee_id != assignee.pk:
        return
    context = {
        **_task_facts(task),
        "assignee": assignee,
        "accept_url": action_url(task_id=task.pk, staff_id=assignee.pk, action="accept"),
        "reassign_url": action_url(task_id=task.pk, staff_id=assignee.pk, action="reassign"),
        "decision": decision,
    }
    engagement = task.engagement
    notify(
        Message(
            key=f"task_assigned:{decision.pk}",
            template=NotificationTemplate.TASK_ASSIGNED,
            subject=f"New assignment: {engagement.client.name} — {engagement.work_type.name} (due {task.due_date:%b %-d})",
            context=context,
            task=task,
        ),
        staff=[assignee],
    )
    if task.role == TaskRole.PREPARER and engagement.client.email:
        notify_client_confirmation(task=task, assignee=assignee)
    if decision.over_threshold and decision.urgent_override:
        notify(
            Message(
                key=f"staff_overloaded:{decision.pk}",
                template=NotificationTemplate.STAFF_OVERLOADED,
                subject=f"Urgent work overloaded {assignee.display_name}",
                context={**context, "reasons": decision.reasons},
                task=task,
            ),
            staff=_managers_of(assignee),
        )


def notify_client_confirmation(*, task: Task, assignee: StaffMember) -> None:
    engagement = task.engagement
    outstanding = list(
        engagement.required_documents.filter(received_at__isnull=True).values_list(
            "name", flat=True
        )
    )
    notify(
        Message(
            key=f"client_confirmation:{engagement.pk}:{assignee.pk}",
            template=NotificationTemplate.CLIENT_CONFIRMATION,
            subject=f"Your {engagement.work_type.name} is scheduled",
            context={**_task_facts(task), "assignee": assignee, "outstanding": outstanding},
            task=task,
        ),
        emails=[engagement.client.email],
        countdown=settings.CLIENT_CONFIRMATION_DELAY_SECONDS,
    )


def notify_confirmation_needed(*, decision_id: int) -> None:
    decision = DispatchDecision.objects.select_related(
        "assignee__user", "task__engagement__client", "task__engagement__work_type"
    ).get(pk=decision_id)
    task = decision.task
    notify(
        Message(
            key=f"confirmation_needed:{decision.pk}",
            template=NotificationTemplate.CONFIRMATION_NEEDED,
            subject=f"Confirm {decision.assignee} for {task.engagement.client.name}",
            context={**_task_facts(task), "decision": decision, "reasons": decision.reasons},
            task=task,
        ),
        staff=_managers_of(decision.assignee),
    )


def _escalation_recipients(escalation: Escalation) -> list[StaffMember]:
    """The managers of the people who could do the work, and the client's partner."""
    qualified = [row["staff_id"] for row in escalation.decision.candidates if row.get("qualified")]
    manager_ids = set(
        StaffMember.objects.filter(pk__in=qualified)
        .exclude(manager=None)
        .values_list("manager_id", flat=True)
    )
    partner_id = escalation.task.engagement.client.relationship_partner_id
    if partner_id:
        manager_ids.add(partner_id)
    recipients = list(
        StaffMember.objects.filter(pk__in=manager_ids, active=True)
        .select_related("user")
        .order_by("pk")
    )
    return recipients or _managers_of(None)


def notify_escalation_opened(*, escalation_id: int) -> None:
    escalation = Escalation.objects.select_related(
        "decision", "task__engagement__client", "task__engagement__work_type"
    ).get(pk=escalation_id)
    task = escalation.task
    recipients = _escalation_recipients(escalation)
    notify(
        Message(
            key=f"escalation_opened:{escalation.pk}",
            template=NotificationTemplate.ESCALATION_OPENED,
            subject=f"Nobody fits: {task.engagement.client.name} — {task.engagement.work_type.name}",
            context={**_task_facts(task), "escalation": escalation},
            task=task,
        ),
        staff=recipients,
    )


def _outstanding_names(engagement: Engagement) -> list[str]:
    return list(
        RequiredDocument.objects.filter(engagement=engagement, received_at__isnull=True)
        .order_by("name")
        .values_list("name", flat=True)
    )


def _client_facts(engagement: Engagement) -> dict[str, object]:
    """What every email to the client carries: who we are, the work, a fresh upload link."""
    return {
        "engagement": engagement,
        "client": engagement.client,
        "work_type": engagement.work_type,
        "firm_name": settings.FIRM_NAME,
        "upload_url": upload_url(engagement),
        "link_days": settings.UPLOAD_LINK_MAX_AGE_SECONDS // 86400,
    }


def _work_label(engagement: Engagement) -> str:
    period = f" ({engagement.period_end:%b %Y})" if engagement.period_end else ""
    return f"{engagement.work_type.name}{period}"


def notify_document_request(*, engagement_id: int) -> None:
    """The client's checklist and upload link, when the engagement enters documents_requested."""
    engagement = Engagement.objects.select_related("client", "work_type").get(pk=engagement_id)
    outstanding = _outstanding_names(engagement)
    if engagement.milestone != Milestone.DOCUMENTS_REQUESTED or not outstanding:
        return  # moved on before this ran, or nothing to ask for
    notify(
        Message(
            key=f"document_request:{engagement.pk}",
            template=NotificationTemplate.DOCUMENT_REQUEST,
            subject=f"Please send your documents: {_work_label(engagement)}",
            context={**_client_facts(engagement), "outstanding": outstanding},
        ),
        emails=[engagement.client.email],
    )


REMINDER_LAST = 3


def notify_document_reminder(
    *, engagement: Engagement, number: int, requested_at: datetime
) -> list[Notification]:
    """Reminder ``number`` (1..3) that documents are still outstanding; at most once each."""
    outstanding = _outstanding_names(engagement)
    if not outstanding:
        return []
    final = number >= REMINDER_LAST
    return notify(
        Message(
            key=f"document_reminder:{engagement.pk}:{number}",
            template=NotificationTemplate.DOCUMENT_REMINDER,
            subject=f"{'Final reminder' if final else 'Reminder'}: documents still needed for your {_work_label(engagement)}",
            context={
                **_client_facts(engagement),
                "outstanding": outstanding,
                "requested_at": requested_at,
                "final": final,
            },
        ),
        emails=[engagement.client.email],
    )


def notify_clarification_request(*, exception_id: int) -> None:
    """The reviewer's question to the client, with the upload link for any new document."""
    exception = ReviewException.objects.select_related(
        "engagement__client", "engagement__work_type", "task"
    ).get(pk=exception_id)
    engagement = exception.engagement
    if exception.resolved_at is not None:
        return
    notify(
        Message(
            key=f"clarification:{exception.pk}",
            template=NotificationTemplate.CLARIFICATION_REQUEST,
            subject=f"A question about your {_work_label(engagement)}",
            context={**_client_facts(engagement), "note": exception.note},
            task=exception.task,
        ),
        emails=[engagement.client.email],
    )


def failed_notification_list(*, limit: int = 200) -> list[Notification]:
    return list(
        Notification.objects.filter(status=NotificationStatus.FAILED)
        .select_related("task__engagement__client", "task__engagement__work_type")
        .order_by("-created_at")[:limit]
    )


@transaction.atomic
def notification_retry(*, notification_id: int) -> bool:
    """A manager sends a permanently failed notification again (attempts start over)."""
    reset = Notification.objects.filter(
        pk=notification_id, status=NotificationStatus.FAILED
    ).update(status=NotificationStatus.PENDING, attempts=0, last_error="")
    if reset:
        _queue_send(notification_id, 0)
    return bool(reset)


# A worker that dies between claiming a send and recording its outcome leaves the
# row "sending"; it may or may not have gone out, so it is never resent blindly.
STUCK_AFTER = timedelta(minutes=15)


def notifications_reap_stuck(*, now: datetime | None = None) -> int:
    """Mark sends stuck in "sending" as failed, so a manager sees them and decides."""
    now = now or timezone.now()
    return Notification.objects.filter(
        status=NotificationStatus.SENDING, claimed_at__lt=now - STUCK_AFTER
    ).update(
        status=NotificationStatus.FAILED,
        last_error="The worker stopped while sending; it may not have gone out. Not resent automatically.",
    )
