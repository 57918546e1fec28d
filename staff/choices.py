from django.db import models


class Role(models.TextChoices):
    STAFF = "staff", "Staff"
    SENIOR = "senior", "Senior"
    MANAGER = "manager", "Manager"
    PARTNER = "partner", "Partner"
    ADMIN = "admin", "Admin"


class Seniority(models.IntegerChoices):
    ASSOCIATE = 1, "Associate"
    SENIOR_ASSOCIATE = 2, "Senior associate"
    SENIOR = 3, "Senior"
    MANAGER = 4, "Manager"
    SENIOR_MANAGER = 5, "Senior manager"
    PARTNER = 6, "Partner"


class SkillCategory(models.TextChoices):
    CERTIFICATION = "certification", "Certification"
    WORK_TYPE = "work_type", "Work type"
    INDUSTRY = "industry", "Industry"


class SkillLevel(models.IntegerChoices):
    LEARNING = 1, "Learning"
    WORKING = 2, "Working"
    PROFICIENT = 3, "Proficient"
    EXPERT = 4, "Expert"
    LEAD = 5, "Lead / trainer"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Mon"
    TUESDAY = 1, "Tue"
    WEDNESDAY = 2, "Wed"
    THURSDAY = 3, "Thu"
    FRIDAY = 4, "Fri"
    SATURDAY = 5, "Sat"
    SUNDAY = 6, "Sun"


# The auth groups a role grants, in order of increasing reach.
ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    Role.STAFF: ("staff",),
    Role.SENIOR: ("staff",),
    Role.MANAGER: ("staff", "manager"),
    Role.PARTNER: ("staff", "manager", "partner"),
    Role.ADMIN: ("staff", "manager", "partner", "admin"),
}
