from django.db import models


class Source(models.TextChoices):
    """The systems that send Closeloop events (values shared with ``clients.ExternalSource``)."""

    KARBON = "karbon", "Karbon"
    QBO = "qbo", "QuickBooks Online"
    XERO = "xero", "Xero"
    STRIPE = "stripe", "Stripe"
    TAXDOME = "taxdome", "TaxDome (generic endpoint)"
    CANOPY = "canopy", "Canopy (generic endpoint)"
    FINANCIAL_CENTS = "financial_cents", "Financial Cents (generic endpoint)"
    HARVEST = "harvest", "Harvest (time entries pulled)"
    QBTIME = "qbtime", "QuickBooks Time (timesheets pulled)"
    EMAIL = "email", "Inbound email (billing disputes: Postmark, SendGrid, Mailgun)"


# Sources that post Closeloop's own signed format (the generic endpoint).
GENERIC_SOURCES = frozenset({Source.TAXDOME, Source.CANOPY, Source.FINANCIAL_CENTS})

# Time trackers Closeloop pulls on a beat schedule (integrations.time_pull): no endpoint.
PULLED_SOURCES = frozenset({Source.HARVEST, Source.QBTIME})


class Verdict(models.TextChoices):
    """What the endpoint made of one HTTP request."""

    ACCEPTED = "accepted", "Accepted"
    BAD_SIGNATURE = "bad_signature", "Refused: signature"
    STALE = "stale", "Refused: stale timestamp"
    MALFORMED = "malformed", "Refused: malformed body"
    TOO_LARGE = "too_large", "Refused: body too large"
    WRONG_TYPE = "wrong_type", "Refused: content type"
    UNKNOWN_SOURCE = "unknown_source", "Refused: unknown endpoint"


class EventStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    RETRYING = "retrying", "Failed, will retry"
    APPLIED = "applied", "Applied"
    IGNORED = "ignored", "Ignored (type not handled)"
    EXCEPTION = "exception", "Exception: needs a person"
    FAILED = "failed", "Failed after retries"


# Statuses a replay may start again from.
REPLAYABLE_STATUSES = (EventStatus.EXCEPTION, EventStatus.FAILED, EventStatus.IGNORED)
