from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from clients.choices import EntityType
from clients.models import Client
from engagements.choices import TaskRole
from engagements.models import Engagement, RequiredDocument, Task, WorkType
from staff.choices import Role, Seniority, SkillCategory
from staff.models import SkillTag, StaffMember, StaffSkill, TimeOff
from staff.services import staff_member_sync_role

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class StaffMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    role = Role.STAFF
    seniority = Seniority.ASSOCIATE
    weekly_capacity_hours = Decimal("40")
    cost_rate = Decimal("45")
    bill_rate = Decimal("150")

    @factory.post_generation
    def sync_role(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            staff_member_sync_role(staff_member=obj)


class SkillTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkillTag
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"skill-{n}")
    name = factory.LazyAttribute(lambda s: s.slug.replace("-", " ").title())
    category = SkillCategory.WORK_TYPE


class StaffSkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffSkill

    staff_member = factory.SubFactory(StaffMemberFactory)
    skill = factory.SubFactory(SkillTagFactory)
    level = 3


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    staff_member = factory.SubFactory(StaffMemberFactory)
    start_date = dt.date(2026, 12, 21)
    end_date = dt.date(2026, 12, 24)
    hours_per_day = Decimal("8")


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n} LLC")
    entity_type = EntityType.S_CORP
    contact_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"contact{n}@client.example")


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    client = factory.SubFactory(ClientFactory)
    work_type = factory.LazyFunction(lambda: WorkType.objects.get(code="1040"))
    period_start = dt.date(2026, 1, 1)
    period_end = dt.date(2026, 12, 31)
    due_date = dt.date(2027, 3, 25)
    estimated_hours = Decimal("6")


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    engagement = factory.SubFactory(EngagementFactory)
    role = TaskRole.PREPARER
    title = factory.Sequence(lambda n: f"Prepare #{n}")
    estimated_hours = Decimal("6")
    due_date = factory.SelfAttribute("engagement.due_date")


class RequiredDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequiredDocument

    engagement = factory.SubFactory(EngagementFactory)
    name = factory.Sequence(lambda n: f"Document {n}")
