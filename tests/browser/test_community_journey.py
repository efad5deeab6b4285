"""Issue 6, done when: a newcomer joins through an invite and lands in the right group, sees what is dropped
there, a leader runs her group, an operator improves a mixed group, and a giveaway's draw can be re-checked.

Each person in a phone browser of her own:
a leader schedules a drop of a community-only item (社群款) into her group,
right away, and a micro-class for next week from her group's admin; a
newcomer opens a community invite link, signs up, answers the
questionnaire, lands in 母婴·0-3岁 1群 and finds the item in the group's
feed and opens it, while a member of no group gets 404 for it; the operator
opens the placement page, reads the old WeChat group's purity (mixed),
computes the moves, approves them all and sees the purity go up; the leader
starts a giveaway, the newcomer enters it, it closes, the leader draws and
the verification page re-checks the seed, the entrants and the winner in the
browser. Only the users, the tags, segments and groups, the listed item and
the old group's members are made directly (services and factories); the
giveaway's end is moved to the past to stand for the hour it runs.

The same run takes the screenshots for the operator guide (docs/img/community-*.png).
Text assertions go through `zh()`.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from erhuo.community.models import Activity, Group, ProposedMove
from erhuo.community.services import groups as group_services
from erhuo.community.tests import factories
from erhuo.trust.tests.factories import make_verified_seller

from .helpers import DOCS_IMG, at_path, log_in, shoot, submit, zh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEM_TITLE = "社群款 Stokke 成长椅 白色"
DROP_TITLE = "周五晚 8 点 社群专享"
CLASS_TITLE = "宝宝衣服怎么挑"
GIVEAWAY_TITLE = "新群福利 抽绘本"
MUMS_GROUP = "母婴·0-3岁 1群"
OLD_GROUP = "二货妈妈 老群"


@pytest.fixture
def catalog(catalog_reference_data):
    """The seeded categories and brands (see the root conftest)."""


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _community(operator, leader):
    """The taxonomy, two segments with their first groups, a community invite and the old mixed group."""
    group_services.taxonomy_seed()
    mums = group_services.segment_create(
        actor=operator, name="母婴·0-3岁", slug="mums-0-3", rule={"all": ["kids-0-3"]}, capacity=40
    )
    women = group_services.segment_create(
        actor=operator, name="女装·轻奢", slug="women-premium", rule={"all": ["womenswear"], "any": ["premium"]}
    )
    bags = group_services.segment_create(
        actor=operator, name="包袋·轻奢", slug="bags-premium", rule={"all": ["bags"], "any": ["luxury"]}
    )
    mums_group = group_services.group_create(actor=operator, leader=leader, segment=mums)
    women_group = group_services.group_create(actor=operator, leader=operator, segment=women)
    bags_group = group_services.group_create(actor=operator, leader=operator, segment=bags)
    for group, codes in ((mums_group, ("baby", "kids-0-3")), (women_group, ("womenswear", "premium"))):
        for _index in range(3):
            factories.tagged(factories.member_of(group).user, *codes)
    factories.tagged(factories.member_of(bags_group).user, "bags", "luxury")
    invite = group_services.invite_create(actor=operator, label="小红书主页")
    # The old WeChat group: people joined in order of arrival, whatever they like.
    legacy = group_services.segment_create(actor=operator, name="老群迁移", slug="legacy", rule={})
    old = group_services.group_create(actor=operator, leader=operator, segment=legacy, name=OLD_GROUP)
    interests = (
        ("baby", "kids-0-3", "budget"),
        ("womenswear", "premium", "french"),
        ("bags", "luxury", "minimal"),
        ("home", "beauty", "midrange"),
    )
    for index in range(12):
        factories.tagged(factories.member_of(old).user, *interests[index % len(interests)])
    # Closed to newcomers: its members came before the questionnaire.
    group_services.segment_update(actor=operator, segment_id=legacy.pk, active=False)
    return mums_group, invite, old


def test_a_newcomer_lands_in_her_group_a_leader_runs_it_an_operator_moves_members_a_draw_is_rechecked(
    open_page, catalog
):
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    operator = UserFactory(roles=[roles.COMMUNITY_MANAGER], display_name="社群运营 小周", phone="13877780101")
    leader = UserFactory(roles=[roles.MEMBER], display_name="刘姐", phone="13877780202")
    outsider = UserFactory(roles=[roles.MEMBER], display_name="王佳怡", phone="13877780303")
    speaker = UserFactory(roles=[roles.MEMBER, roles.EXPERT], display_name="沈薇", phone="13877780606")
    seller = make_verified_seller(display_name="林晓雨", city="杭州", phone="13877780404")
    group, invite, old = _community(operator, leader)
    item = factories.item_on_sale(
        seller=seller, title=ITEM_TITLE, category_slug="baby", price_fen=68_000, channel="community"
    )

    # The leader schedules a drop (now) and a micro-class from her group's admin.
    lead = open_page("leader")
    log_in(lead, leader)
    lead.goto(f"/groups/{group.pk}/admin/")
    expect(lead.get_by_test_id("group-size")).to_have_text("4/40")
    shoot(lead, "community-group-admin.png")
    lead.goto(f"/groups/{group.pk}/admin/drops/new/?q=Stokke")
    row = lead.locator(f"[data-testid=item-row][data-item='{item.pk}']")
    row.locator("input[name=items]").check()
    groups_box = lead.locator(f"[data-testid=group-row][data-group='{group.pk}'] input[name=groups]")
    if not groups_box.is_checked():
        groups_box.check()
    lead.fill("input[name=title]", DROP_TITLE)
    shoot(lead, "community-drop-new.png")
    lead.get_by_test_id("drop-submit").tap()
    expect(lead.locator(".message-success")).to_be_visible()
    assert item.drops.get().status == "live"

    lead.goto(f"/groups/{group.pk}/admin/classes/new/")
    lead.fill("input[name=title]", CLASS_TITLE)
    lead.fill("input[name=topic]", "童装")
    lead.fill("input[name=speaker]", speaker.username)
    lead.fill("input[name=starts_at]", _local(timezone.now() + timedelta(days=7)))
    lead.fill("input[name=duration_minutes]", "45")
    lead.locator("[data-testid=class-form] button[type=submit]").tap()
    expect(lead.locator(".message-success")).to_be_visible()
    assert group.classes.get().title == CLASS_TITLE

    # The newcomer: the invite link, sign up, the questionnaire, her group.
    newcomer_page = open_page("newcomer")
    newcomer_page.goto(f"/join/{invite.code}/")
    expect(newcomer_page.get_by_test_id("invite-landing")).to_be_visible()
    newcomer_page.get_by_test_id("invite-signup").tap()
    newcomer_page.fill("input[name=phone]", "13877780505")
    newcomer_page.fill("input[name=display_name]", "陈美玲")
    newcomer_page.fill("input[name=city]", "上海")
    newcomer_page.fill("input[name=password]", DEFAULT_PASSWORD)
    newcomer_page.fill("input[name=password_again]", DEFAULT_PASSWORD)
    newcomer_page.locator("input[name=agree]").check()
    submit(newcomer_page)
    expect(newcomer_page).to_have_url(at_path(f"/join/{invite.code}/"))
    form = newcomer_page.get_by_test_id("questionnaire")
    form.locator("input[name=categories][value=baby]").check()
    form.locator("input[name=categories][value=kidswear]").check()
    form.locator("input[name=children_ages]").fill("1")
    form.locator("input[name=budget][value=midrange]").check()
    form.locator("input[name=city][value=shanghai]").check()
    shoot(newcomer_page, "community-questionnaire.png")
    expect(newcomer_page.get_by_test_id("questionnaire-submit")).to_have_text(zh("Find my group"))
    newcomer_page.get_by_test_id("questionnaire-submit").tap()
    expect(newcomer_page.get_by_test_id("placed-name")).to_have_text(MUMS_GROUP)
    shoot(newcomer_page, "community-placed.png")
    expect(newcomer_page.get_by_test_id("open-group")).to_have_text(zh("Open my group"))
    newcomer_page.get_by_test_id("open-group").tap()
    expect(newcomer_page).to_have_url(at_path(f"/groups/{group.pk}/"))
    feed = newcomer_page.get_by_test_id("group-feed")
    expect(feed).to_contain_text(ITEM_TITLE)
    shoot(newcomer_page, "community-group.png")
    newcomer_page.goto(f"/items/{item.pk}/")
    expect(newcomer_page.locator("h1")).to_contain_text(ITEM_TITLE)

    # A member of no group cannot open a community-only item.
    other = open_page("outsider")
    log_in(other, outsider)
    response = other.goto(f"/items/{item.pk}/")
    assert response.status == 404

    # The operator: the old group's purity, the moves, approved, the purity up.
    ops = open_page("operator")
    log_in(ops, operator)
    ops.goto("/ops/community/placement/")
    card = ops.locator(f"[data-testid=group][data-group='{old.pk}']")
    expect(card.get_by_test_id("mixed")).to_be_visible()
    before = int(card.get_by_test_id("purity").inner_text().rstrip("%"))
    ops.get_by_test_id("compute").tap()
    card = ops.locator(f"[data-testid=group][data-group='{old.pk}']")
    expect(card.get_by_test_id("move").first).to_be_visible()
    proposed = ProposedMove.objects.filter(from_group=old, status=ProposedMove.Status.PROPOSED).count()
    assert proposed >= 3
    card.scroll_into_view_if_needed()
    ops.evaluate(
        "id => window.scrollTo(0, document.getElementById(id).getBoundingClientRect().top + scrollY"
        " - document.querySelector('.site-header').offsetHeight - 8)",
        f"group-{old.pk}",
    )
    shoot(ops, "community-placement.png")
    ops.get_by_test_id("approve-all").tap()
    card = ops.locator(f"[data-testid=group][data-group='{old.pk}']")
    expect(card.locator("[data-testid=move][data-status=approved]")).to_have_count(proposed)
    after = int(card.get_by_test_id("purity").inner_text().rstrip("%"))
    assert after > before, (before, after)
    old.refresh_from_db()
    assert old.member_count == 13 - proposed

    # A giveaway: the leader starts it, the newcomer enters, it closes, the leader draws, anyone re-checks.
    lead.goto(f"/groups/{group.pk}/admin/activities/new/")
    lead.locator("input[name=kind][value=giveaway]").check()
    lead.fill("input[name=title]", GIVEAWAY_TITLE)
    lead.fill("input[name=starts_at]", _local(timezone.now()))
    lead.fill("input[name=ends_at]", _local(timezone.now() + timedelta(hours=1)))
    lead.fill("input[name=prize]", "《好饿的毛毛虫》精装绘本")
    lead.fill("input[name=winners_count]", "1")
    lead.get_by_test_id("activity-submit").tap()
    expect(lead.get_by_test_id("activity-banner")).to_contain_text(GIVEAWAY_TITLE)
    giveaway = Activity.objects.get(title=GIVEAWAY_TITLE)
    newcomer_page.goto(f"/activities/{giveaway.pk}/")
    newcomer_page.get_by_test_id("enter-button").tap()
    expect(newcomer_page.get_by_test_id("entered")).to_be_visible()
    # The hour it runs passes.
    Activity.objects.filter(pk=giveaway.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    lead.goto(f"/activities/{giveaway.pk}/")
    expect(lead.get_by_test_id("draw-button")).to_have_text(zh("Draw the winners now"))
    lead.get_by_test_id("draw-button").tap()
    newcomer = User.objects.get(display_name="陈美玲")
    # Winners are shown masked, with their member number (the entrants list is of numbers).
    expect(lead.get_by_test_id("verify-winners")).to_contain_text(f"#{newcomer.pk}")
    newcomer_page.goto(f"/activities/{giveaway.pk}/verify/")
    for check in ("entrants", "seed", "winners"):
        expect(newcomer_page.locator(f"[data-check={check}]")).to_have_attribute("data-state", "ok")
    for check in ("server-committed", "server-entrants", "server-seed", "server-winners"):
        expect(newcomer_page.get_by_test_id(check)).to_have_attribute("data-state", "ok")
    expect(newcomer_page.get_by_test_id("verify-winners")).to_contain_text(f"#{newcomer.pk}")
    shoot(newcomer_page, "community-draw-verify.png")
    moved_in = ProposedMove.objects.filter(to_group=group, status=ProposedMove.Status.APPROVED).count()
    assert Group.objects.get(pk=group.pk).member_count == 4 + 1 + moved_in
