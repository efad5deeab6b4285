"""Phone-sized screenshots of the main pages for the documentation, in docs/img/.

Runs with every browser run and overwrites the images, so they follow the
templates, the stylesheet and the translations. Viewport-only and at CSS
pixel size (390x844) to keep the files small.
"""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from erhuo.accounts import roles, services
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, UserFactory

from .helpers import at_path, make_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def _shoot(page, name: str) -> None:
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(DOCS_IMG / name), scale="css", animations="disabled", caret="hide")


def test_screenshots_of_the_main_pages(page, login, tmp_path):
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    owner = UserFactory(roles=[roles.OWNER], display_name="周店长", city="上海")
    member = UserFactory(roles=[roles.MEMBER, roles.SELLER], display_name="林小雨", city="杭州", phone="13812345678")
    png = make_png(tmp_path / "avatar.png", size=160)
    services.user_profile_update(
        user=member,
        display_name=member.display_name,
        bio="两个孩子的妈妈，喜欢简单好穿的衣服。",
        city=member.city,
        avatar=SimpleUploadedFile("avatar.png", png.read_bytes(), content_type="image/png"),
    )
    AddressFactory(user=member)
    for name, city in [("陈晓梅", "苏州"), ("王佳怡", "南京"), ("赵敏", "北京"), ("刘芳", "成都")]:
        UserFactory(roles=[roles.MEMBER], display_name=name, city=city)
    UserFactory(roles=[roles.MEMBER, roles.INTAKE_CLERK], display_name="李师傅", city="上海")

    page.goto("/")
    expect(page.get_by_test_id("join")).to_be_visible()
    _shoot(page, "home.png")

    page.goto("/accounts/signup/")
    expect(page.locator("input[name=phone]")).to_be_visible()
    _shoot(page, "signup.png")

    page.goto("/accounts/login/")
    expect(page.locator("input[name=username]")).to_be_visible()
    _shoot(page, "login.png")

    login(member.phone, DEFAULT_PASSWORD)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=page.get_by_test_id("avatar").element_handle()
    )
    _shoot(page, "profile.png")

    page.context.clear_cookies()
    login(owner.phone, DEFAULT_PASSWORD)
    page.goto("/ops/")
    expect(page).to_have_url(at_path("/ops/"))
    _shoot(page, "operator-console.png")

    page.goto("/accounts/ops/members/")
    expect(page.locator(".member-list > li")).to_have_count(7)
    _shoot(page, "member-directory.png")

    for name in ("home", "signup", "profile", "login", "operator-console", "member-directory"):
        assert (DOCS_IMG / f"{name}.png").stat().st_size > 0
