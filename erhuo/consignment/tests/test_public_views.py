"""The public item page and the public authentication report.

Items are driven through the real services (factories.drive_to). Pages are
read by an anonymous visitor unless a test says otherwise.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import CareStep, Item, ItemPhoto
from erhuo.community.services import drops as drop_services
from erhuo.community.tests import factories as community
from erhuo.consignment import services
from erhuo.consignment.models import AuthenticationReport
from erhuo.consignment.tests.factories import drive_to, make_seller, photo, submit_item
from erhuo.core import states
from erhuo.core.money import format_fen

pytestmark = pytest.mark.django_db
S = Item.Status

CHECKS = [
    {"point": "五金刻字", "finding": "字体清晰，深浅一致", "ok": True},
    {"point": "内标编码", "finding": "格式与年份一致", "ok": True},
]


def zh(message) -> str:
    """What a Chinese visitor reads for a UI string (its msgid until it is translated)."""
    with translation.override("zh-hans"):
        return str(translation.gettext(message))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def seller(db):
    return make_seller(display_name="Cici的衣橱", phone="13912345678")


def item_url(item) -> str:
    return reverse("consignment:item_public", args=[item.pk])


def report_url(item) -> str:
    return reverse("consignment:authentication_report", args=[item.pk])


def listed_dress(seller, ops) -> Item:
    item = submit_item(
        seller,
        "womens-dresses",
        title="Maje 碎花雪纺连衣裙",
        brand="Maje",
        size="36",
        colour="蓝底碎花",
        original_price_fen=259_000,
        declared_value_fen=80_000,
    )
    return drive_to(item, S.LISTED, ops)


def listed_luxury_bag(seller, ops) -> Item:
    item = submit_item(
        seller, "luxury-bags", title="LV Neverfull MM 老花托特包", brand="Louis Vuitton", declared_value_fen=900_000
    )
    drive_to(item, S.GRADED, ops)
    services.item_authenticate(
        item_id=item.pk,
        actor=ops.authenticator,
        passed=True,
        checks=CHECKS,
        notes="各项特征与正品一致。",
        photos=[photo(ItemPhoto.Kind.AUTHENTICATION), photo(ItemPhoto.Kind.AUTHENTICATION)],
    )
    return drive_to(item, S.LISTED, ops)


# --- the item page -------------------------------------------------------


@pytest.mark.parametrize("status", [S.SUBMITTED, S.ACCEPTED, S.RECEIVED, S.GRADED, S.CARED, S.PHOTOGRAPHED, S.PRICED])
def test_an_item_still_in_the_pipeline_has_no_public_page(client, seller, ops, status):
    item = drive_to(submit_item(seller, "womens-dresses"), status, ops)

    response = client.get(item_url(item))

    assert response.status_code == 404


def test_a_rejected_item_has_no_public_page(client, seller, ops):
    item = submit_item(seller, "womens-dresses")
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=False, reason="condition")

    assert client.get(item_url(item)).status_code == 404


def test_an_unknown_item_is_404(client):
    assert client.get(reverse("consignment:item_public", args=[999_999])).status_code == 404


def test_a_listed_item_shows_its_price_and_public_photos_but_nothing_private_of_the_seller(client, seller, ops):
    item = listed_dress(seller, ops)
    public = {p.image.url for p in item.photos.filter(kind__in=ItemPhoto.PUBLIC_KINDS)}
    private = {p.image.url for p in item.photos.exclude(kind__in=ItemPhoto.PUBLIC_KINDS)}

    response = client.get(item_url(item))

    assert response.status_code == 200
    html = response.content.decode()
    assert item.price_fen > 0
    assert format_fen(item.price_fen) in html
    assert "Maje 碎花雪纺连衣裙" in html
    assert {p.kind for p in item.photos.filter(kind__in=ItemPhoto.PUBLIC_KINDS)} == {"flat", "on_body"}
    assert all(url in html for url in public)
    assert private and not any(url in html for url in private)  # the seller's own photos stay private
    assert 'data-kind="seller"' not in html
    assert "Cici的衣橱" in html
    assert "13912345678" not in html
    assert "139****5678" not in html
    # Her public handle appears only in the link to her public seller page
    assert html.count(seller.username) == 1
    assert f'href="/sellers/{seller.username}/"' in html


def test_a_listed_item_shows_its_grade_and_its_guarantees(client, seller, ops):
    item = listed_dress(seller, ops)

    response = client.get(item_url(item))

    html = response.content.decode()
    assert 'data-testid="grade"' in html
    assert zh("A · Excellent, faint signs of use (95新)") in html
    # Authentication is not needed for a dress declared at ¥800; the care steps of its category are listed.
    assert zh("Authentication is not required for this category and value.") in html
    assert 'data-testid="report-link"' not in html
    with translation.override("zh-hans"):
        assert str(CareStep.STEAM.label) in html
    assert zh("Marked down") not in html


def test_a_listed_baby_toy_shows_that_it_was_disinfected(client, seller, ops):
    item = drive_to(submit_item(seller, "baby-toys", title="费雪 健身架 婴儿脚踏钢琴"), S.LISTED, ops)

    html = client.get(item_url(item)).content.decode()

    with translation.override("zh-hans"):
        assert str(CareStep.DISINFECT.label) in html
        assert str(CareStep.INSPECT_CLEAN.label) in html


def test_an_authenticated_item_links_to_its_report(client, seller, ops):
    item = listed_luxury_bag(seller, ops)

    html = client.get(item_url(item)).content.decode()

    assert f'href="{report_url(item)}"' in html
    assert zh("Authentication is not required for this category and value.") not in html


def test_the_report_of_a_community_only_item_exists_only_for_the_groups_it_was_dropped_into(seller, ops):
    item = listed_luxury_bag(seller, ops)
    services.item_channel_set(item_id=item.pk, actor=ops.pricer, channel=Item.Channel.COMMUNITY)
    leader = UserFactory(roles=[roles.MEMBER, roles.EXPERT])
    group = community.group(leader=leader, name="包袋·轻奢 1群")
    insider = community.member_of(group).user
    outsider = community.member_of(community.group(name="母婴 1群")).user
    drop_services.drop_create(actor=leader, item_ids=[item.pk], group_ids=[group.pk])

    def status_for(user) -> int:
        reader = Client()
        if user is not None:
            reader.force_login(user)
        return reader.get(report_url(item)).status_code

    assert {"insider": status_for(insider), "seller": status_for(seller)} == {"insider": 200, "seller": 200}
    assert {"outsider": status_for(outsider), "anonymous": status_for(None)} == {"outsider": 404, "anonymous": 404}


def test_markdowns_from_the_chain_of_custody_are_shown(client, seller, ops):
    item = listed_dress(seller, ops)
    listed_price = item.price_fen
    Item.objects.filter(pk=item.pk).update(listed_at=timezone.now() - timedelta(days=15))
    assert services.unsold_items_settle()["marked_down"] == 1
    item.refresh_from_db()

    html = client.get(item_url(item)).content.decode()

    assert item.price_fen < listed_price
    assert zh("Marked down") in html
    assert format_fen(listed_price) in html
    assert format_fen(item.price_fen) in html


@pytest.mark.parametrize("status", [S.RESERVED, S.SOLD])
def test_a_reserved_or_sold_item_stays_public_with_its_state(client, seller, ops, member, status):
    item = listed_dress(seller, ops)
    states.transition(item, to=S.RESERVED, actor=member)
    if status == S.SOLD:
        states.transition(item, to=S.SOLD, actor=member)

    response = client.get(item_url(item))

    assert response.status_code == 200
    assert 'data-testid="sale-state"' in response.content.decode()


def test_a_packed_item_is_no_longer_public(client, seller, ops, member):
    item = listed_dress(seller, ops)
    for step in (S.RESERVED, S.SOLD, S.PACKED):
        states.transition(item, to=step, actor=member)

    assert client.get(item_url(item)).status_code == 404


def test_a_self_ship_item_shows_its_sellers_photos(client, seller, ops):
    item = submit_item(seller, "womens-dresses", fulfilment=Item.Fulfilment.SELF_SHIP, declared_value_fen=12_000)
    item = drive_to(item, S.LISTED, ops)
    seller_photo = item.photos.get(kind=ItemPhoto.Kind.SELLER)

    html = client.get(item_url(item)).content.decode()

    assert seller_photo.image.url in html
    assert zh("This item stays with its seller until it sells; she cleans and ships it herself.") in html


def test_the_item_page_reads_a_fixed_number_of_queries(client, seller, ops, django_assert_max_num_queries):
    item = listed_luxury_bag(seller, ops)
    Item.objects.filter(pk=item.pk).update(listed_at=timezone.now() - timedelta(days=30))
    services.unsold_items_settle()

    # Item (with category, brand, seller, consignment, report) + photos + care records + listing steps,
    # + what the market adds in its slots: the queue's length and the item's buyer shows.
    with django_assert_max_num_queries(6):
        response = client.get(item_url(item))
    assert response.status_code == 200


def test_the_item_page_only_answers_get(client, seller, ops):
    item = listed_dress(seller, ops)

    assert client.post(item_url(item)).status_code == 405


# --- the authentication report -------------------------------------------


def test_the_report_shows_what_was_checked_and_the_role_not_the_name(client, seller, ops):
    item = listed_luxury_bag(seller, ops)
    ops.authenticator.display_name = "鉴定师·老陈"
    ops.authenticator.save(update_fields=["display_name"])
    evidence = list(item.photos.filter(kind=ItemPhoto.Kind.AUTHENTICATION))

    response = client.get(report_url(item))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"J-{ops.authenticator.pk}" in html
    assert "鉴定师·老陈" not in html
    assert ops.authenticator.username not in html
    assert "LV Neverfull MM 老花托特包" in html
    assert "五金刻字" in html and "字体清晰，深浅一致" in html
    assert "各项特征与正品一致。" in html
    assert zh("Result: authentic") in html
    assert len(evidence) == 2
    assert all(photo.image.url in html for photo in evidence)
    assert "Cici的衣橱" not in html


def test_an_item_without_a_report_has_no_report_page(client, seller, ops):
    item = listed_dress(seller, ops)

    assert client.get(report_url(item)).status_code == 404


def test_a_failed_report_is_hidden_from_the_public_and_from_its_seller_but_shown_to_staff(client, seller, ops, member):
    item = drive_to(submit_item(seller, "luxury-bags", declared_value_fen=900_000), S.GRADED, ops)
    services.item_authenticate(
        item_id=item.pk,
        actor=ops.authenticator,
        passed=False,
        checks=[{"point": "五金刻字", "finding": "字体偏粗", "ok": False}],
        photos=[photo(ItemPhoto.Kind.AUTHENTICATION)],
    )
    assert AuthenticationReport.objects.get(item=item).result == AuthenticationReport.Result.FAIL

    assert client.get(report_url(item)).status_code == 404
    client.force_login(member)
    assert client.get(report_url(item)).status_code == 404
    client.force_login(seller)
    assert client.get(report_url(item)).status_code == 404
    client.force_login(ops.clerk)
    response = client.get(report_url(item))
    assert response.status_code == 200
    assert zh("Result: not authentic") in response.content.decode()


def test_a_passing_report_before_listing_is_for_the_seller_and_staff_only(client, seller, ops, member):
    item = drive_to(submit_item(seller, "luxury-bags", declared_value_fen=900_000), S.AUTHENTICATED, ops)
    assert item.status == S.AUTHENTICATED

    assert client.get(report_url(item)).status_code == 404
    client.force_login(member)
    assert client.get(report_url(item)).status_code == 404
    client.force_login(seller)
    assert client.get(report_url(item)).status_code == 200
    client.force_login(ops.photographer)
    assert client.get(report_url(item)).status_code == 200


def test_a_report_stays_public_after_its_item_is_sold_and_shipped(client, seller, ops, member):
    item = listed_luxury_bag(seller, ops)
    for step in (S.RESERVED, S.SOLD, S.PACKED, S.SHIPPED):
        states.transition(item, to=step, actor=member)

    assert client.get(item_url(item)).status_code == 404
    assert client.get(report_url(item)).status_code == 200


def test_the_report_page_reads_a_fixed_number_of_queries(client, seller, ops, django_assert_max_num_queries):
    item = listed_luxury_bag(seller, ops)

    # The report (with its item, category path and brand) + the evidence photos.
    with django_assert_max_num_queries(2):
        response = client.get(report_url(item))
    assert response.status_code == 200
