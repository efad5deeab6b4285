"""Issue 4, personal data: a member takes her data with her, asks for it to be deleted, and is erased.

In the browser: the member opens her privacy page from her profile,
downloads her data (a JSON file with her phone number and nobody else's),
asks for deletion (a wrong password first, refused), sees her open request;
customer service opens the deletion queue and erases her (nothing blocks
it: she has no deposit, no item and no application under review); her
session ends and she can no longer log in. Only the users are made directly
in the database.

The same run takes the phone-sized screenshots for the operator guide
(docs/img/privacy-*.png), overwriting them.
"""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from erhuo.accounts import roles
from erhuo.accounts.models import Address, DeletionRequest, User
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, UserFactory

from .helpers import DOCS_IMG, at_path, log_in, posted, scroll_to, shoot, submit, success, zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = DeletionRequest.Status
REASON = "孩子大了，不再需要买卖母婴用品，谢谢大家。"


def test_a_member_downloads_her_data_asks_for_deletion_and_is_erased(open_page):
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    member = UserFactory(roles=[roles.MEMBER], display_name="王小满", city="南京", phone="13877770101")
    AddressFactory(user=member, recipient_name="王小满", recipient_phone="13877770101", detail="中山路 18 号 2 栋 502")
    other = UserFactory(roles=[roles.MEMBER], display_name="李静", city="南京", phone="13877770202")
    AddressFactory(user=other, recipient_name="李静", recipient_phone="13877770303", detail="汉口路 9 号")
    service = UserFactory(roles=[roles.CUSTOMER_SERVICE], display_name="客服小周", phone="13877770404")
    username = member.username

    # === Her privacy page, from her profile. ===
    member_page = open_page("member")
    log_in(member_page, member)
    member_page.get_by_test_id("privacy-link").tap()
    expect(member_page).to_have_url(at_path("/accounts/privacy/"))
    expect(member_page.locator("h1")).to_have_text(zh("My data and privacy"))
    expect(member_page.get_by_test_id("no-access")).to_be_visible()
    expect(member_page.get_by_test_id("blockers")).to_have_count(0)
    shoot(member_page, "privacy-page.png")

    # === She downloads her data: hers, in full, and nobody else's. ===
    with member_page.expect_download() as download_info:
        member_page.get_by_test_id("download-my-data").tap()
    download = download_info.value
    assert re.fullmatch(r"erhuo-my-data-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename)
    text = Path(download.path()).read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["accounts"]["account"]["phone"] == member.phone
    assert data["accounts"]["account"]["username"] == username
    assert [address["detail"] for address in data["accounts"]["addresses"]] == ["中山路 18 号 2 栋 502"]
    for someone_else in (other.phone, other.display_name, other.username, "13877770303", "汉口路", service.phone):
        assert someone_else not in text, someone_else
    # The download leaves her on her privacy page.
    expect(member_page).to_have_url(at_path("/accounts/privacy/"))

    # === She asks for deletion; a wrong password is refused first. ===
    scroll_to(member_page, "#deletion")
    form = member_page.get_by_test_id("deletion-form")
    form.locator("input[name=password]").fill(DEFAULT_PASSWORD + "x")
    form.locator("textarea[name=reason]").fill(REASON)
    with posted(member_page, "/accounts/privacy/deletion/") as response:
        form.locator("button[type=submit]").tap()
    assert response.value.status == 422
    form = member_page.get_by_test_id("deletion-form")
    expect(form.locator(".field:has(input[name=password]) .field-error")).to_have_text(
        zh("The password is not correct.")
    )
    expect(form.locator("textarea[name=reason]")).to_have_value(REASON)
    expect(form.locator("input[name=password]")).to_have_value("")
    assert not DeletionRequest.objects.exists()

    form.locator("input[name=password]").fill(DEFAULT_PASSWORD)
    scroll_to(member_page, "#deletion")
    shoot(member_page, "privacy-deletion-form.png")
    form.locator("button[type=submit]").tap()
    expect(member_page).to_have_url(at_path("/accounts/privacy/"))
    success(member_page, zh("We have your request. Customer service will process it within 15 working days."))
    open_request = member_page.get_by_test_id("open-request")
    expect(open_request).to_be_visible()
    expect(open_request.get_by_test_id("cancel-deletion")).to_be_visible()
    expect(member_page.get_by_test_id("deletion-form")).to_have_count(0)
    scroll_to(member_page, "[data-testid=open-request]")
    shoot(member_page, "privacy-requested.png")
    request = DeletionRequest.objects.get(user=member)
    assert (request.status, request.reason, request.blockers) == (D.REQUESTED, REASON, [])

    # === Customer service erases her from the deletion queue. ===
    service_page = open_page("service")
    log_in(service_page, service)
    service_page.get_by_test_id("tab-ops").tap()
    expect(service_page).to_have_url(at_path("/ops/"))
    service_page.get_by_test_id("deletion-queue-link").tap()
    expect(service_page).to_have_url(at_path("/ops/deletion-requests/"))
    rows = service_page.get_by_test_id("deletion-row")
    expect(rows).to_have_count(1)
    # Masked in the queue.
    expect(rows.first).not_to_contain_text(member.display_name)
    expect(rows.first).to_contain_text(f"#{member.pk}")
    shoot(service_page, "privacy-queue.png")
    rows.first.locator("a").tap()
    expect(service_page).to_have_url(at_path(f"/ops/deletion-requests/{request.pk}/"))
    expect(service_page.get_by_test_id("deletion-status")).to_have_text(zh(D.REQUESTED.label))
    expect(service_page.get_by_test_id("no-blockers")).to_have_text(zh("Nothing blocks the erasure."))
    expect(service_page.locator("#main")).to_contain_text(REASON)
    shoot(service_page, "privacy-request.png")
    decision = service_page.get_by_test_id("decision-form")
    decision.locator("textarea[name=note]").fill("已核实，无未结订单与保证金。")
    erase = decision.locator('button[formaction$="/erase/"]')
    expect(erase).to_have_text(zh("Erase personal data"))
    # Without ticking the confirmation, nothing happens but a message on the box
    erase.tap()
    expect(decision.locator(".field-error")).to_have_text(zh("Tick this box to erase: it cannot be undone."))
    assert DeletionRequest.objects.get(pk=request.pk).status == D.REQUESTED
    decision = service_page.get_by_test_id("decision-form")
    decision.locator("input[name=confirm]").check()
    decision.locator('button[formaction$="/erase/"]').tap()
    expect(service_page).to_have_url(at_path(f"/ops/deletion-requests/{request.pk}/"))
    success(service_page, zh("The member's personal data is erased and the request completed."))
    expect(service_page.get_by_test_id("deletion-status")).to_have_text(zh(D.COMPLETED.label))
    expect(service_page.get_by_test_id("decision-form")).to_have_count(0)
    shoot(service_page, "privacy-erased.png")

    request.refresh_from_db()
    erased = User.objects.get(pk=member.pk)
    assert (request.status, request.decided_by) == (D.COMPLETED, service)
    assert (erased.status, erased.is_active, erased.phone, erased.city) == (User.Status.CLOSED, False, "", "")
    assert erased.display_name != "王小满"
    assert not Address.objects.filter(user=member).exists()
    # The other member is untouched.
    kept = User.objects.get(pk=other.pk)
    assert (kept.phone, kept.display_name, kept.is_active) == (other.phone, "李静", True)
    assert Address.objects.filter(user=other).count() == 1

    # === She is logged out and can no longer log in, by phone or by username. ===
    member_page.goto("/accounts/privacy/")
    expect(member_page).to_have_url(re.compile(r"/accounts/login/\?next=/accounts/privacy/$"))
    for login in (member.phone, username):
        member_page.goto("/accounts/login/")
        member_page.fill("input[name=username]", login)
        member_page.fill("input[name=password]", DEFAULT_PASSWORD)
        with posted(member_page, "/accounts/login/") as response:
            submit(member_page)
        assert response.value.status == 401
        expect(member_page).to_have_url(at_path("/accounts/login/"))
        expect(member_page.locator(".form-errors")).to_have_text(
            zh("The phone number/username or password is not correct.")
        )
        expect(member_page.get_by_test_id("tab-me")).to_have_count(0)

    for name in (
        "privacy-page",
        "privacy-deletion-form",
        "privacy-requested",
        "privacy-queue",
        "privacy-request",
        "privacy-erased",
    ):
        assert (DOCS_IMG / f"{name}.png").stat().st_size > 0
