"""Skills from the staff list: a column shows them, and "Add a skill to the selected
people" gives one to several people from one page."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils.html import escape

from staff.models import SkillTag, StaffSkill

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:staff_staffmember_changelist")


@pytest.fixture
def admin_browser(client, firm_admin):
    client.force_login(firm_admin.user)  # the firm's administrator, not a superuser
    return client


def choose(*people, **form) -> dict:
    return {"action": "add_skill", helpers.ACTION_CHECKBOX_NAME: [p.pk for p in people], **form}


def test_the_staff_list_shows_each_persons_skills(admin_browser, alice):
    bookkeeping = SkillTag.objects.get(slug="bookkeeping")
    StaffSkill.objects.create(staff_member=alice, skill=bookkeeping)

    body = admin_browser.get(CHANGELIST).content.decode()

    assert f"{escape(bookkeeping.name)} (3)" in body
    assert "Add a skill to the selected people" in body


def test_the_action_asks_which_skill_then_gives_it_to_everyone_chosen(admin_browser, alice, bob):
    payroll = SkillTag.objects.get(slug="payroll")
    StaffSkill.objects.create(staff_member=bob, skill=payroll, level=1)

    asked = admin_browser.post(CHANGELIST, choose(alice, bob))
    done = admin_browser.post(
        CHANGELIST, choose(alice, bob, apply="1", skill=payroll.pk, level="4"), follow=True
    )

    assert asked.status_code == 200
    assert "Give a skill to 2 people" in asked.content.decode()
    assert "Alice Associate" in asked.content.decode()
    assert "Payroll at level 4 given to 2 people." in done.content.decode()
    assert set(StaffSkill.objects.filter(skill=payroll).values_list("staff_member", "level")) == {
        (alice.pk, 4),
        (bob.pk, 4),  # held already: the new level
    }


@pytest.mark.parametrize(
    "form,message",
    [
        ({"level": "3"}, "This field is required."),
        ({"level": "9"}, "Select a valid choice"),
        ({"level": "3", "certified_until": "3000-01-01"}, "Choose a date between"),
    ],
)
def test_a_bad_choice_is_explained_and_nothing_is_given(admin_browser, alice, form, message):
    payroll = SkillTag.objects.get(slug="payroll")
    data = choose(alice, apply="1", **form)
    if "skill" not in form and message != "This field is required.":
        data["skill"] = payroll.pk

    response = admin_browser.post(CHANGELIST, data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not StaffSkill.objects.filter(staff_member=alice).exists()


def test_the_staff_list_queries_stay_flat_with_skills(
    admin_browser, alice, bob, django_assert_max_num_queries
):
    bookkeeping, payroll = SkillTag.objects.filter(slug__in=["bookkeeping", "payroll"])
    StaffSkill.objects.create(staff_member=alice, skill=bookkeeping)
    with django_assert_max_num_queries(20) as few:
        admin_browser.get(CHANGELIST)
    StaffSkill.objects.create(staff_member=alice, skill=payroll)
    for skill in (bookkeeping, payroll):
        StaffSkill.objects.create(staff_member=bob, skill=skill)
    with django_assert_max_num_queries(20) as more:
        admin_browser.get(CHANGELIST)

    assert len(more.captured_queries) == len(few.captured_queries)
