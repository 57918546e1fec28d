from django.db import migrations

SKILL_TAGS = [
    # (slug, name, category)
    ("cpa", "CPA license", "certification"),
    ("enrolled_agent", "Enrolled agent", "certification"),
    ("cisa", "CISA", "certification"),
    ("individual_tax_certified", "Individual tax (1040)", "work_type"),
    ("corporate_tax", "Corporate tax (1120)", "work_type"),
    ("audit_trained", "Audit", "work_type"),
    ("bookkeeping", "Bookkeeping & close", "work_type"),
    ("payroll", "Payroll", "work_type"),
    ("cfo_advisory", "CFO advisory", "work_type"),
    ("info_returns_1099", "1099 processing", "work_type"),
    ("construction", "Construction", "industry"),
    ("healthcare", "Healthcare", "industry"),
    ("real_estate", "Real estate", "industry"),
    ("nonprofit_sector", "Nonprofit", "industry"),
    ("restaurants", "Restaurants & hospitality", "industry"),
    ("technology", "Technology", "industry"),
    ("manufacturing", "Manufacturing", "industry"),
    ("professional_services", "Professional services", "industry"),
]


def seed(apps, schema_editor):
    SkillTag = apps.get_model("staff", "SkillTag")
    for slug, name, category in SKILL_TAGS:
        SkillTag.objects.get_or_create(slug=slug, defaults={"name": name, "category": category})


def unseed(apps, schema_editor):
    apps.get_model("staff", "SkillTag").objects.filter(
        slug__in=[slug for slug, _, _ in SKILL_TAGS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("staff", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
