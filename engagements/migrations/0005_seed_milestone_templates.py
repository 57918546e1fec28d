"""Default milestone templates per work type (seeds: month-end close phases 1–4;
audit kickoff -> fieldwork -> review -> report; advisory phase triggers). Data the
admin edits from here on."""

from django.db import migrations


def step(code, label, on_enter=None):
    data = {"code": code, "label": label}
    if on_enter:
        data["on_enter"] = on_enter
    return data


CLOSE = [
    step("documents_requested", "Documents requested"),
    step("documents_received", "Documents received", "dispatch_preparer"),
    step("in_preparation", "In bookkeeping"),
    step("preparation_complete", "Bookkeeper complete", "dispatch_reviewer"),
    step("in_review", "In review"),
    step("review_complete", "Final review complete", "invoice"),
    step("invoiced", "Invoiced"),
    step("delivered", "Delivered", "close"),
    step("closed", "Closed"),
]
BOOKKEEPING = [
    step("documents_requested", "Documents requested"),
    step("documents_received", "Documents received", "dispatch_preparer"),
    step("in_preparation", "In bookkeeping"),
    step("preparation_complete", "Bookkeeper complete", "invoice"),
    step("invoiced", "Invoiced"),
    step("delivered", "Delivered", "close"),
    step("closed", "Closed"),
]
TAX = [
    step("documents_requested", "Documents requested"),
    step("documents_received", "Documents received", "dispatch_preparer"),
    step("in_preparation", "In preparation"),
    step("preparation_complete", "Preparation complete", "dispatch_reviewer"),
    step("in_review", "In review"),
    step("review_complete", "Review complete", "invoice"),
    step("invoiced", "Invoiced"),
    step("delivered", "Filed and delivered", "close"),
    step("closed", "Closed"),
]
AUDIT = [
    step("kickoff_signed", "Kickoff signed", "dispatch_preparer"),
    step("in_preparation", "Fieldwork"),
    step("preparation_complete", "Fieldwork complete", "dispatch_reviewer"),
    step("in_review", "Review"),
    step("review_complete", "Report issued", "invoice"),
    step("invoiced", "Invoiced"),
    step("closed", "Closed"),
]
ADVISORY = [
    step("session_confirmed", "Session confirmed", "dispatch_preparer"),
    step("in_preparation", "Preparing the session"),
    step("preparation_complete", "Session held", "invoice"),
    step("invoiced", "Invoiced"),
    step("closed", "Closed"),
]
PAYROLL = [
    step("headcount_change", "Headcount change logged", "dispatch_preparer"),
    step("in_preparation", "Processing"),
    step("preparation_complete", "Payroll run", "invoice"),
    step("invoiced", "Invoiced"),
    step("closed", "Closed"),
]
TEMPLATES = {
    "month_end_close": CLOSE,
    "monthly_bookkeeping": BOOKKEEPING,
    "1040": TAX,
    "1120": TAX,
    "1099": TAX,
    "audit": AUDIT,
    "cfo_advisory": ADVISORY,
    "payroll": PAYROLL,
}


def seed(apps, schema_editor):
    WorkType = apps.get_model("engagements", "WorkType")
    for code, template in TEMPLATES.items():
        WorkType.objects.filter(code=code, milestone_template=[]).update(milestone_template=template)


class Migration(migrations.Migration):
    dependencies = [("engagements", "0004_milestones_exceptions_recurring_uploads")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
