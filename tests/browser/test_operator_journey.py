"""The owner grants a staff role from the operations console; a member is kept out of it."""

import re

import pytest
from playwright.sync_api import expect

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

from .helpers import at_path, zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_finds_a_member_and_grants_the_intake_clerk_role(page, login):
    owner = UserFactory(roles=[roles.OWNER], display_name="周店长")
    clerk_to_be = UserFactory(roles=[roles.MEMBER], display_name="陈晓梅", city="苏州")
    UserFactory.create_batch(3, roles=[roles.MEMBER])

    login(owner.phone, DEFAULT_PASSWORD)

    # The operations tab opens the console.
    ops_tab = page.get_by_test_id("tab-ops")
    expect(ops_tab).to_have_accessible_name(zh("Operations"))
    ops_tab.tap()
    expect(page).to_have_url(at_path("/ops/"))
    expect(page.locator("h1")).to_have_text(zh("Operations"))
    expect(ops_tab).to_have_class(re.compile(r"\bis-active\b"))

    # The member directory lists everyone; a search by display name narrows it to her.
    directory_link = page.locator('a[href="/accounts/ops/members/"]')
    expect(directory_link).to_have_text(zh("Member directory"))
    directory_link.tap()
    expect(page).to_have_url(at_path("/accounts/ops/members/"))
    rows = page.locator(".member-list > li")
    expect(rows).to_have_count(5)

    page.fill("input[name=q]", "晓梅")
    page.locator("form.filters button[type=submit]").tap()
    expect(page).to_have_url(re.compile(r"/accounts/ops/members/\?q=%E6%99%93%E6%A2%85&"))
    expect(page.locator("input[name=q]")).to_have_value("晓梅")
    expect(rows).to_have_count(1)
    expect(rows.locator("strong")).to_have_text("陈晓梅")
    expect(rows.locator(".chip")).to_have_text([zh(roles.ROLES[roles.MEMBER].label)])
    rows.locator("a").tap()

    # Her page: no role change recorded yet, and a grant button for each role she lacks.
    expect(page).to_have_url(at_path(f"/accounts/ops/members/{clerk_to_be.pk}/"))
    expect(page.get_by_test_id("member-name")).to_have_text("陈晓梅")
    history = page.get_by_test_id("role-change")
    expect(history).to_have_count(0)
    intake_row = page.locator(f"form:has(input[name=role][value={roles.INTAKE_CLERK}])")
    expect(intake_row.locator("input[name=action]")).to_have_value("grant")
    grant = intake_row.locator("button")
    expect(grant).to_have_text(zh("Grant"))
    grant.tap()

    # Granted: the button now revokes, and the history names the role and who granted it.
    expect(page).to_have_url(at_path(f"/accounts/ops/members/{clerk_to_be.pk}/"))
    expect(page.locator(".message-success")).to_have_text(zh("Roles updated."))
    expect(intake_row.locator("input[name=action]")).to_have_value("revoke")
    expect(intake_row.locator("button")).to_have_text(zh("Revoke"))
    intake_label = zh(roles.ROLES[roles.INTAKE_CLERK].label)
    expect(history).to_have_count(1)
    expect(history).to_have_text(
        re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} \+ " + re.escape(f"{intake_label} · 周店长") + "$")
    )

    assert set(clerk_to_be.groups.values_list("name", flat=True)) == {roles.MEMBER, roles.INTAKE_CLERK}
    clerk_to_be.refresh_from_db()
    assert clerk_to_be.is_staff
    change = clerk_to_be.role_changes.get()
    assert (change.role, change.granted, change.actor) == (roles.INTAKE_CLERK, True, owner)


def test_a_member_gets_the_403_page_at_the_operations_console(page, login):
    member = UserFactory(roles=[roles.MEMBER])
    login(member.phone, DEFAULT_PASSWORD)

    # No operations tab for her.
    expect(page.get_by_test_id("tab-me")).to_be_visible()
    expect(page.get_by_test_id("tab-ops")).to_have_count(0)
    expect(page.locator('.tab-bar a[href="/ops/"]')).to_have_count(0)

    for path in ("/ops/", "/accounts/ops/members/"):
        response = page.goto(path)
        assert response.status == 403, path
        expect(page.get_by_test_id("error-status")).to_have_text("403")
        expect(page.get_by_test_id("error-title")).to_have_text(zh("Not allowed"))
        expect(page.get_by_test_id("error-detail")).to_have_text(zh("You do not have permission to open this page."))
        # The site's own page: its header, its tab bar (still without operations) and its stylesheet.
        expect(page.locator(".site-header .brand-mark")).to_have_text("二货")
        expect(page.get_by_test_id("tab-me")).to_be_visible()
        expect(page.get_by_test_id("tab-ops")).to_have_count(0)
        expect(page.get_by_test_id("error-status")).to_have_css("color", "rgb(180, 71, 95)")
