"""Issue 4, done when: an expert application goes through review to "certified".

In the browser: a member applies with her portfolio; a community manager
opens the review queue, tries to approve with one written standard left
unmarked and then with one marked "not met" (both refused, nothing
changes), marks every standard met, chooses "certified" and approves; the
member sees her level, her rights and her referral link; anyone can read her
public expert profile. Only the users are made directly in the database.

The same run takes the phone-sized screenshots for the operator guide
(docs/img/experts-*.png), overwriting them.
"""

import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.accounts.tests.factories import UserFactory
from erhuo.experts.levels import Level, rights_of
from erhuo.experts.models import Expert, ExpertApplication, PortfolioPhoto, Specialty
from erhuo.experts.standards import STANDARDS

from .helpers import DOCS_IMG, at_path, log_in, posted, scroll_to, shoot, success, zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

A = ExpertApplication.Status

STYLE = "给忙碌妈妈的安静奢华：几只好包，线条简单，通勤接娃都合适。"
EXPERIENCE = (
    "做过八年奢侈品买手，经手的二手包超过六百只，熟悉 LV、Chanel、Hermès 的五金、走线和日期码。"
    "两个孩子的妈妈，平时帮社群里的妈妈们搭配童装，讲究面料安全和尺码留余量。"
)


def _outfit(path: Path, colour, accent) -> Path:
    """A 600 × 600 flat-lay: a top and a bag on a light background."""
    image = Image.new("RGB", (600, 600), (246, 240, 236))
    draw = ImageDraw.Draw(image)
    draw.polygon(
        [
            (150, 80),
            (290, 80),
            (380, 160),
            (340, 210),
            (310, 190),
            (310, 420),
            (130, 420),
            (130, 190),
            (100, 210),
            (60, 160),
        ],
        fill=colour,
    )
    draw.arc((390, 300, 530, 440), 180, 360, fill=(92, 58, 36), width=12)
    draw.polygon([(360, 370), (560, 370), (580, 540), (340, 540)], fill=accent)
    image.save(path, format="PNG")
    return path


def _standard(form, code: str):
    return form.locator(f'li[data-standard="{code}"]')


def _mark(form, code: str, value: str) -> None:
    form.locator(f'input[name="standard_{code}"][value="{value}"]').check()


def test_a_member_applies_and_is_certified_as_an_expert(open_page, tmp_path):
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    member = UserFactory(roles=[roles.MEMBER], display_name="苏苏穿搭", city="上海", phone="13866660101")
    manager = UserFactory(roles=[roles.COMMUNITY_MANAGER], display_name="运营刘芳", phone="13866660202")
    photos = [
        _outfit(tmp_path / "look-1.png", (240, 232, 214), (139, 94, 60)),
        _outfit(tmp_path / "look-2.png", (70, 80, 110), (30, 30, 30)),
        _outfit(tmp_path / "look-3.png", (200, 120, 130), (214, 178, 98)),
    ]
    codes = [standard.code for standard in STANDARDS]

    # === The member applies with her portfolio. ===
    member_page = open_page("member")
    log_in(member_page, member)
    member_page.goto("/experts/apply/")
    expect(member_page.locator("h1")).to_have_text(zh("Become an expert"))
    expect(member_page.get_by_test_id("application-status")).to_have_count(0)
    form = member_page.get_by_test_id("apply-form")
    form.locator("input[name=style_focus]").fill(STYLE)
    for specialty in (Specialty.LUXURY_BAGS, Specialty.KIDS_STYLING):
        form.locator(f'input[name=specialties][value="{specialty}"]').check()
    form.locator("textarea[name=experience]").fill(EXPERIENCE)
    form.locator("input[name=years_experience]").fill("8")
    form.locator("textarea[name=links]").fill("https://www.xiaohongshu.com/user/profile/susu")
    form.locator("input[name=photos]").set_input_files(photos)
    scroll_to(member_page, "[data-testid=apply-form]")
    shoot(member_page, "experts-apply.png")
    form.locator("button[type=submit]").tap()
    expect(member_page).to_have_url(at_path("/experts/apply/"))
    success(member_page, zh("Thank you! Your application is with our reviewers."))
    status = member_page.get_by_test_id("application-status")
    expect(status).to_have_attribute("data-status", A.SUBMITTED)
    expect(status.locator(".chip")).to_have_text(zh(A.SUBMITTED.label))
    expect(status.locator(".facts dd")).to_have_text(
        [STYLE, f"{zh(Specialty.LUXURY_BAGS.label)} · {zh(Specialty.KIDS_STYLING.label)}", "3"]
    )
    expect(member_page.get_by_test_id("apply-form")).to_have_count(0)
    shoot(member_page, "experts-apply-submitted.png")
    application = ExpertApplication.objects.get(applicant=member)
    assert (application.status, application.specialties, application.years_experience) == (
        A.SUBMITTED,
        [Specialty.LUXURY_BAGS, Specialty.KIDS_STYLING],
        8,
    )
    assert PortfolioPhoto.objects.filter(application=application).count() == 3

    # A member cannot open the review queue.
    assert member_page.goto("/ops/experts/applications/").status == 403

    # === The community manager reviews it against the written standards. ===
    manager_page = open_page("manager")
    log_in(manager_page, manager)
    manager_page.get_by_test_id("tab-ops").tap()
    expect(manager_page).to_have_url(at_path("/ops/"))
    manager_page.get_by_test_id("expert-applications-link").tap()
    expect(manager_page).to_have_url(at_path("/ops/experts/applications/"))
    rows = manager_page.get_by_test_id("application-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", str(application.pk))
    expect(rows.first.locator("td.num")).to_have_text("3")
    shoot(manager_page, "experts-queue.png")
    rows.first.locator("a").tap()
    expect(manager_page).to_have_url(at_path(f"/ops/experts/applications/{application.pk}/"))
    expect(manager_page.get_by_test_id("application-status")).to_have_text(zh(A.SUBMITTED.label))
    portfolio = manager_page.get_by_test_id("portfolio").locator("img")
    expect(portfolio).to_have_count(3)
    expect(manager_page.locator(".keep-lines")).to_have_text(EXPERIENCE)
    # Known problem, reported: the long link in "What she wrote" makes this page wider than a phone
    # (.facts dd needs min-width: 0 and overflow-wrap: anywhere). Drop `fits=False` once fixed.
    shoot(manager_page, "experts-review.png")

    # Approve with the last standard left unmarked: the browser refuses to send it and says why on that standard.
    decision = manager_page.get_by_test_id("decision-form")
    expect(decision.locator(".expert-checklist > li")).to_have_count(len(STANDARDS))
    for code in codes[:-1]:
        _mark(decision, code, "met")
    decision.locator("select[name=level]").select_option(Level.CERTIFIED)
    path = f"/ops/experts/applications/{application.pk}/"
    posts = []
    manager_page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    decision.get_by_test_id("approve").tap()
    unmarked = decision.locator(f'input[name="standard_{codes[-1]}"]').first
    message = unmarked.evaluate("input => input.validationMessage")
    assert message
    assert decision.evaluate("form => form.checkValidity()") is False
    manager_page.wait_for_timeout(300)
    assert posts == []
    expect(manager_page).to_have_url(at_path(path))
    application.refresh_from_db()
    assert application.status == A.SUBMITTED
    assert not Expert.objects.filter(user=member).exists()

    # Approve with that standard marked "not met": refused with the rule.
    _mark(decision, codes[-1], "not_met")
    with posted(manager_page, path) as response:
        decision.get_by_test_id("approve").tap()
    assert response.value.status == 422
    decision = manager_page.get_by_test_id("decision-form")
    expect(decision.locator(".form-errors")).to_have_text(
        zh("An application is approved only when every standard is met.")
    )
    expect(_standard(decision, codes[-1]).locator(".field-error")).to_have_text(zh("Not met."))
    scroll_to(manager_page, "[data-testid=decision-form]")
    shoot(manager_page, "experts-review-refused.png")
    application.refresh_from_db()
    assert application.status == A.SUBMITTED
    assert not Expert.objects.filter(user=member).exists()
    assert not User.objects.get(pk=member.pk).has_role(roles.EXPERT)

    # Every standard met, certified: approved.
    _mark(decision, codes[-1], "met")
    decision.locator("textarea[name=note]").fill("作品集风格统一，专业知识扎实，欢迎加入！")
    decision.get_by_test_id("approve").tap()
    expect(manager_page).to_have_url(at_path("/ops/experts/applications/"))
    success(manager_page, zh("Approved: the applicant is now an expert."))
    expect(manager_page.get_by_test_id("application-row")).to_have_count(0)

    application.refresh_from_db()
    expert = Expert.objects.get(user=member)
    assert (application.status, application.level, application.decided_by) == (A.APPROVED, Level.CERTIFIED, manager)
    assert application.checklist == {code: True for code in codes}
    assert (expert.level, expert.status) == (Level.CERTIFIED, Expert.Status.ACTIVE)
    assert User.objects.get(pk=member.pk).has_role(roles.EXPERT)

    # The decided application, for the record.
    manager_page.goto(f"/ops/experts/applications/{application.pk}/")
    decided = manager_page.get_by_test_id("decided")
    expect(decided.locator(".check-list li")).to_have_count(len(STANDARDS))
    expect(decided.locator(".check-list li.is-ok")).to_have_count(len(STANDARDS))

    # === The member sees her level, her rights and her referral link. ===
    member_page.goto("/experts/apply/")
    expect(member_page.get_by_test_id("application-status")).to_have_attribute("data-status", A.APPROVED)
    member_page.get_by_test_id("already-expert").locator("a").tap()
    expect(member_page).to_have_url(at_path("/experts/me/"))
    level = member_page.get_by_test_id("expert-level")
    expect(level).to_have_attribute("data-level", Level.CERTIFIED)
    expect(level).to_have_text(zh(Level.CERTIFIED.label))
    rights = [zh(label) for _code, label in rights_of(Level.CERTIFIED)]
    expect(member_page.get_by_test_id("expert-rights").locator("li")).to_have_text([f"✓ {r}" for r in rights])
    referral_url = member_page.get_by_test_id("referral-url")
    expect(referral_url).to_have_text(re.compile(rf"^https?://[^/]+/r/{expert.referral_code}/$"))
    expect(member_page.get_by_test_id("referral").locator("svg")).to_have_count(1)
    shoot(member_page, "experts-dashboard.png")
    scroll_to(member_page, "#rights-title")
    shoot(member_page, "experts-dashboard-rights.png")

    # === Anyone reads her public expert profile. ===
    visitor_page = open_page("visitor")
    response = visitor_page.goto(f"/experts/{member.username}/")
    assert response.status == 200
    expect(visitor_page.get_by_test_id("expert-name")).to_have_text(member.display_name)
    expect(visitor_page.get_by_test_id("expert-level")).to_have_text(zh(Level.CERTIFIED.label))
    expect(visitor_page.get_by_test_id("expert-specialties").locator("li")).to_have_text(
        [zh(Specialty.LUXURY_BAGS.label), zh(Specialty.KIDS_STYLING.label)]
    )
    expect(visitor_page.get_by_test_id("portfolio").locator("img")).to_have_count(3)
    expect(visitor_page.get_by_test_id("expert-rights").locator("li")).to_have_count(len(rights))
    html = visitor_page.content()
    assert member.phone not in html
    shoot(visitor_page, "experts-profile.png")

    # The referral link leads to her profile.
    visitor_page.goto(f"/r/{expert.referral_code}/")
    expect(visitor_page).to_have_url(at_path(f"/experts/{member.username}/"))

    for name in (
        "experts-apply",
        "experts-apply-submitted",
        "experts-queue",
        "experts-review",
        "experts-review-refused",
        "experts-dashboard",
        "experts-dashboard-rights",
        "experts-profile",
    ):
        assert (DOCS_IMG / f"{name}.png").stat().st_size > 0
