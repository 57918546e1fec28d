"""Each demo role, from the login to its main action, in a real browser on the demo firm;
and the queue on a phone-sized screen.

The demo firm is built as ``./scripts/run`` builds it (``seed_demo`` around today);
the logins are read from what it prints, one per role.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from demo.specs import DEMO_PASSWORD
from dispatch.choices import EscalationStatus
from dispatch.models import Escalation
from dispatch.sweeps import dispatch_sweep
from notifications.choices import Channel, NotificationTemplate
from notifications.models import Notification
from staff.models import StaffSkill
from tests.e2e.test_login import log_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}


def test_associate_accepts_a_task_from_their_queue(live_server, demo_logins, page: Page) -> None:
    log_in(page, live_server.url, demo_logins["associate"], DEMO_PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My work").click()

    expect(page).to_have_title(re.compile(r"^My work"))
    waiting = page.locator("tr.task-row").filter(has=page.get_by_role("button", name="Accept"))
    expect(waiting.first).to_be_visible()
    row_id = waiting.first.get_attribute("id")
    awaiting = page.locator("#queue-counts li").first
    before = int(awaiting.locator("strong").inner_text())
    waiting.first.get_by_role("button", name="Accept").click()

    row = page.locator(f"#{row_id}")
    expect(row).to_contain_text("Accepted")
    expect(row.get_by_role("button", name="Start")).to_be_visible()
    expect(awaiting.locator("strong")).to_have_text(str(before - 1))


def test_partner_reads_the_close_burn_down(live_server, demo_logins, page: Page) -> None:
    log_in(page, live_server.url, demo_logins["partner"], DEMO_PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Close").click()

    expect(page).to_have_title(re.compile(r"^Close progress"))
    chart = page.get_by_role("img", name=re.compile(r"^Burn-down"))
    expect(chart).to_be_visible()
    caption = page.locator("figure.chart figcaption p").first
    expect(caption).to_contain_text(re.compile(r"\d+ of \d+ engagements? delivered"))
    page.get_by_text("The burn-down as a table").click()
    table = page.get_by_role("table").filter(has_text="8-day line")
    expect(table).to_be_visible()
    expect(table.get_by_role("row")).not_to_have_count(0)
    expect(page.get_by_role("img", name=re.compile(r"^Risk"))).to_be_visible()
    expect(page.locator(".cycle")).to_contain_text("Close cycle, period end to delivered")


def test_admin_adds_a_skill_to_a_staff_member(live_server, demo_logins, page: Page) -> None:
    log_in(page, live_server.url, demo_logins["admin"], DEMO_PASSWORD)

    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Staff members").first.click()
    page.locator("#result_list tbody tr th a").first.click()
    member_pk = int(re.search(r"/(\d+)/change/", page.url).group(1))
    group = page.locator("#staff_skills-group")
    held = set(group.locator(".select2-selection__rendered").all_inner_texts())
    rows = group.locator("tr.form-row:not(.empty-form)")
    last = rows.nth(rows.count() - 1)
    if last.locator("select[name$='-skill']").input_value():
        group.locator(".add-row a").click()  # every row is filled: add one
        last = rows.nth(rows.count() - 1)
    last.locator(".select2-selection").click()
    options = page.locator(".select2-results__option:not(.loading-results)")
    expect(options.first).to_be_visible()
    choice = next(text for text in options.all_inner_texts() if text not in held)
    options.filter(has_text=re.compile(f"^{re.escape(choice)}$")).first.click()
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    assert StaffSkill.objects.filter(staff_member_id=member_pk, skill__name=choice).exists()


def test_queue_on_a_phone_keeps_its_actions_visible_and_working(
    live_server, demo_logins, browser: Browser
) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, live_server.url, demo_logins["associate"], DEMO_PASSWORD)

    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()  # the navigation is collapsed behind it
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    menu.click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My work").click()

    expect(page).to_have_title(re.compile(r"^My work"))
    startable = re.compile(r"^(Accept|Start)$")
    first = page.locator("tr.task-row").filter(has=page.get_by_role("button", name=startable)).first
    expect(first).to_be_visible()
    buttons = first.locator(".row-actions button")
    expect(buttons.first).to_be_visible()
    for index in range(buttons.count()):
        box = buttons.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert box["height"] >= 40, box  # a thumb can hit it
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    action = first.get_by_role("button", name=startable).first
    label = action.inner_text()
    status = "Accepted" if label == "Accept" else "In progress"
    row_id = first.get_attribute("id")
    action.tap()

    expect(page.locator(f"#{row_id}")).to_contain_text(status)

    # The task page, from the row's client link, fits the phone too, its actions in reach.
    page.locator(f"#{row_id} td[data-label='Client'] a").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    actions = page.locator("main a.button, main button[type=submit]")
    assert actions.count() >= 1
    for index in range(actions.count()):
        if actions.nth(index).is_visible():
            box = actions.nth(index).bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
    context.close()


def test_manager_resolves_an_escalation_reached_from_the_digest(
    live_server, demo_logins, broker, page: Page
) -> None:
    """The sweep's digest (one email per manager) links to the escalations page; the
    manager follows it, logs in, and resolves one there."""
    digests = Notification.objects.filter(
        template=NotificationTemplate.ESCALATION_DIGEST, channel=Channel.EMAIL
    )
    if not digests.exists():
        dispatch_sweep()  # as beat runs it; the digest is written at its end
    by_recipient = {n.recipient.split("@")[0]: n for n in digests.order_by("pk")}
    username = demo_logins["manager"]
    if username not in by_recipient:
        username = next(iter(by_recipient), "")
    assert username, "the first sweep sent no escalation digest"
    link = re.search(r"Resolve them on the escalations page: (\S+)", by_recipient[username].body)
    assert link, by_recipient[username].body

    # The link is absolute (the site's address); this server listens elsewhere.
    page.goto(live_server.url + urlsplit(link.group(1)).path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_title(re.compile(r"^Escalations"))
    card = page.locator("section.escalation").first
    open_before = Escalation.objects.filter(status=EscalationStatus.OPEN).count()
    card.get_by_label("Person").select_option(index=1)
    card.get_by_label("Reason").fill("Has room once the payroll runs are out")
    card.get_by_role("button", name="Assign").click()

    expect(
        page.get_by_text(re.compile(r"^Assigned to .+; the escalation is resolved\.$"))
    ).to_be_visible()
    assert Escalation.objects.filter(status=EscalationStatus.OPEN).count() == open_before - 1


@pytest.mark.parametrize("role", ["associate", "partner"])
def test_every_page_in_the_navigation_fits_a_phone(
    live_server, demo_logins, browser: Browser, role: str
) -> None:
    """At 390 px the menu collapses behind "Menu" on every page it offers, and no page
    is wider than the screen (wide tables scroll inside their card)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, live_server.url, demo_logins[role], DEMO_PASSWORD)
    hrefs = page.locator("header nav a").evaluate_all("links => links.map(a => a.href)")
    pages = [href for href in hrefs if "/admin/" not in href]
    assert len(pages) >= 5, pages

    too_wide = {}
    for href in pages:
        response = page.goto(href)
        assert response is not None and response.status == 200, (href, response)
        page.wait_for_load_state("load")
        expect(page.get_by_role("button", name="Menu")).to_be_visible()
        expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[href.removeprefix(live_server.url)] = width
    assert not too_wide, too_wide

    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    context.close()
