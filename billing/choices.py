from django.db import models


class TimeEntrySource(models.TextChoices):
    COMPLETION = "completion", "Drafted when the task was completed"
    TIMER = "timer", "Timer"
    MANUAL = "manual", "Entered by hand"
    HARVEST = "harvest", "Pulled from Harvest"
    QBTIME = "qbtime", "Pulled from QuickBooks Time"


class TimeEntryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"


class InvoiceStatus(models.TextChoices):
    """An invoice's life. Open (owed) is ISSUED with a balance; partly paid is a
    property (``Invoice.is_partly_paid``), not a state."""

    DRAFT = "draft", "Awaiting approval"
    ISSUED = "issued", "Issued"
    PAID = "paid", "Paid"
    REJECTED = "rejected", "Rejected"
    VOID = "void", "Void"


class InvoiceOrigin(models.TextChoices):
    """What created the draft (one automated draft per engagement, per retainer month)."""

    MILESTONE = "milestone", "Final review complete"
    RETURN_FILED = "return_filed", "Return filed"
    RETAINER = "retainer", "Monthly retainer"
    MANUAL = "manual", "Created by hand"


class LineKind(models.TextChoices):
    TIME = "time", "Time"
    FEE = "fee", "Fixed fee"
    RETAINER = "retainer", "Retainer"
    LATE_FEE = "late_fee", "Late fee"
    SURCHARGE = "surcharge", "Card surcharge"
    ADJUSTMENT = "adjustment", "Adjustment"


class PaymentSource(models.TextChoices):
    MANUAL = "manual", "Recorded by hand"
    STRIPE = "stripe", "Stripe"
    QBO = "qbo", "QuickBooks Online"
    XERO = "xero", "Xero"
    BANK = "bank", "Bank feed"


class PaymentMethod(models.TextChoices):
    CHECK = "check", "Check"
    ACH = "ach", "Bank transfer (ACH)"
    WIRE = "wire", "Wire"
    CARD = "card", "Card"
    CASH = "cash", "Cash"
    OTHER = "other", "Other"


class PaymentStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    HELD = "held", "Held until the invoice is approved"


class LateFeeMode(models.TextChoices):
    FIRM_DEFAULT = "", "Firm default"
    OFF = "off", "No late fees"
    ON = "on", "Late fees as set here"


class SurchargeMode(models.TextChoices):
    FIRM_DEFAULT = "", "Firm default"
    OFF = "off", "No card surcharge"
    ON = "on", "Card surcharge at the rate set here"


class CardFunding(models.TextChoices):
    """How a card payment was funded, as Stripe reports it (``card.funding``); a
    payment that was not by card at all is ``NOT_CARD``."""

    CREDIT = "credit", "Credit card"
    DEBIT = "debit", "Debit card"
    PREPAID = "prepaid", "Prepaid card"
    UNKNOWN = "unknown", "Card of unknown funding"
    NOT_CARD = "not_card", "Not a card (bank account, wallet...)"


class SurchargeOutcome(models.TextChoices):
    KEPT = "kept", "Kept (credit card): recorded as a surcharge line"
    REFUNDED = "refunded", "Refunded (not a credit card)"


class SequenceKind(models.TextChoices):
    """Which clients a follow-up sequence is for (the client's own choice overrides)."""

    STANDARD = "standard", "Standard (project and hourly clients)"
    RETAINER = "retainer", "Monthly retainer clients"
    PAYMENT_PLAN = "payment_plan", "Payment-plan clients (instalment reminders)"


class PauseReason(models.TextChoices):
    NONE = "", "Running"
    DISPUTE = "dispute", "Paused: the client disputes the invoice"
    PROMISE = "promise", "Paused: the client promised to pay"


class DisputeSource(models.TextChoices):
    EMAIL = "email", "Client's reply by email"
    MANUAL = "manual", "Flagged by the billing coordinator"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class DisputeOutcome(models.TextChoices):
    STANDS = "stands", "The amount stands (the client owes it)"
    CREDITED = "credited", "Credited to the client (written down)"


class PromiseStatus(models.TextChoices):
    OPEN = "open", "Waiting for the promised date"
    KEPT = "kept", "Kept (paid in full)"
    BROKEN = "broken", "Broken (not paid by the date)"


class BillingTaskKind(models.TextChoices):
    CALL = "call", "Call the client"
    DISPUTE = "dispute", "Review a dispute"


class BillingTaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class WriteDownReason(models.TextChoices):
    """Why an adjustment took value off an invoice (the leakage report groups by it)."""

    NONE = "", "—"
    DISPUTE = "dispute", "Dispute credit"
    COURTESY = "courtesy", "Courtesy discount"
    SCOPE = "scope", "Out of scope / not billable"
    EFFICIENCY = "efficiency", "Took longer than it should"
    OTHER = "other", "Other"
