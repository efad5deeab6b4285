"""The public seller page and its API twin, and the page of the level rule: nothing personal, 404 for non-sellers."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Category, Item, ItemPhoto
from erhuo.trust.models import SellerLevel, SellerRecord, SellerVerification
from erhuo.trust.tests.factories import id_photo, make_verification, make_verified_seller

pytestmark = pytest.mark.django_db

V = SellerVerification.Status


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


def listed_item(seller, title="真丝连衣裙", status=Item.Status.LISTED, with_photo=True) -> Item:
    item = Item.objects.create(
        seller=seller,
        title=title,
        category=Category.objects.order_by("pk").first(),
        status=status,
        price_fen=12800,
        listed_at=timezone.now(),
    )
    if with_photo:
        photo = ItemPhoto(item=item, kind=ItemPhoto.Kind.FLAT, uploaded_by=seller)
        photo.image.save("flat.png", SimpleUploadedFile("flat.png", id_photo().read()), save=False)
        photo.thumbnail.save("thumb.png", SimpleUploadedFile("thumb.png", id_photo().read()), save=False)
        photo.save()
    return item


@pytest.fixture
def seller(db):
    seller = make_verified_seller(display_name="小雨的衣橱", username="xiaoyu")
    SellerRecord.objects.filter(user=seller).update(
        ratings_count=4, rating_total=19, orders_shipped=10, orders_shipped_on_time=9, orders_total=20, disputes_lost=1
    )
    return seller


def test_the_page_shows_the_badges_the_record_and_the_items_on_sale(client, seller):
    listed = listed_item(seller)
    listed_item(seller, title="已售出的包", status=Item.Status.SOLD)
    verification = SellerVerification.objects.get(user=seller)

    response = client.get("/sellers/xiaoyu/")

    assert response.status_code == 200
    text = response.text
    assert "小雨的衣橱" in text
    assert 'data-testid="verified-badge"' in text
    assert 'data-testid="level-badge">New seller<' in text
    assert '<span class="stat-value" data-testid="rating">4.8★</span>' in text
    assert '<span class="stat-value" data-testid="on-time">90%</span>' in text
    assert '<span class="stat-value" data-testid="disputes">5%</span>' in text
    assert f'href="/items/{listed.pk}/"' in text
    assert "真丝连衣裙" in text and "¥128.00" in text
    assert "已售出的包" not in text
    assert "/media/items/" in text  # the thumbnail
    # Nothing personal.
    for secret in (verification.real_name, verification.id_number, seller.phone, verification.alipay_account, "上海"):
        assert secret not in text


def test_a_trusted_seller_shows_her_level(client, seller):
    SellerRecord.objects.filter(user=seller).update(level=SellerLevel.TRUSTED)

    assert 'data-testid="level-badge">Trusted seller<' in client.get("/sellers/xiaoyu/").text


def test_a_seller_whose_verification_expired_is_shown_without_the_badge(client, db):
    seller = UserFactory(roles=[roles.MEMBER], username="former")
    make_verification(seller, status=V.EXPIRED)

    response = client.get("/sellers/former/")

    assert response.status_code == 200
    assert 'data-testid="verified-badge"' not in response.text
    assert 'data-testid="not-verified"' in response.text


def test_a_member_who_is_not_a_seller_has_no_page(client, member, other_member):
    make_verification(other_member, status=V.SUBMITTED)
    make_verification(UserFactory(username="rejected1"), status=V.REJECTED)

    assert client.get(f"/sellers/{member.username}/").status_code == 404
    assert client.get(f"/sellers/{other_member.username}/").status_code == 404
    assert client.get("/sellers/rejected1/").status_code == 404
    assert client.get("/sellers/nobody-here/").status_code == 404


def test_a_suspended_seller_has_no_page(client, seller):
    seller.is_active = False
    seller.save(update_fields=["is_active"])

    assert client.get("/sellers/xiaoyu/").status_code == 404


def test_the_page_reads_a_constant_number_of_queries(client, seller, django_assert_max_num_queries):
    for index in range(10):
        listed_item(seller, title=f"单品{index}")

    with django_assert_max_num_queries(8):
        response = client.get("/sellers/xiaoyu/")

    assert response.text.count('href="/items/') == 10


def test_the_api_gives_the_public_record_without_login(api_client, seller):
    listed = listed_item(seller)

    response = api_client.get("/api/v1/sellers/xiaoyu")

    assert response.status_code == 200
    body = response.json()
    thumbnail = body["items"][0].pop("thumbnail_url")
    assert thumbnail.startswith("http://testserver/media/items/thumbs/")
    assert body == {
        "username": "xiaoyu",
        "display_name": "小雨的衣橱",
        "avatar_url": None,
        "verified": True,
        "level": "new",
        "level_label": "New seller",
        "level_meaning": body["level_meaning"],
        "ratings_count": 4,
        "average_rating": 4.8,
        "on_time_percent": 90,
        "dispute_percent": 5,
        "items_sold": 0,
        "items": [{"id": listed.pk, "title": "真丝连衣裙", "price_fen": 12800}],
    }


def test_the_api_answers_404_for_a_non_seller(api_client, member):
    response = api_client.get(f"/api/v1/sellers/{member.username}")

    assert (response.status_code, response.json()["code"]) == (404, "seller_not_found")


def test_the_level_rule_page_lists_every_condition(client, db):
    response = client.get("/trust/levels/")

    assert response.status_code == 200
    assert 'data-testid="level-rule"' in response.text
    for text in ("at least 5", "at least 30", "at least 4.5★", "at least 4.8★", "at least 90 %", "at most 2 %"):
        assert text in response.text
