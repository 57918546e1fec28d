"""A person's working hours page: the manager sets day-level hours, everyone's pages follow."""

from __future__ import annotations

import pytest
from django.urls import reverse

from staff.models import StaffMember, WorkingPattern

pytestmark = pytest.mark.django_db

FOUR_TENS = {
    "name": "Four tens",
    "starts_on": "",
    "ends_on": "",
    "monday_hours": "10",
    "tuesday_hours": "10",
    "wednesday_hours": "10",
    "thursday_hours": "10",
    "friday_hours": "0",
    "saturday_hours": "0",
    "sunday_hours": "0",
}


def hours_url(member: StaffMember) -> str:
    return reverse("portal:capacity-hours", args=[member.pk])


def day_cell(client, member: StaffMember, day: str) -> str:
    url = reverse("portal:capacity-cell") + f"?staff={member.pk}&start={day}&span=days"
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_manager_gives_alice_four_tens_and_the_day_view_follows(client, firm, frozen_today):
    client.force_login(firm.manager.user)
    assert " / 8 h" in day_cell(client, firm.alice, "2026-12-11")  # Friday: 8 h before

    response = client.post(hours_url(firm.alice), FOUR_TENS)

    assert response.status_code == 302
    page = client.get(hours_url(firm.alice)).content.decode()
    assert "Four tens" in page and "40 h" in page
    assert "Fri Dec 11</th><td>0 h</td>" in page
    assert "Mon Dec 7</th><td>10 h</td>" in page
    # The heatmap's day cells: ten hours on Monday, none on Friday (her 20 h due
    # Friday are done by Thursday).
    assert " / 10 h" in day_cell(client, firm.alice, "2026-12-07")
    assert "0 / 0 h" in day_cell(client, firm.alice, "2026-12-11")


def test_busy_season_overtime_applies_for_its_dates_only(client, firm, frozen_today):
    client.force_login(firm.partner.user)
    season = FOUR_TENS | {
        "name": "Busy season",
        "starts_on": "2026-12-09",
        "ends_on": "2026-12-10",
        "friday_hours": "10",
        "saturday_hours": "6",
    }

    assert client.post(hours_url(firm.bob), season).status_code == 302

    page = client.get(hours_url(firm.bob)).content.decode()
    assert "Tue Dec 8</th><td>8 h</td><td>Weekly hours" in page  # 32 h over Mon–Thu
    assert "Wed Dec 9</th><td>10 h</td><td>Busy season" in page
    assert "Fri Dec 11</th><td>0 h</td><td>Weekly hours" in page


def test_alice_reads_her_hours_but_only_her_manager_changes_them(client, firm, frozen_today):
    client.force_login(firm.alice.user)

    page = client.get(hours_url(firm.alice))
    refused = client.post(hours_url(firm.alice), FOUR_TENS)

    assert page.status_code == 200
    assert "Add a working pattern" not in page.content.decode()
    assert refused.status_code == 403
    assert not WorkingPattern.objects.exists()


def test_another_associate_does_not_find_alices_hours(client, firm, frozen_today):
    client.force_login(firm.bob.user)

    assert client.get(hours_url(firm.alice)).status_code == 404


def test_a_pattern_ending_before_it_starts_is_refused_in_words(client, firm, frozen_today):
    client.force_login(firm.manager.user)
    backwards = FOUR_TENS | {"starts_on": "2027-02-01", "ends_on": "2027-01-01"}

    response = client.post(hours_url(firm.alice), backwards)

    assert response.status_code == 400
    assert "cannot end before it starts" in response.content.decode()
    assert not WorkingPattern.objects.exists()


def test_a_week_without_hours_is_refused_in_words(client, firm, frozen_today):
    client.force_login(firm.manager.user)
    empty = FOUR_TENS | {f"{day}_hours": "0" for day in ("monday", "tuesday", "wednesday")}
    empty["thursday_hours"] = "0"

    response = client.post(hours_url(firm.alice), empty)

    assert response.status_code == 400
    assert "at least one day some hours" in response.content.decode()


def test_removing_a_pattern_gives_back_the_weekly_hours(client, firm, frozen_today):
    client.force_login(firm.manager.user)
    client.post(hours_url(firm.alice), FOUR_TENS)
    pattern = WorkingPattern.objects.get()

    response = client.post(
        reverse("portal:capacity-hours-remove", args=[firm.alice.pk, pattern.pk])
    )

    assert response.status_code == 302
    assert "Fri Dec 11</th><td>8 h</td>" in client.get(hours_url(firm.alice)).content.decode()


def test_the_heatmap_links_each_person_to_their_hours(client, firm, frozen_today):
    client.force_login(firm.manager.user)

    html = client.get(reverse("portal:capacity")).content.decode()

    assert f'href="{hours_url(firm.alice)}"' in html


def test_the_hours_page_query_count_does_not_grow_with_patterns(
    client, firm, frozen_today, django_assert_max_num_queries
):
    client.force_login(firm.manager.user)
    for week in range(6):
        client.post(
            hours_url(firm.alice),
            FOUR_TENS | {"starts_on": f"2027-0{1 + week}-01", "name": f"Pattern {week}"},
        )

    with django_assert_max_num_queries(12):
        response = client.get(hours_url(firm.alice))

    assert response.content.decode().count("Pattern ") >= 6
