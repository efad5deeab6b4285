"""Buyer shows (买家秀) through the services: after delivery, once per line, 1–5 stars into the seller's
record, featured or hidden by the operators who may, and hidden ones never listed.
"""

import pytest
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core import events
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.market import selectors, services
from erhuo.market.models import BuyerShow, BuyerShowPhoto
from erhuo.market.tests.factories import buyer, listed_item
from erhuo.market.tests.test_orders import SHIPPING, delivered_order, paid_order
from erhuo.trust.models import SellerRecord
from erhuo.trust.tests.factories import id_photo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _market_settings(settings):
    settings.ERHUO_PAYMENT_PROVIDERS = ["manual", "sandbox"]
    settings.ERHUO_CLAIM_PAYMENT_MINUTES = 30
    settings.ERHUO_SHIPPING_FEE_FEN = SHIPPING
    with translation.override("en"):
        yield


@pytest.fixture
def warehouse(db):
    return UserFactory(roles=[roles.INTAKE_CLERK])


@pytest.fixture
def seller(db):
    return UserFactory(roles=[roles.SELLER])


@pytest.fixture
def captured():
    seen = []

    def handler(event):
        seen.append((event.name, event.payload))

    for name in ("buyer_show_posted", "buyer_show_featured"):
        events.on(name)(handler)
    yield seen
    for name in ("buyer_show_posted", "buyer_show_featured"):
        events.unregister(name, handler)


def show_state() -> dict:
    return {
        "shows": list(
            BuyerShow.objects.order_by("pk").values_list("pk", "stars", "hidden", "hidden_reason", "featured_at")
        ),
        "photos": BuyerShowPhoto.objects.count(),
        "records": list(SellerRecord.objects.order_by("pk").values_list("user_id", "ratings_count", "rating_total")),
    }


def post(order, *, stars=5, text="很好看，和描述一致", photos=(), line=None):
    line = line or order.lines.order_by("pk").first()
    return services.buyer_show_create(line_id=line.pk, buyer=order.buyer, stars=stars, text=text, photos=photos)


# --- posting ---------------------------------------------------------------------------------------


def test_after_delivery_the_buyer_posts_a_show_and_the_stars_reach_the_seller(
    warehouse, seller, captured, django_capture_on_commit_callbacks
):
    member = buyer()
    item = listed_item(seller=seller)
    order = delivered_order(member, item, warehouse=warehouse)

    with django_capture_on_commit_callbacks(execute=True):
        show = post(order, stars=4, text="  面料很舒服  ", photos=[id_photo("look.png")])

    assert (show.buyer_id, show.item_id, show.seller_id, show.stars, show.text, show.hidden) == (
        member.pk,
        item.pk,
        seller.pk,
        4,
        "面料很舒服",
        False,
    )
    photo = BuyerShowPhoto.objects.get(show=show)
    assert (photo.width, photo.height) == (32, 20)
    assert photo.image.storage.exists(photo.image.name)
    assert photo.thumbnail.storage.exists(photo.thumbnail.name)
    record = SellerRecord.objects.get(user=seller)
    assert (record.ratings_count, record.rating_total) == (1, 4)
    assert captured == [("buyer_show_posted", {"show_id": show.pk, "item_id": item.pk, "seller_id": seller.pk})]
    assert [s.pk for s in selectors.shows_for_item(item.pk)] == [show.pk]
    assert [s.pk for s in selectors.shows_for_seller(seller.pk)] == [show.pk]
    # Nothing left to review for her.
    assert not selectors.show_candidates_for(member).exists()


def test_ratings_add_up_in_the_sellers_record(warehouse, seller):
    for stars in (5, 3, 1):
        post(delivered_order(buyer(), listed_item(seller=seller), warehouse=warehouse), stars=stars)

    record = SellerRecord.objects.get(user=seller)
    assert (record.ratings_count, record.rating_total) == (3, 9)


def test_a_completed_order_may_be_reviewed_too(warehouse):
    member = buyer()
    order = delivered_order(member, listed_item(), warehouse=warehouse)
    services.order_confirm(order_id=order.pk, buyer=member)

    assert post(order).stars == 5


def test_no_show_before_delivery():
    member = buyer()
    order = paid_order(member, listed_item())
    before = show_state()

    with pytest.raises(Conflict) as refused:
        post(order)

    assert (refused.value.code, refused.value.message) == (
        "not_delivered",
        "You can post a buyer show once your order is delivered.",
    )
    assert show_state() == before


def test_one_show_per_line(warehouse, seller):
    order = delivered_order(buyer(), listed_item(seller=seller), warehouse=warehouse)
    post(order, stars=5)
    before = show_state()

    with pytest.raises(Conflict) as refused:
        post(order, stars=1, text="改主意了")

    assert refused.value.code == "show_exists"
    assert show_state() == before
    assert SellerRecord.objects.get(user=seller).ratings_count == 1


@pytest.mark.parametrize("stars", [0, 6, -1, True, "5", 4.5, None])
def test_stars_are_one_to_five(warehouse, stars):
    order = delivered_order(buyer(), listed_item(), warehouse=warehouse)
    before = show_state()

    with pytest.raises(ValidationFailed) as refused:
        post(order, stars=stars)

    assert refused.value.code == "show_invalid"
    assert refused.value.fields == {"stars": ["1 to 5 stars."]}
    assert show_state() == before


@pytest.mark.parametrize("stars", [1, 5])
def test_one_and_five_stars_are_accepted(warehouse, stars):
    assert post(delivered_order(buyer(), listed_item(), warehouse=warehouse), stars=stars).stars == stars


def test_too_long_a_text_or_too_many_photos_is_refused(warehouse):
    order = delivered_order(buyer(), listed_item(), warehouse=warehouse)
    before = show_state()

    with pytest.raises(ValidationFailed) as refused:
        post(order, text="好" * 1001, photos=[id_photo(f"{n}.png") for n in range(10)])

    assert set(refused.value.fields) == {"text", "photos"}
    assert show_state() == before


def test_only_the_buyer_posts_on_her_line(warehouse, seller):
    order = delivered_order(buyer(), listed_item(seller=seller), warehouse=warehouse)
    before = show_state()

    for someone in (buyer(), seller):
        with pytest.raises(NotFound) as refused:
            services.buyer_show_create(line_id=order.lines.get().pk, buyer=someone, stars=1, text="差评")
        assert refused.value.code == "line_not_found"

    assert show_state() == before


# --- moderation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.COMMUNITY_MANAGER, roles.CUSTOMER_SERVICE])
def test_an_operator_features_a_show_into_the_groups(warehouse, captured, django_capture_on_commit_callbacks, role):
    order = delivered_order(buyer(), listed_item(), warehouse=warehouse)
    show = post(order)
    operator = UserFactory(roles=[role])

    with django_capture_on_commit_callbacks(execute=True):
        services.buyer_show_feature(show_id=show.pk, actor=operator)

    show.refresh_from_db()
    assert show.featured_at is not None and show.featured_by_id == operator.pk
    assert ("buyer_show_featured", {"show_id": show.pk, "item_id": show.item_id}) in captured
    assert [s.pk for s in selectors.featured_shows()] == [show.pk]

    services.buyer_show_feature(show_id=show.pk, actor=operator, featured=False)

    show.refresh_from_db()
    assert (show.featured_at, show.featured_by_id) == (None, None)
    assert selectors.featured_shows() == []


@pytest.mark.parametrize("who", ["buyer", "seller", "member", "warehouse", "finance", "nobody"])
def test_others_may_neither_feature_nor_hide(warehouse, seller, who):
    member = buyer()
    order = delivered_order(member, listed_item(seller=seller), warehouse=warehouse)
    show = post(order)
    actor = {
        "buyer": member,
        "seller": seller,
        "member": buyer(),
        "warehouse": warehouse,
        "finance": UserFactory(roles=[roles.FINANCE]),
        "nobody": None,
    }[who]
    before = show_state()

    with pytest.raises(PermissionRefused) as feature:
        services.buyer_show_feature(show_id=show.pk, actor=actor)
    with pytest.raises(PermissionRefused) as hide:
        services.buyer_show_hide(show_id=show.pk, actor=actor, reason="不喜欢")

    assert (feature.value.code, hide.value.code) == ("moderate_denied", "moderate_denied")
    assert show_state() == before


def test_a_hidden_show_is_listed_nowhere_and_cannot_be_featured(warehouse, seller):
    from erhuo.experts import services as expert_services
    from erhuo.experts.tests.factories import make_expert

    expert = make_expert()
    member = buyer()
    expert_services.referral_visit(code=expert.referral_code, visitor=member)
    item = listed_item(seller=seller)
    order = delivered_order(member, item, warehouse=warehouse)
    services.order_confirm(order_id=order.pk, buyer=member)  # the sale earns the expert her commission
    show = post(order)
    other = post(delivered_order(buyer(), listed_item(seller=seller, title="另一件"), warehouse=warehouse))
    moderator = UserFactory(roles=[roles.COMMUNITY_MANAGER])
    services.buyer_show_feature(show_id=show.pk, actor=moderator)
    assert [s.pk for s in selectors.shows_for_expert(expert.user_id)] == [show.pk]

    with pytest.raises(ValidationFailed) as no_reason:
        services.buyer_show_hide(show_id=show.pk, actor=moderator, reason=" ")
    assert no_reason.value.code == "reason_required"
    services.buyer_show_hide(show_id=show.pk, actor=moderator, reason="照片含个人信息")

    show.refresh_from_db()
    assert (show.hidden, show.hidden_reason, show.featured_at, show.featured_by_id) == (
        True,
        "照片含个人信息",
        None,
        None,
    )
    assert selectors.shows_for_item(item.pk) == []
    assert [s.pk for s in selectors.shows_for_seller(seller.pk)] == [other.pk]
    assert selectors.shows_for_expert(expert.user_id) == []
    assert selectors.featured_shows() == []
    before = show_state()
    with pytest.raises(Conflict) as refused:
        services.buyer_show_feature(show_id=show.pk, actor=moderator)
    assert refused.value.code == "show_hidden"
    assert show_state() == before
    # Its stars still count: hiding is about what is shown, not about the rating.
    assert SellerRecord.objects.get(user=seller).ratings_count == 2


def test_a_missing_show_is_not_found():
    moderator = UserFactory(roles=[roles.COMMUNITY_MANAGER])

    with pytest.raises(NotFound):
        services.buyer_show_feature(show_id=999, actor=moderator)
    with pytest.raises(NotFound):
        services.buyer_show_hide(show_id=999, actor=moderator, reason="x")
