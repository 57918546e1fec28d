"""Who may open what: every URL of the URL conf × every role, with the status each gets.

The URL conf is read at collection time. Every named pattern outside the admin needs
a row in ``MATRIX`` (and its arguments in ``URL_ARGS`` if it takes any); every model
registered in the admin needs a row in ``ADMIN_MODELS``. A URL added without its row
fails ``test_every_url_has_a_row`` with the row to add.

The roles, in the column order of the tables:

- ``anon``: not logged in;
- ``staff``: Alice, an associate; every object in the world (tests/world.py) is hers (her task,
  her engagement, her email link);
- ``other``: Bob, another associate of the same manager, on Alice's objects;
- ``manager``: Mia, Alice's and Bob's manager;
- ``partner``: Pat, Mia's partner;
- ``admin``: Ada, the firm's administrator (role "admin", Django ``is_staff``, not a
  superuser).

Each role's request runs in a savepoint that is rolled back, so a POST that acts
(accepting Alice's task) never changes what the next role sees. Every response must
also carry the Content-Security-Policy header, whatever its status, and no page may
hold what that policy refuses (inline script or style).

Adding a page: add its row below with the status each role should get (302 for
``anon`` on every login-only page: the login redirect), and its arguments in
``URL_ARGS`` if its pattern has any, built from the ``World``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.core.signals import request_finished
from django.db import close_old_connections, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from billing.links import invoice_token, statement_token
from dispatch.links import action_token
from dispatch.roster import roster_forget
from engagements.upload_links import upload_token
from integrations.models import Integration
from notifications.models import WebhookSubscription
from staff.models import SkillTag
from tests.core.test_csp import inline_code
from tests.world import World

ROLES = ("anon", "staff", "other", "manager", "partner", "admin")
Statuses = tuple[int, int, int, int, int, int]

# fmt: off
MATRIX: dict[tuple[str, str], Statuses] = {
    # (url name, method)                          anon staff other  mgr ptnr admin
    ("login", "GET"):                              (200, 302, 302, 302, 302, 302),
    ("login", "POST"):                             (200, 302, 302, 302, 302, 302),
    ("logout", "POST"):                            (302, 302, 302, 302, 302, 302),
    ("portal:home", "GET"):                        (302, 200, 200, 200, 200, 200),
    ("portal:close-dashboard", "GET"):             (302, 403, 403, 200, 200, 200),
    ("portal:healthz", "GET"):                     (200, 200, 200, 200, 200, 200),
    ("portal:favicon", "GET"):                     (302, 302, 302, 302, 302, 302),
    ("portal:client-list", "GET"):                 (302, 200, 200, 200, 200, 200),
    ("portal:client-detail", "GET"):               (302, 200, 404, 200, 200, 200),
    ("portal:engagement-list", "GET"):             (302, 200, 200, 200, 200, 200),
    # Staff see their own row; managers their team or the firm; partners the firm.
    ("portal:capacity", "GET"):                    (302, 200, 200, 200, 200, 200),
    ("portal:capacity-days", "GET"):               (302, 200, 200, 200, 200, 200),
    # Without a cell named (?staff=&start=&span=): a 400 in words; whose cell it is
    # decides 403 (tests/portal/test_capacity_views.py).
    ("portal:capacity-cell", "GET"):               (302, 400, 400, 400, 400, 400),
    ("portal:capacity-deadlines", "GET"):          (302, 403, 403, 200, 200, 200),
    ("portal:capacity-deadline-day", "GET"):       (302, 403, 403, 400, 400, 400),
    ("portal:capacity-metrics", "GET"):            (302, 403, 403, 200, 200, 200),
    # Alice's working hours: hers to read; her manager, partners and admins change them;
    # other managers read them (as on the heatmap); other staff do not find them.
    # Estimates against logged time: managers read; partners and admins "use this".
    ("portal:capacity-estimates", "GET"):          (302, 403, 403, 200, 200, 200),
    ("portal:capacity-estimate-use", "POST"):      (302, 403, 403, 403, 400, 400),
    ("portal:capacity-hours", "GET"):              (302, 200, 404, 200, 200, 200),
    ("portal:capacity-hours", "POST"):             (302, 403, 404, 400, 400, 400),
    ("portal:capacity-hours-remove", "POST"):      (302, 403, 404, 302, 302, 302),
    ("dispatch:queue", "GET"):                     (302, 200, 200, 200, 200, 200),
    ("dispatch:queue-action", "POST"):             (302, 302, 403, 403, 403, 403),
    # One row of the queue, for HTMX ("Keep working"); without HTMX, the queue.
    ("dispatch:queue-row", "GET"):                 (302, 302, 302, 302, 302, 302),
    # Complete asks first: the question for the assignee only, then the same action.
    ("dispatch:queue-complete", "GET"):            (302, 200, 404, 404, 404, 404),
    ("dispatch:queue-complete", "POST"):           (302, 302, 403, 403, 403, 403),
    ("dispatch:task-action", "GET"):               (200, 200, 403, 403, 403, 403),
    ("dispatch:task-action", "POST"):              (200, 302, 403, 403, 403, 403),
    ("dispatch:escalations", "GET"):               (302, 403, 403, 200, 200, 200),
    ("dispatch:escalation-action", "POST"):        (302, 403, 403, 302, 302, 302),
    ("dispatch:escalation-bulk", "POST"):          (302, 403, 403, 400, 400, 400),  # nothing ticked
    ("dispatch:team", "GET"):                      (302, 403, 403, 200, 200, 200),
    ("dispatch:confirmations", "GET"):             (302, 403, 403, 200, 200, 200),
    ("dispatch:decision-decline", "POST"):         (302, 403, 403, 302, 302, 302),
    ("dispatch:task-detail", "GET"):               (302, 200, 404, 200, 200, 200),
    ("dispatch:task-assign", "POST"):              (302, 403, 403, 400, 400, 400),
    ("dispatch:task-estimate", "POST"):            (302, 403, 403, 400, 400, 400),
    ("dispatch:task-complete", "GET"):             (302, 200, 404, 200, 200, 200),
    ("dispatch:task-complete", "POST"):            (302, 302, 404, 302, 302, 302),
    ("dispatch:decision-confirm", "POST"):         (302, 403, 403, 302, 302, 302),
    ("dispatch:plans", "GET"):                     (302, 403, 403, 200, 200, 200),
    ("dispatch:plan-week", "POST"):                (302, 403, 403, 302, 302, 302),
    ("dispatch:plan-detail", "GET"):               (302, 403, 403, 200, 200, 200),
    ("dispatch:plan-apply", "POST"):               (302, 403, 403, 302, 302, 302),
    ("dispatch:rebalancing", "GET"):               (302, 403, 403, 200, 200, 200),
    ("dispatch:rebalancing-run", "POST"):          (302, 403, 403, 302, 302, 302),
    ("dispatch:proposals-decide-all", "POST"):     (302, 403, 403, 302, 302, 302),
    ("dispatch:proposal-decide", "POST"):          (302, 403, 403, 302, 302, 302),
    ("engagements:engagement-create", "GET"):      (302, 403, 403, 200, 200, 200),
    ("engagements:engagement-create", "POST"):     (302, 403, 403, 400, 400, 400),
    ("engagements:engagement-create-clients", "GET"): (302, 403, 403, 200, 200, 200),
    ("engagements:engagement-create-preview", "GET"): (302, 403, 403, 200, 200, 200),
    ("engagements:document-download", "GET"):      (302, 200, 404, 200, 200, 200),
    ("engagements:document-upload", "GET"):        (200, 200, 200, 200, 200, 200),
    ("engagements:document-upload", "POST"):       (400, 400, 400, 400, 400, 400),
    ("engagements:engagement-detail", "GET"):      (302, 200, 404, 200, 200, 200),
    ("engagements:engagement-advance", "POST"):    (302, 403, 404, 302, 302, 302),
    ("engagements:exception-raise", "POST"):       (302, 403, 404, 302, 302, 302),
    ("engagements:exception-resolve", "POST"):     (302, 403, 404, 302, 302, 302),
    ("notifications:failed", "GET"):               (302, 403, 403, 200, 200, 200),
    ("notifications:retry", "POST"):               (302, 403, 403, 302, 302, 302),
    # The REST API answers in JSON: 401 to the anonymous (no login redirect); a POST
    # here sends a form, which the API refuses with 415 once the role may act at all.
    # tests/integrations/test_api_authorization.py covers every route with real bodies.
    ("api:client-list", "GET"):                    (401, 200, 200, 200, 200, 200),
    ("api:client-detail", "GET"):                  (401, 200, 404, 200, 200, 200),
    ("api:staff-list", "GET"):                     (401, 200, 200, 200, 200, 200),
    ("api:staff-detail", "GET"):                   (401, 200, 200, 200, 200, 200),
    ("api:skill-list", "GET"):                     (401, 200, 200, 200, 200, 200),
    ("api:skill-detail", "GET"):                   (401, 200, 200, 200, 200, 200),
    ("api:work-type-list", "GET"):                 (401, 200, 200, 200, 200, 200),
    ("api:work-type-detail", "GET"):               (401, 200, 200, 200, 200, 200),
    ("api:engagement-list", "GET"):                (401, 200, 200, 200, 200, 200),
    ("api:engagement-list", "POST"):               (401, 403, 403, 415, 415, 415),
    ("api:engagement-detail", "GET"):              (401, 200, 404, 200, 200, 200),
    ("api:engagement-transition", "POST"):         (401, 403, 404, 415, 415, 415),
    ("api:task-list", "GET"):                      (401, 200, 200, 200, 200, 200),
    ("api:task-detail", "GET"):                    (401, 200, 404, 200, 200, 200),
    ("api:task-accept", "POST"):                   (401, 200, 404, 403, 403, 403),
    ("api:task-start", "POST"):                    (401, 200, 404, 403, 403, 403),
    ("api:task-complete", "POST"):                 (401, 409, 404, 409, 409, 409),
    ("api:task-request-reassignment", "POST"):     (401, 415, 404, 415, 415, 415),
    ("api:escalation-list", "GET"):                (401, 403, 403, 200, 200, 200),
    ("api:escalation-detail", "GET"):              (401, 403, 403, 200, 200, 200),
    ("api:escalation-assign", "POST"):             (401, 403, 403, 415, 415, 415),
    ("api:escalation-raise-threshold", "POST"):    (401, 403, 403, 415, 415, 415),
    ("api:escalation-extend-deadline", "POST"):    (401, 403, 403, 415, 415, 415),
    ("api:escalation-client-informed", "POST"):    (401, 403, 403, 200, 200, 200),
    ("api:webhook-subscription-list", "GET"):      (401, 403, 403, 403, 200, 200),
    ("api:webhook-subscription-list", "POST"):     (401, 403, 403, 403, 415, 415),
    ("api:webhook-subscription-detail", "GET"):    (401, 403, 403, 403, 200, 200),
    ("api:webhook-subscription-rotate-secret", "POST"): (401, 403, 403, 403, 200, 200),
    ("api:webhook-subscription-replay", "POST"):   (401, 403, 403, 403, 415, 415),
    ("api:webhook-subscription-undelivered", "GET"): (401, 403, 403, 403, 200, 200),
    ("api:time-entry-list", "GET"):                (401, 200, 200, 200, 200, 200),
    ("api:time-entry-list", "POST"):               (401, 415, 415, 415, 415, 415),
    ("api:time-entry-detail", "GET"):              (401, 200, 404, 200, 200, 200),
    ("api:time-entry-approve", "POST"):            (401, 200, 404, 403, 403, 403),
    ("api:invoice-list", "GET"):                   (401, 403, 403, 200, 200, 200),
    ("api:invoice-detail", "GET"):                 (401, 403, 403, 200, 200, 200),
    ("api:invoice-approve", "POST"):               (401, 403, 403, 403, 200, 200),
    ("api:payment-list", "GET"):                   (401, 403, 403, 200, 200, 200),
    ("api:payment-list", "POST"):                  (401, 403, 403, 403, 415, 415),
    ("api:payment-detail", "GET"):                 (401, 403, 403, 200, 200, 200),
    ("api:schema", "GET"):                         (200, 200, 200, 200, 200, 200),
    ("api:docs", "GET"):                           (200, 200, 200, 200, 200, 200),
    ("api:redoc", "GET"):                          (200, 200, 200, 200, 200, 200),
    ("api:not-found", "GET"):                      (404, 404, 404, 404, 404, 404),
    # Webhooks are signed, not logged in: a form body is the wrong content type.
    ("integrations:webhook", "POST"):              (415, 415, 415, 415, 415, 415),
    ("integrations:webhook", "GET"):               (405, 405, 405, 405, 405, 405),
    # Time: everyone with a staff record keeps their own; an entry or a timer is its owner's.
    ("billing:time-week", "GET"):                  (302, 200, 200, 200, 200, 200),
    ("billing:time-week-approve", "POST"):         (302, 302, 302, 302, 302, 302),
    ("billing:time-entry-new", "POST"):            (302, 400, 400, 400, 400, 400),
    ("billing:time-entry-save", "POST"):           (302, 302, 403, 403, 403, 403),
    ("billing:time-entry-approve", "POST"):        (302, 302, 403, 403, 403, 403),
    ("billing:timer-start", "POST"):               (302, 302, 403, 403, 403, 403),
    ("billing:timer-stop", "POST"):                (302, 302, 302, 302, 302, 302),
    # Invoices: partners approve, edit, reject, void and record payments; managers read.
    ("billing:approvals", "GET"):                  (302, 403, 403, 403, 200, 200),
    ("billing:invoice-list", "GET"):               (302, 403, 403, 200, 200, 200),
    ("billing:invoice-detail", "GET"):             (302, 403, 403, 200, 200, 200),
    ("billing:invoice-pdf", "GET"):                (302, 403, 403, 200, 200, 200),
    ("billing:invoice-approve", "POST"):           (302, 403, 403, 403, 302, 302),
    ("billing:invoice-reject", "POST"):            (302, 403, 403, 403, 302, 302),
    ("billing:invoice-void", "POST"):              (302, 403, 403, 403, 400, 400),
    ("billing:invoice-line-edit", "POST"):         (302, 403, 403, 403, 302, 302),
    ("billing:invoice-line-add", "POST"):          (302, 403, 403, 403, 302, 302),
    ("billing:payment-create", "POST"):            (302, 403, 403, 403, 400, 400),
    ("billing:leakage", "GET"):                    (302, 403, 403, 200, 200, 200),
    # Follow-ups: managers read; the billing coordinator (partners, admins) acts.
    ("billing:followups", "GET"):                  (302, 403, 403, 200, 200, 200),
    ("billing:followup-retry", "POST"):            (302, 403, 403, 403, 404, 404),
    ("billing:tasks", "GET"):                      (302, 403, 403, 403, 200, 200),
    ("billing:task-done", "POST"):                 (302, 403, 403, 403, 302, 302),
    ("billing:dispute-create", "POST"):            (302, 403, 403, 403, 302, 302),
    ("billing:dispute-resolve", "POST"):           (302, 403, 403, 403, 400, 400),
    ("billing:promise-create", "POST"):            (302, 403, 403, 403, 400, 400),
    ("billing:plan-create", "POST"):               (302, 403, 403, 403, 400, 400),
    ("billing:hold-release", "POST"):              (302, 403, 403, 403, 302, 302),
    # The client's signed invoice link: no login, the signature is the credential.
    ("billing:invoice-public", "GET"):             (200, 200, 200, 200, 200, 200),
    ("billing:invoice-public-pdf", "GET"):         (200, 200, 200, 200, 200, 200),
    ("billing:statement-public", "GET"):           (200, 200, 200, 200, 200, 200),
    # Reports: managers read their clients', partners and admins the firm's; staff 403.
    ("billing:report-aging", "GET"):               (302, 403, 403, 200, 200, 200),
    ("billing:report-aging-csv", "GET"):           (302, 403, 403, 200, 200, 200),
    ("billing:report-wip", "GET"):                 (302, 403, 403, 200, 200, 200),
    ("billing:report-wip-csv", "GET"):             (302, 403, 403, 200, 200, 200),
    ("billing:report-leakage", "GET"):             (302, 403, 403, 200, 200, 200),
    ("billing:report-leakage-csv", "GET"):         (302, 403, 403, 200, 200, 200),
    ("billing:report-realization", "GET"):         (302, 403, 403, 200, 200, 200),
    ("billing:report-realization-csv", "GET"):     (302, 403, 403, 200, 200, 200),
    ("billing:report-followups", "GET"):           (302, 403, 403, 200, 200, 200),
    ("billing:report-followups-csv", "GET"):       (302, 403, 403, 200, 200, 200),
}
# fmt: on


URL_ARGS: dict[str, Callable[[World], list[Any]]] = {
    "dispatch:queue-action": lambda w: [w.task.pk, "accept"],
    "dispatch:queue-row": lambda w: [w.task.pk],
    "dispatch:queue-complete": lambda w: [w.task.pk],
    "dispatch:task-action": lambda w: [
        action_token(
            task_id=w.task.pk,
            staff_id=w.task.assignee_id,
            action="accept",
            assigned_at=w.task.assigned_at,
        )
    ],
    "dispatch:escalation-action": lambda w: [w.escalation.pk, "informed"],
    "dispatch:decision-decline": lambda w: [w.decision.pk],
    "dispatch:task-detail": lambda w: [w.task.pk],
    "portal:capacity-hours": lambda w: [w.task.assignee_id],
    "portal:capacity-estimate-use": lambda w: [w.engagement.work_type_id],
    "portal:capacity-hours-remove": lambda w: [w.task.assignee_id, w.working_pattern.pk],
    "dispatch:task-assign": lambda w: [w.task.pk],
    "dispatch:task-estimate": lambda w: [w.task.pk],
    "dispatch:task-complete": lambda w: [w.task.pk],
    "dispatch:decision-confirm": lambda w: [w.decision.pk],
    "dispatch:plan-detail": lambda w: [w.proposal.scenario_id],
    "dispatch:plan-apply": lambda w: [w.proposal.scenario_id],
    "dispatch:proposal-decide": lambda w: [w.proposal.pk, "decline"],
    "engagements:document-upload": lambda w: [upload_token(engagement_id=w.engagement.pk)],
    "engagements:engagement-detail": lambda w: [w.engagement.pk],
    "engagements:engagement-advance": lambda w: [w.engagement.pk],
    "engagements:exception-raise": lambda w: [w.engagement.pk],
    "engagements:exception-resolve": lambda w: [w.engagement.pk, w.review_exception.pk],
    "notifications:retry": lambda w: [w.notification.pk],
    "portal:client-detail": lambda w: [w.engagement.client_id],
    "engagements:document-download": lambda w: [w.engagement.pk, w.upload.pk],
    "api:client-detail": lambda w: [w.engagement.client_id],
    "api:staff-detail": lambda w: [w.task.assignee_id],
    "api:skill-detail": lambda w: [SkillTag.objects.order_by("pk").first().pk],
    "api:work-type-detail": lambda w: [w.engagement.work_type_id],
    "api:engagement-detail": lambda w: [w.engagement.pk],
    "api:engagement-transition": lambda w: [w.engagement.pk],
    "api:task-detail": lambda w: [w.task.pk],
    "api:task-accept": lambda w: [w.task.pk],
    "api:task-start": lambda w: [w.task.pk],
    "api:task-complete": lambda w: [w.task.pk],
    "api:task-request-reassignment": lambda w: [w.task.pk],
    "api:escalation-detail": lambda w: [w.escalation.pk],
    "api:time-entry-detail": lambda w: [w.time_entry.pk],
    "api:time-entry-approve": lambda w: [w.time_entry.pk],
    "api:invoice-detail": lambda w: [w.issued_invoice.pk],
    "api:invoice-approve": lambda w: [w.draft_invoice.pk],
    "api:payment-detail": lambda w: [w.issued_invoice.payments.get().pk],
    "api:escalation-assign": lambda w: [w.escalation.pk],
    "api:escalation-raise-threshold": lambda w: [w.escalation.pk],
    "api:escalation-extend-deadline": lambda w: [w.escalation.pk],
    "api:escalation-client-informed": lambda w: [w.escalation.pk],
    "api:webhook-subscription-detail": lambda w: [WebhookSubscription.objects.get().pk],
    "api:webhook-subscription-rotate-secret": lambda w: [WebhookSubscription.objects.get().pk],
    "api:webhook-subscription-replay": lambda w: [WebhookSubscription.objects.get().pk],
    "api:webhook-subscription-undelivered": lambda w: [WebhookSubscription.objects.get().pk],
    "integrations:webhook": lambda w: [Integration.objects.get().slug],
    "billing:time-entry-save": lambda w: [w.time_entry.pk],
    "billing:time-entry-approve": lambda w: [w.time_entry.pk],
    "billing:timer-start": lambda w: [w.task.pk],
    "billing:invoice-detail": lambda w: [w.issued_invoice.pk],
    "billing:invoice-pdf": lambda w: [w.issued_invoice.pk],
    "billing:invoice-approve": lambda w: [w.draft_invoice.pk],
    "billing:invoice-reject": lambda w: [w.draft_invoice.pk],
    "billing:invoice-void": lambda w: [w.issued_invoice.pk],
    "billing:invoice-line-edit": lambda w: [w.draft_invoice.pk, w.draft_invoice.lines.first().pk],
    "billing:invoice-line-add": lambda w: [w.draft_invoice.pk],
    "billing:payment-create": lambda w: [w.issued_invoice.pk],
    "billing:invoice-public": lambda w: [invoice_token(invoice_id=w.issued_invoice.pk)],
    "billing:invoice-public-pdf": lambda w: [invoice_token(invoice_id=w.issued_invoice.pk)],
    # Failed follow-up sends only: the world's failed notification is a task email (404).
    "billing:followup-retry": lambda w: [w.notification.pk],
    "billing:task-done": lambda w: [w.billing_task.pk],
    "billing:dispute-create": lambda w: [w.issued_invoice.pk],
    "billing:dispute-resolve": lambda w: [w.dispute.pk],
    "billing:promise-create": lambda w: [w.issued_invoice.pk],
    "billing:plan-create": lambda w: [w.issued_invoice.pk],
    "billing:hold-release": lambda w: [w.engagement.client_id],
    "billing:statement-public": lambda w: [statement_token(client_id=w.engagement.client_id)],
}

# The Django admin. Everyone but the firm's administrator is sent to the admin's login
# (302), logged in or not. For the administrator, per registered model: the status of
# its list, add, change, history and delete pages (on the model's first row: the world
# makes one of each). 403: the role holds no permission for it.
ADMIN_PAGES = ("changelist", "add", "change", "history", "delete")
# fmt: off
ADMIN_MODELS: dict[str, tuple[int, int, int, int, int]] = {
    # app_label.model                    list  add  change history delete
    "auth.group":                        (200, 200, 200, 200, 200),
    "auth.user":                         (200, 200, 200, 200, 200),
    "axes.accessattempt":                (200, 403, 200, 200, 200),  # see and clear lockouts
    "axes.accesslog":                    (200, 403, 200, 200, 403),
    "axes.accessfailurelog":             (200, 403, 200, 200, 403),
    "billing.rateoverride":              (200, 200, 200, 200, 200),
    "billing.timeentrydefault":          (200, 200, 200, 200, 200),
    "billing.clientbillingprofile":      (200, 200, 200, 200, 200),
    "billing.timeentry":                 (200, 403, 200, 200, 403),  # read-only: services write
    "billing.invoice":                   (200, 403, 200, 200, 403),
    "billing.payment":                   (200, 403, 200, 200, 403),
    "billing.latefeecharge":             (200, 403, 200, 200, 403),
    "billing.cardsurcharge":             (200, 403, 200, 200, 403),
    "billing.followupsequence":          (200, 200, 200, 200, 200),  # the cadences are data
    "capacity.capacityrule":             (200, 200, 200, 200, 200),
    "capacity.planscenario":             (403, 403, 403, 403, 403),
    "capacity.planmove":                 (403, 403, 403, 403, 403),
    "clients.client":                    (200, 200, 200, 200, 200),
    "clients.clientexternalid":          (200, 200, 200, 200, 200),
    "core.workerheartbeat":              (200, 200, 200, 200, 200),
    "dispatch.dispatchdecision":         (403, 403, 403, 403, 403),
    "dispatch.escalation":               (403, 403, 403, 403, 403),
    "dispatch.checkpointfiring":         (403, 403, 403, 403, 403),
    "dispatch.reassignmentrequest":      (403, 403, 403, 403, 403),
    "engagements.worktype":              (200, 200, 200, 200, 200),
    "engagements.engagement":            (200, 302, 200, 200, 200),  # add: the app's form
    "engagements.task":                  (200, 403, 200, 200, 200),  # tasks come from work
    "engagements.requireddocument":      (200, 200, 200, 200, 200),
    "engagements.engagementmilestone":   (200, 200, 200, 200, 200),
    "engagements.recurringplan":         (200, 200, 200, 200, 200),
    "notifications.notification":        (403, 403, 403, 403, 403),
    "notifications.webhooksubscription": (200, 200, 200, 200, 200),
    "notifications.webhookallowedhost":  (200, 200, 200, 200, 200),
    "notifications.webhookdelivery":     (200, 403, 200, 200, 403),  # a log: not made or deleted
    "notifications.teamswebhook":        (200, 200, 200, 200, 200),
    "integrations.apitoken":             (200, 200, 200, 200, 200),
    "integrations.integration":          (200, 200, 200, 200, 200),
    "integrations.staffexternalid":      (200, 200, 200, 200, 200),
    "integrations.inboundevent":         (200, 403, 200, 200, 403),  # what was received: kept
    "integrations.inboundrequest":       (200, 403, 200, 200, 403),
    "integrations.deliverylog":          (200, 403, 200, 200, 403),
    "staff.staffmember":                 (200, 200, 200, 200, 200),
    "staff.skilltag":                    (200, 200, 200, 200, 200),
    "staff.staffskill":                  (200, 200, 200, 200, 200),
    "staff.timeoff":                     (200, 200, 200, 200, 200),
}
# The admin's own pages (named patterns of the admin site), for the administrator;
# everyone else is sent to the admin's login, except on the login page itself.
ADMIN_SITE_PAGES: dict[str, tuple[str, Statuses]] = {
    # name: (method, statuses)                        anon staff other  mgr ptnr admin
    "admin:index":            ("GET",                (302, 302, 302, 302, 302, 200)),
    "admin:login":            ("GET",                (200, 200, 200, 200, 200, 302)),
    "admin:logout":           ("POST",               (302, 302, 302, 302, 302, 302)),
    "admin:password_change":  ("GET",                (302, 302, 302, 302, 302, 200)),
    "admin:password_change_done": ("GET",            (302, 302, 302, 302, 302, 200)),
    "admin:jsi18n":           ("GET",                (302, 302, 302, 302, 302, 200)),
    "admin:autocomplete":     ("GET",                (302, 302, 302, 302, 302, 403)),
    "admin:view_on_site":     ("GET",                (302, 302, 302, 302, 302, 404)),
    "admin:app_list":         ("GET",                (302, 302, 302, 302, 302, 200)),
    "admin:auth_user_password_change": ("GET",       (302, 302, 302, 302, 302, 200)),
}
# fmt: on
ADMIN_SITE_ARGS: dict[str, Callable[[World], list[Any]]] = {
    "admin:view_on_site": lambda w: [0, 0],
    "admin:app_list": lambda w: ["engagements"],
    "admin:auth_user_password_change": lambda w: [w.users["staff"].pk],
}


# --- The URL conf -----------------------------------------------------------------


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str = "", namespace: str = ""
) -> list[tuple[str, str]]:
    """(full name or "", full route) for every pattern, namespaces joined."""
    found: list[tuple[str, str]] = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _walk(entry.url_patterns, route, inner)
        else:
            found.append((f"{namespace}{entry.name}" if entry.name else "", route))
    return found


URLCONF = _walk(get_resolver().url_patterns)
ADMIN_PREFIX = reverse("admin:index")[1:]
MODEL_ADMIN_NAMES = {
    f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}": (
        f"{model._meta.app_label}.{model._meta.model_name}",
        page,
    )
    for model in admin.site._registry
    for page in ADMIN_PAGES
}


def _is_admin(route: str) -> bool:
    return route.startswith(ADMIN_PREFIX)


def test_every_url_has_a_row():
    missing: list[str] = []
    for name, route in URLCONF:
        if _is_admin(route):
            if not name:
                continue  # the catch-all and the per-model object redirects, below
            if name in MODEL_ADMIN_NAMES:
                model, _ = MODEL_ADMIN_NAMES[name]
                if model not in ADMIN_MODELS:
                    missing.append(
                        f'ADMIN_MODELS: "{model}": (list, add, change, history, delete) '
                        f"statuses for the firm's administrator"
                    )
            elif name not in ADMIN_SITE_PAGES:
                missing.append(f'ADMIN_SITE_PAGES: "{name}" ({route})')
            continue
        if not name:
            missing.append(f"{route}: give the pattern a name, then add its row to MATRIX")
            continue
        if not any(key[0] == name for key in MATRIX):
            missing.append(
                f'MATRIX: ("{name}", "GET" or "POST"): (anon, staff, other, manager, partner, '
                f"admin) for /{route}"
            )
        if "<" in route and name not in URL_ARGS:
            missing.append(f'URL_ARGS: "{name}": lambda w: [...]  (its pattern is /{route})')
    assert not missing, (
        "URLs without a row in tests/test_authorization_matrix.py; add what each role "
        "should get:\n  " + "\n  ".join(sorted(set(missing)))
    )


def test_no_row_for_a_url_that_is_gone():
    names = {name for name, _ in URLCONF if name}
    models = {model for model, _ in MODEL_ADMIN_NAMES.values()}
    stale = [f"MATRIX {key}" for key in MATRIX if key[0] not in names]
    stale += [f"URL_ARGS {name}" for name in URL_ARGS if name not in names]
    stale += [f"ADMIN_MODELS {model}" for model in ADMIN_MODELS if model not in models]
    stale += [f"ADMIN_SITE_PAGES {name}" for name in ADMIN_SITE_PAGES if name not in names]
    assert not stale, "Rows for URLs that no longer exist: " + ", ".join(stale)


# --- The world and the requests ---------------------------------------------------


def _request(world: World, role: str, method: str, url: str) -> int:
    """The status ``role`` gets, with everything the request changed rolled back."""
    browser = Client(raise_request_exception=False)
    user = world.users[role]
    if user is not None:
        browser.force_login(user)
    with transaction.atomic():
        response = browser.get(url) if method == "GET" else browser.post(url, {})
        transaction.set_rollback(True)
    if response.streaming:
        # A file download holds its file open until closed; closing a response also
        # says "request finished", which must not close the test's connection.
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)
    cache.clear()  # a cached roster, lock or throttle count from a rolled-back request
    roster_forget()
    assert "Content-Security-Policy" in response, f"{method} {url} as {role}: no CSP header"
    if response.get("Content-Type", "").startswith("text/html"):
        refused = inline_code(response.content.decode())
        assert not refused, f"{method} {url} as {role}: the CSP refuses {refused}"
    return response.status_code


def _check(world: World, method: str, url: str, expected: Statuses) -> None:
    got = tuple(_request(world, role, method, url) for role in ROLES)
    assert got == expected, (
        f"{method} {url}\n  roles:    {ROLES}\n  expected: {expected}\n  got:      {got}"
    )


@pytest.mark.parametrize("name,method", sorted(MATRIX))
def test_roles_get_what_the_matrix_says(world, name, method):
    args = URL_ARGS[name](world) if name in URL_ARGS else []
    _check(world, method, reverse(name, args=args), MATRIX[(name, method)])


@pytest.mark.parametrize("name", sorted(ADMIN_SITE_PAGES))
def test_admin_site_pages(world, name):
    method, expected = ADMIN_SITE_PAGES[name]
    args = ADMIN_SITE_ARGS[name](world) if name in ADMIN_SITE_ARGS else []
    _check(world, method, reverse(name, args=args), expected)


@pytest.mark.parametrize("model", sorted(ADMIN_MODELS))
def test_admin_model_pages(world, model):
    app_label, model_name = model.split(".")
    model_class = next(
        m for m in admin.site._registry if m._meta.label_lower == f"{app_label}.{model_name}"
    )
    first = model_class._default_manager.order_by("pk").first()
    assert first is not None, f"Make a {model} in the world fixture, for its object pages."
    for page, admin_status in zip(ADMIN_PAGES, ADMIN_MODELS[model], strict=True):
        name = f"admin:{app_label}_{model_name}_{page}"
        args = [] if page in ("changelist", "add") else [first.pk]
        _check(world, "GET", reverse(name, args=args), (302, 302, 302, 302, 302, admin_status))


def test_admin_unnamed_patterns(world):
    """The admin's unnamed patterns: the catch-all (a 404 for the administrator) and a
    model's bare ``<pk>/`` (a redirect to its change page)."""
    _check(world, "GET", f"/{ADMIN_PREFIX}no-such-page/", (302, 302, 302, 302, 302, 404))
    url = f"/{ADMIN_PREFIX}engagements/engagement/{world.engagement.pk}/"
    _check(world, "GET", url, (302, 302, 302, 302, 302, 302))
