"""Default thresholds from the seeds: 80 % all year, a January–April surge tier of
90 % for tax-trained staff, and December suppression of low-priority work."""

from decimal import Decimal

from django.db import migrations


def seed(apps, schema_editor):
    CapacityRule = apps.get_model("capacity", "CapacityRule")
    SkillTag = apps.get_model("staff", "SkillTag")
    CapacityRule.objects.get_or_create(
        name="Standard",
        defaults={
            "threshold_percent": Decimal("80"),
            "reviewer_threshold_percent": Decimal("70"),
        },
    )
    surge, created = CapacityRule.objects.get_or_create(
        name="Tax season surge",
        defaults={
            "start_month": 1,
            "start_day": 1,
            "end_month": 4,
            "end_day": 30,
            "threshold_percent": Decimal("90"),
            "reviewer_threshold_percent": Decimal("80"),
        },
    )
    if created:
        surge.skills.set(
            SkillTag.objects.filter(slug__in=["individual_tax_certified", "corporate_tax"])
        )
    CapacityRule.objects.get_or_create(
        name="December low-priority hold",
        defaults={
            "start_month": 12,
            "start_day": 1,
            "end_month": 12,
            "end_day": 31,
            "suppress_flagged_work_types": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("capacity", "0001_initial"), ("staff", "0002_seed_skill_tags")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
