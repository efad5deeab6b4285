"""A visitor joins, edits her profile, logs out and back in; and what goes wrong on the way.

Text assertions go through `zh()`: the Chinese the page shows once the
zh-hans catalogue translates a string, the English msgid until then.
"""

import re

import pytest
from playwright.sync_api import expect

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

from .helpers import at_path, make_png, submit, zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "13812345678"
MASKED_PHONE = "138****5678"
PASSWORD = "Qiuyu-spring-2026"


def _fill_signup(page, *, phone, display_name="林小雨", city="杭州", password=PASSWORD):
    page.fill("input[name=phone]", phone)
    page.fill("input[name=display_name]", display_name)
    page.fill("input[name=city]", city)
    page.fill("input[name=password]", password)
    page.fill("input[name=password_again]", password)
    agree = page.locator("input[name=agree]")
    expect(page.locator('label[for="id_agree"]')).to_have_text(
        zh("I accept the community rules and the privacy policy")
    )
    agree.tap()
    expect(agree).to_be_checked()


def _post_response(page, path):
    return page.expect_response(lambda response: response.request.method == "POST" and response.url.endswith(path))


def test_join_edit_profile_log_out_and_log_back_in(page, media_root, tmp_path):
    # The home page, in Chinese for a phone asking for zh-CN.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    join = page.get_by_test_id("join")
    expect(join).to_have_text(zh("Join the community"))  # 加入社群
    join.tap()

    # Sign up. People type phone numbers with spaces; they are normalised.
    expect(page).to_have_url(at_path("/accounts/signup/"))
    expect(page.locator("h1")).to_have_text(zh("Join the community"))
    _fill_signup(page, phone="138 1234 5678")
    submit(page)

    # She lands on 我的 (Me), logged in, with her phone number masked.
    expect(page).to_have_url(at_path("/accounts/me/"))
    user = User.objects.get()
    assert user.phone == PHONE
    assert user.role_codes() == {roles.MEMBER}
    # The welcome message tells her the username she was given.
    welcome = page.locator(".message-success")
    expect(welcome).to_contain_text("林小雨")
    expect(welcome).to_contain_text(user.username)
    me_tab = page.get_by_test_id("tab-me")
    expect(me_tab).to_have_accessible_name(zh("Me"))  # 我的
    expect(me_tab).to_have_class(re.compile(r"\bis-active\b"))
    expect(page.get_by_test_id("tab-login")).to_have_count(0)
    expect(page.get_by_test_id("profile-name")).to_have_text("林小雨")
    expect(page.get_by_test_id("profile-handle")).to_have_text(f"@{user.username} · 杭州")
    expect(page.get_by_test_id("masked-phone")).to_have_text(MASKED_PHONE)
    expect(page.get_by_test_id("avatar")).to_have_count(0)
    expect(page.get_by_text(PHONE)).to_have_count(0)

    # Edit the profile: the form starts from the saved values.
    page.locator('a[href="/accounts/me/edit/"]').tap()
    expect(page).to_have_url(at_path("/accounts/me/edit/"))
    expect(page.locator("input[name=display_name]")).to_have_value("林小雨")
    expect(page.locator("input[name=city]")).to_have_value("杭州")
    page.fill("input[name=display_name]", "雨后小林")
    page.fill("textarea[name=bio]", "两个孩子的妈妈，喜欢简单好穿的衣服。")
    page.fill("input[name=city]", "上海")
    page.set_input_files("input[name=avatar]", make_png(tmp_path / "me.png"))
    submit(page)

    expect(page).to_have_url(at_path("/accounts/me/"))
    expect(page.locator(".message-success")).to_have_text(zh("Your profile is saved."))
    expect(page.get_by_test_id("profile-name")).to_have_text("雨后小林")
    expect(page.get_by_test_id("profile-handle")).to_have_text(f"@{user.username} · 上海")
    expect(page.get_by_test_id("profile-bio")).to_have_text("两个孩子的妈妈，喜欢简单好穿的衣服。")
    avatar = page.get_by_test_id("avatar")
    expect(avatar).to_be_visible()
    expect(avatar).to_have_attribute("src", re.compile(r"^/media/avatars/\d{4}/\d{2}/avatar-\d+\.png$"))
    # The picture really loads (re-encoded, same size) and is drawn as a 68 px circle.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=avatar.element_handle())
    assert avatar.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [96, 96]
    box = avatar.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (68, 68)
    user.refresh_from_db()
    assert (media_root / user.avatar.name).is_file()

    # Log out: the button posts a form, and she is back on the home page.
    logout = page.get_by_test_id("logout")
    expect(logout).to_have_text(zh("Log out"))
    logout.tap()
    expect(page).to_have_url(at_path("/"))
    expect(page.locator(".message-info")).to_have_text(zh("You have logged out."))
    expect(page.get_by_test_id("tab-me")).to_have_count(0)
    expect(page.get_by_test_id("join")).to_be_visible()

    # Log back in with the phone number and the password.
    page.get_by_test_id("tab-login").tap()
    expect(page).to_have_url(at_path("/accounts/login/"))
    page.fill("input[name=username]", PHONE)
    page.fill("input[name=password]", PASSWORD)
    submit(page)

    expect(page).to_have_url(at_path("/accounts/me/"))
    expect(page.get_by_test_id("profile-name")).to_have_text("雨后小林")
    expect(page.get_by_test_id("profile-handle")).to_have_text(f"@{user.username} · 上海")
    expect(page.get_by_test_id("masked-phone")).to_have_text(MASKED_PHONE)
    expect(page.get_by_test_id("avatar")).to_be_visible()


def test_joining_with_a_registered_phone_number_shows_the_error_on_that_field(page):
    UserFactory(phone=PHONE)

    page.goto("/accounts/signup/")
    _fill_signup(page, phone="138-1234-5678")
    with _post_response(page, "/accounts/signup/") as response:
        submit(page)
    assert response.value.status == 422

    expect(page).to_have_url(at_path("/accounts/signup/"))
    phone_field = page.locator(".field:has(input[name=phone])")
    expect(phone_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(phone_field.locator(".field-error")).to_have_text(
        zh("This phone number is already registered. Log in instead.")
    )
    expect(page.locator(".field-error")).to_have_count(1)
    # What she typed is kept, except the passwords.
    expect(page.locator("input[name=phone]")).to_have_value("138-1234-5678")
    expect(page.locator("input[name=display_name]")).to_have_value("林小雨")
    expect(page.locator("input[name=password]")).to_have_value("")
    expect(page.get_by_test_id("tab-login")).to_be_visible()
    assert User.objects.count() == 1


def test_a_wrong_password_shows_an_error_and_does_not_log_in(page):
    member = UserFactory(phone=PHONE, roles=[roles.MEMBER])

    page.goto("/accounts/login/")
    page.fill("input[name=username]", PHONE)
    page.fill("input[name=password]", DEFAULT_PASSWORD + "x")
    with _post_response(page, "/accounts/login/") as response:
        submit(page)
    assert response.value.status == 401

    expect(page).to_have_url(at_path("/accounts/login/"))
    expect(page.locator(".form-errors")).to_have_text(zh("The phone number/username or password is not correct."))
    expect(page.locator("input[name=username]")).to_have_value(PHONE)
    expect(page.locator("input[name=password]")).to_have_value("")
    expect(page.get_by_test_id("tab-me")).to_have_count(0)

    # Not logged in: her own page sends her to the login form.
    page.goto("/accounts/me/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/accounts/me/$"))
    expect(page.get_by_text(member.display_name)).to_have_count(0)


def test_the_language_switch_changes_the_interface_to_english_and_back(page):
    page.goto("/")
    html = page.locator("html")
    switch = page.get_by_test_id("lang-switch")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text(zh("Idle treasures, passed on with care"))
    expect(switch).to_have_text("English")
    # The brand is 二货 with its romanisation, not 二货 twice.
    brand = page.locator(".site-header .brand")
    expect(brand).to_have_text("二货Erhuo")

    switch.tap()
    expect(page).to_have_url(at_path("/"))
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Idle treasures, passed on with care")
    expect(page.get_by_test_id("hero-login")).to_have_text("Log in")
    expect(switch).to_have_text("中文")
    expect(brand).to_have_text("二货Erhuo")

    # The choice is remembered from page to page.
    page.get_by_test_id("tab-login").tap()
    expect(page).to_have_url(at_path("/accounts/login/"))
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Log in")

    # Switching back stays on the same page.
    page.get_by_test_id("lang-switch").tap()
    expect(page).to_have_url(at_path("/accounts/login/"))
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text(zh("Log in"))
    expect(page.get_by_test_id("lang-switch")).to_have_text("English")
