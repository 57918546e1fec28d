"""The seeds' follow-up cadences as data (edited in the admin afterwards), and the
billing coordinator's group with what it may see and change in the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

STANDARD = [
    {
        "position": 1,
        "day": 1,
        "label": "Friendly reminder",
        "email_subject": "Payment reminder — Invoice {number} for {client} due {due_on}",
        "email_body": (
            "Hello {contact},\n\n"
            "This is a friendly reminder that invoice {number} for ${amount} was due on "
            "{due_on}. The details are below, with a link to pay online.\n\n"
            "If you have already sent payment, thank you — please disregard this note."
        ),
    },
    {
        "position": 2,
        "day": 15,
        "label": "Confirm receipt (email and SMS)",
        "send_sms": True,
        "email_subject": (
            "We haven't received payment for Invoice {number} — can you confirm receipt "
            "and expected payment date?"
        ),
        "email_body": (
            "Hello {contact},\n\n"
            "We haven't received payment for invoice {number} (${amount}), now {days} days "
            "past due. Can you confirm you received it, and let us know when we can expect "
            "payment?"
        ),
        "sms_text": (
            "Hi {contact}, this is {firm}. Invoice {number} for ${amount} is {days} days past "
            "due. Reply to confirm or call {firm_phone}."
        ),
    },
    {
        "position": 3,
        "day": 30,
        "label": "Account hold notice",
        "set_account_hold": True,
        "coordinator_call": True,
        "email_subject": "Account hold notice — Invoice {number}",
        "email_body": (
            "Hello {contact},\n\n"
            "Account hold notice — work on your account will be paused until Invoice "
            "{number} is resolved. Please contact us to arrange payment.\n\n"
            "The balance is ${amount}, {days} days past due."
        ),
    },
]
RETAINER = [
    {
        "position": 1,
        "day": 5,
        "label": "Friendly reminder with an auto-pay offer",
        "autopay_offer": True,
        "email_subject": "Payment reminder — Invoice {number} for {client} due {due_on}",
        "email_body": (
            "Hello {contact},\n\n"
            "A friendly reminder that your retainer invoice {number} for ${amount} was due "
            "on {due_on}. You can pay it online with the link below."
        ),
    },
    {
        "position": 2,
        "day": 20,
        "label": "Firm reminder",
        "email_subject": "Second notice — Invoice {number} is {days} days past due",
        "email_body": (
            "Hello {contact},\n\n"
            "Invoice {number} for ${amount} is now {days} days past due. Please pay it this "
            "week with the link below, or reply to let us know when to expect payment."
        ),
    },
    {
        "position": 3,
        "day": 35,
        "label": "Coordinator call (no hold notice)",
        "send_email": False,
        "payment_link": False,
        "coordinator_call": True,
    },
]
PAYMENT_PLAN = [
    {
        "position": 1,
        "day": -3,
        "label": "Upcoming instalment",
        "email_subject": (
            "Instalment {instalment} of your payment plan — ${amount} due {instalment_due_on}"
        ),
        "email_body": (
            "Hello {contact},\n\n"
            "A reminder that instalment {instalment} of your payment plan for invoice "
            "{number}, ${amount}, is due on {instalment_due_on}. Nothing else is needed if it "
            "is already on its way."
        ),
    },
    {
        "position": 2,
        "day": 1,
        "label": "Missed instalment (email and SMS)",
        "send_sms": True,
        "email_subject": "Instalment {instalment} for Invoice {number} was due {instalment_due_on}",
        "email_body": (
            "Hello {contact},\n\n"
            "We have not received instalment {instalment} (${amount}) of your payment plan "
            "for invoice {number}, due on {instalment_due_on}. Please pay it soon to keep the "
            "plan on track, or reply if something has changed."
        ),
        "sms_text": (
            "Hi {contact}, this is {firm}. Instalment {instalment} (${amount}) for invoice "
            "{number} was due {instalment_due_on}. Reply or call {firm_phone}."
        ),
    },
    {
        "position": 3,
        "day": 10,
        "label": "Coordinator call",
        "send_email": False,
        "payment_link": False,
        "coordinator_call": True,
    },
]
SEQUENCES = [
    ("Standard", "standard", "Day 1, 15 and 30 after the due date (seeds, step 6).", STANDARD),
    ("Retainer", "retainer", "A softer cadence for monthly retainer clients.", RETAINER),
    ("Payment plan", "payment_plan", "Each instalment: ahead of it, and if missed.", PAYMENT_PLAN),
]
BILLING_PERMS = [
    "view_followupsequence",
    "view_followupstep",
    "view_followuptouch",
    "view_clientbillingprofile",
    "change_clientbillingprofile",
]


def seed(apps, schema_editor):
    Sequence = apps.get_model("billing", "FollowUpSequence")
    Step = apps.get_model("billing", "FollowUpStep")
    for name, kind, description, steps in SEQUENCES:
        sequence, created = Sequence.objects.get_or_create(
            name=name, defaults={"kind": kind, "is_default": True, "description": description}
        )
        if created:
            for step in steps:
                Step.objects.create(sequence=sequence, **step)
    app_config = apps.get_app_config("billing")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    billing, _ = Group.objects.get_or_create(name="billing")
    billing.permissions.set(
        Permission.objects.filter(content_type__app_label="billing", codename__in=BILLING_PERMS)
    )
    admin = Group.objects.filter(name="admin").first()
    if admin is not None:
        admin.permissions.add(*Permission.objects.filter(content_type__app_label="billing"))


def unseed(apps, schema_editor):
    apps.get_model("billing", "FollowUpSequence").objects.filter(
        name__in=[name for name, *_ in SEQUENCES]
    ).delete()
    apps.get_model("auth", "Group").objects.filter(name="billing").delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_followup_sequences"), ("staff", "0003_role_groups")]
    operations = [migrations.RunPython(seed, unseed)]
