"""The default work types: the seeds' "Work Type to Trigger Event Mapping" table
plus the month-end close. Editable data from here on, not code."""

from decimal import Decimal

from django.db import migrations

WORK_TYPES = [
    {
        "code": "1040",
        "name": "1040 individual return",
        "trigger_event": "documents_complete",
        "qualifying_condition": "All required docs present",
        "deadline_basis": "statutory_date",
        "statutory_month": 4,
        "statutory_day": 15,
        "deadline_buffer": 21,
        "deadline_buffer_unit": "calendar_days",
        "default_estimated_hours": Decimal("6"),
        "complexity_weight": Decimal("1.00"),
        "reviewer_required": True,
        "reviewer_min_seniority": 3,
        "fixed_fee": Decimal("650"),
        "priority": "normal",
        "document_checklist": [
            "W-2 forms",
            "1099 forms",
            "Prior-year return",
            "Tax organizer questionnaire",
        ],
        "skills": [("individual_tax_certified", 2)],
    },
    {
        "code": "1120",
        "name": "1120 corporate return",
        "trigger_event": "documents_complete",
        "qualifying_condition": "All required docs present",
        "deadline_basis": "statutory_date",
        "statutory_month": 3,
        "statutory_day": 15,
        "deadline_buffer": 30,
        "deadline_buffer_unit": "calendar_days",
        "default_estimated_hours": Decimal("14"),
        "complexity_weight": Decimal("1.30"),
        "min_seniority": 2,
        "reviewer_required": True,
        "reviewer_min_seniority": 4,
        "standard_rate": Decimal("225"),
        "priority": "normal",
        "document_checklist": [
            "Year-end trial balance",
            "Fixed asset schedule",
            "Prior-year return",
            "Officer compensation detail",
        ],
        "skills": [("corporate_tax", 3)],
    },
    {
        "code": "monthly_bookkeeping",
        "name": "Monthly bookkeeping",
        "trigger_event": "monthly_calendar",
        "qualifying_condition": "Prior month's bank feed available",
        "deadline_basis": "period_end",
        "period_end_offset_business_days": 5,
        "recurrence_rule": "FREQ=MONTHLY;BYMONTHDAY=1",
        "default_estimated_hours": Decimal("6"),
        "complexity_weight": Decimal("0.80"),
        "reviewer_required": False,
        "standard_rate": Decimal("125"),
        "priority": "normal",
        "document_checklist": ["Bank statements", "Credit card statements"],
        "skills": [("bookkeeping", 2)],
    },
    {
        "code": "payroll",
        "name": "Payroll processing",
        "trigger_event": "headcount_change",
        "qualifying_condition": "New hire or termination logged",
        "deadline_basis": "event_date",
        "deadline_buffer": 3,
        "deadline_buffer_unit": "business_days",
        "default_estimated_hours": Decimal("2"),
        "complexity_weight": Decimal("0.60"),
        "reviewer_required": False,
        "standard_rate": Decimal("110"),
        "priority": "high",
        "document_checklist": ["Headcount change form"],
        "skills": [("payroll", 2)],
    },
    {
        "code": "audit",
        "name": "Audit engagement",
        "trigger_event": "kickoff_signed",
        "qualifying_condition": "BAA/ELA countersigned",
        "deadline_basis": "engagement",
        "default_estimated_hours": Decimal("60"),
        "complexity_weight": Decimal("1.50"),
        "min_seniority": 3,
        "reviewer_required": True,
        "reviewer_min_seniority": 5,
        "standard_rate": Decimal("250"),
        "priority": "high",
        "document_checklist": [
            "Countersigned engagement letter",
            "Trial balance",
            "Bank confirmations",
        ],
        "skills": [("audit_trained", 3), ("cpa", 1)],
    },
    {
        "code": "cfo_advisory",
        "name": "CFO advisory session",
        "trigger_event": "recurring_appointment",
        "qualifying_condition": "Client meeting confirmed",
        "deadline_basis": "event_date",
        "deadline_buffer": 48,
        "deadline_buffer_unit": "hours",
        "recurrence_rule": "FREQ=MONTHLY;BYMONTHDAY=15",
        "default_estimated_hours": Decimal("4"),
        "complexity_weight": Decimal("1.20"),
        "min_seniority": 3,
        "reviewer_required": False,
        "standard_rate": Decimal("275"),
        "priority": "low",
        "suppressed_in_december": True,
        "document_checklist": [],
        "skills": [("cfo_advisory", 3)],
    },
    {
        "code": "1099",
        "name": "1099 processing",
        "trigger_event": "annual_calendar",
        "qualifying_condition": "Contractor count > 0",
        "deadline_basis": "statutory_date",
        "statutory_month": 1,
        "statutory_day": 25,
        "recurrence_rule": "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1",
        "default_estimated_hours": Decimal("2"),
        "complexity_weight": Decimal("0.70"),
        "reviewer_required": True,
        "reviewer_min_seniority": 2,
        "fixed_fee": Decimal("150"),
        "priority": "high",
        "document_checklist": ["Contractor list with W-9s"],
        "skills": [("info_returns_1099", 2)],
    },
    {
        "code": "month_end_close",
        "name": "Month-end close",
        "trigger_event": "monthly_calendar",
        "qualifying_condition": "Period ended",
        "deadline_basis": "period_end",
        "period_end_offset_business_days": 8,
        "recurrence_rule": "FREQ=MONTHLY;BYMONTHDAY=1",
        "default_estimated_hours": Decimal("10"),
        "complexity_weight": Decimal("1.00"),
        "reviewer_required": True,
        "reviewer_min_seniority": 3,
        "standard_rate": Decimal("150"),
        "priority": "high",
        "document_checklist": [
            "Bank statements",
            "Credit card statements",
            "Payroll register",
            "AP aging",
            "AR aging",
        ],
        "skills": [("bookkeeping", 3)],
    },
]


def seed(apps, schema_editor):
    WorkType = apps.get_model("engagements", "WorkType")
    WorkTypeSkill = apps.get_model("engagements", "WorkTypeSkill")
    SkillTag = apps.get_model("staff", "SkillTag")
    for spec in WORK_TYPES:
        spec = dict(spec)
        skills = spec.pop("skills")
        work_type, created = WorkType.objects.get_or_create(code=spec.pop("code"), defaults=spec)
        if created:
            for slug, level in skills:
                WorkTypeSkill.objects.create(
                    work_type=work_type, skill=SkillTag.objects.get(slug=slug), min_level=level
                )


def unseed(apps, schema_editor):
    apps.get_model("engagements", "WorkType").objects.filter(
        code__in=[spec["code"] for spec in WORK_TYPES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("engagements", "0001_initial"), ("staff", "0002_seed_skill_tags")]
    operations = [migrations.RunPython(seed, unseed)]
