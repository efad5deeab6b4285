"""The experts pages: public directory, profile and standards; applying; the dashboard; the referral landing;
the reviewers' pages. A wrong role is refused and nothing changes."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from erhuo.experts import referrals, selectors, services
from erhuo.experts.models import Expert, ExpertApplication, ReferralAttribution
from erhuo.experts.standards import STANDARDS
from erhuo.experts.tests.factories import (
    EXPERIENCE,
    all_met,
    bad_upload,
    make_expert,
    make_member,
    make_reviewer,
    png_upload,
    snapshot,
    submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def as_user(user=None) -> Client:
    client = Client(headers={"accept-language": "en"})
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def reviewer(db):
    return make_reviewer()


@pytest.fixture
def finance(db):
    return UserFactory(roles=[roles.FINANCE])


def decision_post(**overrides) -> dict:
    data = {f"standard_{s.code}": "met" for s in STANDARDS}
    data.update({"level": "certified", "note": "", "decision": "approve"})
    data.update(overrides)
    return data


# --- public pages -------------------------------------------------------------------------


def test_the_directory_lists_active_experts_and_filters_by_specialty(reviewer):
    bags = make_expert(level="gold", reviewer=reviewer, specialties=["luxury_bags"])
    kids = make_expert(level="trainee", reviewer=reviewer, specialties=["kids_styling", "baby_goods"])
    gone = make_expert(reviewer=reviewer, specialties=["luxury_bags"])
    services.expert_status_change(expert_id=gone.pk, actor=reviewer, to="suspended", note="违规")

    page = as_user().get(reverse("experts:directory"))
    assert page.status_code == 200
    assert re.findall(r'data-username="([^"]+)"', page.content.decode()) == [bags.user.username, kids.user.username]

    filtered = as_user().get(reverse("experts:directory"), {"specialty": "kids_styling"})
    assert re.findall(r'data-username="([^"]+)"', filtered.content.decode()) == [kids.user.username]
    unknown = as_user().get(reverse("experts:directory"), {"specialty": "astrology"})
    assert len(re.findall(r'data-username="', unknown.content.decode())) == 2


def test_the_directory_query_count_does_not_grow_with_experts(reviewer, django_assert_max_num_queries):
    for _index in range(2):
        make_expert(reviewer=reviewer)
    client = as_user()
    # A count for the paginator and one query for the page of experts with their members.
    with django_assert_max_num_queries(2):
        client.get(reverse("experts:directory"))
    for _index in range(6):
        make_expert(reviewer=reviewer)
    with django_assert_max_num_queries(2):
        response = client.get(reverse("experts:directory"))
    assert len(re.findall(r'data-testid="expert-card"', response.content.decode())) == 8


def test_the_profile_shows_portfolio_level_rights_and_referral_link_but_no_personal_data(reviewer):
    expert = make_expert(level="trainee", reviewer=reviewer)
    response = as_user().get(reverse("experts:profile", args=[expert.user.username]))
    html = response.content.decode()
    assert response.status_code == 200
    assert expert.user.display_name in html
    assert 'data-level="trainee"' in html
    assert html.count('data-right="') == 2
    assert len(re.findall(r'<img src="[^"]+thumb-', html)) == 3
    assert f"http://testserver/r/{expert.referral_code}/" in html
    assert "<svg" in html
    user = User.objects.get(pk=expert.user_id)
    assert user.phone not in html
    assert user.masked_phone not in html


def test_the_profile_query_count(reviewer, django_assert_max_num_queries):
    expert = make_expert(reviewer=reviewer)
    # The expert with her member and application, her portfolio photos, the policy,
    # + the market's slot: the sales attributed to her (their buyer shows are read only when there are some).
    with django_assert_max_num_queries(4):
        response = as_user().get(reverse("experts:profile", args=[expert.user.username]))
    assert response.status_code == 200


def test_the_dashboard_query_count_does_not_grow_with_commissions(reviewer, django_assert_max_num_queries):
    expert = make_expert(reviewer=reviewer)
    seller = make_member()
    for index in range(6):
        buyer = make_member()
        services.referral_visit(code=expert.referral_code, visitor=buyer)
        services.commission_accrue(sale_reference=f"order:{index}", buyer=buyer, seller=seller, sale_amount_fen=10_000)
    client = as_user(expert.user)
    # (1 of them is the header's unread notices)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("experts:dashboard"))
    assert len(re.findall(r"<code>order:", response.content.decode())) == 6


def test_a_member_or_suspended_expert_has_no_public_profile(member, reviewer):
    expert = make_expert(reviewer=reviewer)
    services.expert_status_change(expert_id=expert.pk, actor=reviewer, to="suspended", note="违规")
    assert as_user().get(reverse("experts:profile", args=[member.username])).status_code == 404
    assert as_user().get(reverse("experts:profile", args=[expert.user.username])).status_code == 404


def test_the_standards_page_is_public_and_complete():
    response = as_user().get(reverse("experts:standards"))
    html = response.content.decode()
    assert response.status_code == 200
    for standard in STANDARDS:
        assert f'data-standard="{standard.code}"' in html
        assert escape(str(standard.title)) in html
    assert "Lead a community group" in html
    assert re.search(r'data-testid="share-gold">.*?6% of the sale price', html, re.S)
    assert re.search(r'data-testid="share-trainee">.*?2% of the sale price', html, re.S)


# --- applying ---------------------------------------------------------------------------------


def test_applying_needs_a_login():
    response = as_user().get(reverse("experts:apply"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def apply_form(**overrides) -> dict:
    data = {
        "style_focus": "童装搭配，舒适安全",
        "specialties": ["kids_styling", "baby_goods"],
        "experience": EXPERIENCE,
        "years_experience": "6",
        "links": "https://example.com/me\n",
        "photos": [png_upload("a.png"), png_upload("b.png"), png_upload("c.png")],
    }
    data.update(overrides)
    return data


def test_a_member_applies_through_the_page(member):
    client = as_user(member)
    assert 'data-testid="apply-form"' in client.get(reverse("experts:apply")).content.decode()

    response = client.post(reverse("experts:apply"), apply_form())

    assert response.status_code == 302
    application = ExpertApplication.objects.get(applicant=member)
    assert (application.status, application.specialties, application.links) == (
        "submitted",
        ["kids_styling", "baby_goods"],
        ["https://example.com/me"],
    )
    assert application.photos.count() == 3
    page = client.get(reverse("experts:apply")).content.decode()
    assert 'data-status="submitted"' in page
    assert 'data-testid="withdraw"' in page
    assert 'data-testid="apply-form"' not in page


def test_a_bad_photo_is_refused_on_the_page_with_nothing_written(member):
    before = snapshot()
    response = as_user(member).post(
        reverse("experts:apply"), apply_form(photos=[png_upload("a.png"), png_upload("b.png"), bad_upload()])
    )
    assert response.status_code == 422
    assert "Not a JPEG, PNG or WebP image." in response.content.decode()
    assert snapshot() == before


def test_too_few_photos_are_refused_on_the_page(member):
    before = snapshot()
    response = as_user(member).post(reverse("experts:apply"), apply_form(photos=[png_upload()]))
    assert response.status_code == 422
    assert "A portfolio has 3 to 12 photos; you sent 1." in response.content.decode()
    assert snapshot() == before


def test_the_applicant_reads_the_reason_of_a_rejection_and_may_apply_again(member, reviewer):
    application = submit(member)
    services.application_decide(
        application_id=application.pk, actor=reviewer, approve=False, checklist=all_met(), note="作品集风格不统一"
    )
    page = as_user(member).get(reverse("experts:apply")).content.decode()
    assert 'data-status="rejected"' in page
    assert re.search(r'data-testid="rejection-reason">作品集风格不统一<', page)
    assert 'data-testid="apply-form"' in page


def test_the_applicant_withdraws_through_the_page(member):
    application = submit(member)
    response = as_user(member).post(reverse("experts:withdraw", args=[application.pk]))
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "withdrawn"


def test_another_members_application_cannot_be_withdrawn(member, other_member):
    application = submit(member)
    before = snapshot()
    response = as_user(other_member).post(reverse("experts:withdraw", args=[application.pk]))
    assert response.status_code == 404
    assert snapshot() == before


def test_a_member_never_sees_another_members_application(member, other_member):
    submit(member, style_focus="只属于我的风格描述")
    page = as_user(other_member).get(reverse("experts:apply")).content.decode()
    assert "只属于我的风格描述" not in page
    assert 'data-testid="application-status"' not in page


# --- the expert's dashboard ---------------------------------------------------------------------


def test_a_member_without_a_profile_is_sent_to_apply(member):
    response = as_user(member).get(reverse("experts:dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("experts:apply")


def test_the_dashboard_shows_level_rights_link_buyers_commissions_and_payable(reviewer):
    expert = make_expert(level="gold", reviewer=reviewer)
    buyer, seller = make_member(), make_member()
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    services.commission_accrue(sale_reference="order:77", buyer=buyer, seller=seller, sale_amount_fen=25_000)

    html = as_user(expert.user).get(reverse("experts:dashboard")).content.decode()

    assert 'data-level="gold"' in html
    assert html.count('data-right="') == 4
    assert re.search(r'data-testid="attributed-buyers">1<', html)
    assert re.search(r'data-testid="payable">¥15.00<', html)
    assert re.search(r'data-testid="earned">¥15.00<', html)
    assert "order:77" in html
    assert f"/r/{expert.referral_code}/" in html


def test_an_expert_edits_her_profile_on_the_dashboard(reviewer):
    expert = make_expert(reviewer=reviewer)
    response = as_user(expert.user).post(
        reverse("experts:profile_update"), {"bio": "新的简介", "specialties": ["care"]}
    )
    assert response.status_code == 302
    expert.refresh_from_db()
    assert (expert.bio, expert.specialties) == ("新的简介", ["care"])


# --- the referral landing -------------------------------------------------------------------------


def test_a_visit_is_remembered_and_attributed_when_the_visitor_logs_in(reviewer):
    expert = make_expert(reviewer=reviewer)
    buyer = make_member()
    client = as_user()
    # Given an anonymous visit through the link
    response = client.get(reverse("experts:referral", args=[expert.referral_code]))
    assert response.status_code == 302
    assert response["Location"] == reverse("experts:profile", args=[expert.user.username])
    assert referrals.COOKIE_NAME in response.cookies
    assert response.cookies[referrals.COOKIE_NAME]["max-age"] == 30 * 24 * 3600
    assert not ReferralAttribution.objects.exists()
    # When she logs in
    client.post(reverse("accounts:login"), {"username": buyer.username, "password": DEFAULT_PASSWORD})
    # Then she is attributed to the expert from the time of her visit
    attribution = ReferralAttribution.objects.get()
    assert (attribution.buyer_id, attribution.expert_id, attribution.source) == (buyer.pk, expert.pk, "link")
    assert referrals.SESSION_KEY not in client.session


def test_the_signed_cookie_alone_attributes_a_later_login(reviewer):
    expert = make_expert(reviewer=reviewer)
    buyer = make_member()
    client = as_user()
    client.get(reverse("experts:referral", args=[expert.referral_code]))
    # A new session (the browser was closed), the cookie remains
    cookie = client.cookies[referrals.COOKIE_NAME].value
    fresh = as_user()
    fresh.cookies[referrals.COOKIE_NAME] = cookie
    fresh.post(reverse("accounts:login"), {"username": buyer.username, "password": DEFAULT_PASSWORD})
    assert ReferralAttribution.objects.get().buyer_id == buyer.pk


def test_a_forged_cookie_counts_for_nothing(reviewer):
    expert = make_expert(reviewer=reviewer)
    buyer = make_member()
    client = as_user()
    client.cookies[referrals.COOKIE_NAME] = f"{expert.referral_code}:{int(timezone.now().timestamp())}"
    client.post(reverse("accounts:login"), {"username": buyer.username, "password": DEFAULT_PASSWORD})
    assert not ReferralAttribution.objects.exists()


def test_a_logged_in_visitor_is_attributed_at_once(reviewer, member):
    expert = make_expert(reviewer=reviewer)
    as_user(member).get(reverse("experts:referral", args=[expert.referral_code]))
    assert selectors.live_attribution(buyer=member).expert == expert


def test_the_landing_follows_a_safe_local_next_only(reviewer):
    expert = make_expert(reviewer=reviewer)
    url = reverse("experts:referral", args=[expert.referral_code])
    assert as_user().get(url, {"next": "/items/12/"})["Location"] == "/items/12/"
    profile = reverse("experts:profile", args=[expert.user.username])
    assert as_user().get(url, {"next": "https://evil.example/"})["Location"] == profile
    assert as_user().get(url, {"next": "//evil.example/"})["Location"] == profile


def test_an_unknown_code_is_404():
    assert as_user().get(reverse("experts:referral", args=["nosuchcd"])).status_code == 404


def test_a_visit_before_the_window_is_not_attributed_at_login(reviewer):
    expert = make_expert(reviewer=reviewer)
    buyer = make_member()
    client = as_user()
    session = client.session
    old = timezone.now() - timedelta(days=31)
    session[referrals.SESSION_KEY] = {"code": expert.referral_code, "at": int(old.timestamp())}
    session.save()
    client.post(reverse("accounts:login"), {"username": buyer.username, "password": DEFAULT_PASSWORD})
    assert not ReferralAttribution.objects.exists()


# --- reviewers ------------------------------------------------------------------------------------


REVIEW_PAGES = ["experts:ops_applications", "experts:ops_experts"]


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE, roles.EXPERT])
def test_wrong_roles_cannot_open_the_review_pages(role, member):
    application = submit(member)
    client = as_user(UserFactory(roles=[role]))
    for name in REVIEW_PAGES:
        assert client.get(reverse(name)).status_code == 403
    assert client.get(reverse("experts:ops_application", args=[application.pk])).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(member):
    response = as_user().get(reverse("experts:ops_applications"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE])
def test_wrong_roles_cannot_decide_and_nothing_changes(role, member):
    application = submit(member)
    before = snapshot()
    response = as_user(UserFactory(roles=[role])).post(
        reverse("experts:ops_application", args=[application.pk]), decision_post()
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_the_queue_lists_open_applications_oldest_first(reviewer):
    first, second = submit(), submit()
    decided = submit()
    services.application_decide(application_id=decided.pk, actor=reviewer, approve=False, checklist=all_met(), note="x")
    html = as_user(reviewer).get(reverse("experts:ops_applications")).content.decode()
    assert re.findall(r'data-testid="application-row" data-id="(\d+)"', html) == [str(first.pk), str(second.pk)]
    everything = as_user(reviewer).get(reverse("experts:ops_applications"), {"status": "all"}).content.decode()
    assert len(re.findall(r'data-testid="application-row"', everything)) == 3


def test_the_review_page_shows_the_portfolio_and_every_standard(reviewer, member):
    application = submit(member)
    html = as_user(reviewer).get(reverse("experts:ops_application", args=[application.pk])).content.decode()
    assert len(re.findall(r'<img src="[^"]+thumb-', html)) == 3
    for standard in STANDARDS:
        assert f'data-standard="{standard.code}"' in html
    # No standard is preselected: the reviewer must mark each one
    assert " checked" not in html.split('data-testid="decision-form"')[1].split("</ol>")[0]


def test_a_reviewer_approves_through_the_page(reviewer, member):
    application = submit(member)
    response = as_user(reviewer).post(
        reverse("experts:ops_application", args=[application.pk]), decision_post(level="certified")
    )
    assert response.status_code == 302
    expert = Expert.objects.get(user=member)
    assert expert.level == "certified"
    assert User.objects.get(pk=member.pk).has_role(roles.EXPERT)


def test_an_unmarked_standard_is_refused_with_nothing_changed(reviewer, member):
    application = submit(member)
    data = decision_post()
    del data["standard_experience"]
    before = snapshot()
    response = as_user(reviewer).post(reverse("experts:ops_application", args=[application.pk]), data)
    assert response.status_code == 422
    assert snapshot() == before


def test_approving_with_a_standard_not_met_is_refused_on_the_page(reviewer, member):
    application = submit(member)
    before = snapshot()
    response = as_user(reviewer).post(
        reverse("experts:ops_application", args=[application.pk]), decision_post(standard_experience="not_met")
    )
    assert response.status_code == 422
    assert "An application is approved only when every standard is met." in response.content.decode()
    assert snapshot() == before


def test_rejecting_needs_the_reason_on_the_page(reviewer, member):
    application = submit(member)
    before = snapshot()
    response = as_user(reviewer).post(
        reverse("experts:ops_application", args=[application.pk]), decision_post(decision="reject", note="")
    )
    assert response.status_code == 422
    assert snapshot() == before
    response = as_user(reviewer).post(
        reverse("experts:ops_application", args=[application.pk]),
        decision_post(decision="reject", note="照片不清楚", standard_clear_own_photos="not_met"),
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.decision_note) == ("rejected", "照片不清楚")


def test_a_reviewer_changes_a_level_on_the_experts_page(reviewer):
    expert = make_expert(level="trainee", reviewer=reviewer)
    html = as_user(reviewer).get(reverse("experts:ops_experts")).content.decode()
    assert f'data-id="{expert.pk}"' in html
    response = as_user(reviewer).post(
        reverse("experts:ops_expert_level", args=[expert.pk]),
        {f"e{expert.pk}-level": "gold", f"e{expert.pk}-note": "带群优秀"},
    )
    assert response.status_code == 302
    expert.refresh_from_db()
    assert expert.level == "gold"


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE])
def test_wrong_roles_cannot_change_levels_or_status(role, reviewer):
    expert = make_expert(level="trainee", reviewer=reviewer)
    client = as_user(UserFactory(roles=[role]))
    before = snapshot()
    level = client.post(
        reverse("experts:ops_expert_level", args=[expert.pk]),
        {f"e{expert.pk}-level": "gold", f"e{expert.pk}-note": "x"},
    )
    status = client.post(
        reverse("experts:ops_expert_status", args=[expert.pk]),
        {f"s{expert.pk}-to": "suspended", f"s{expert.pk}-note": "x"},
    )
    assert (level.status_code, status.status_code) == (403, 403)
    assert snapshot() == before


def test_a_level_change_without_a_reason_is_refused_on_the_page(reviewer):
    expert = make_expert(level="trainee", reviewer=reviewer)
    before = snapshot()
    response = as_user(reviewer).post(
        reverse("experts:ops_expert_level", args=[expert.pk]), {f"e{expert.pk}-level": "gold", f"e{expert.pk}-note": ""}
    )
    assert response.status_code == 422
    assert snapshot() == before


def test_the_console_links_the_tools_for_reviewers_only(reviewer, intake_clerk):
    tools = reverse("experts:ops_applications")
    assert tools in as_user(reviewer).get(reverse("web:operator_console")).content.decode()
    assert tools not in as_user(intake_clerk).get(reverse("web:operator_console")).content.decode()
