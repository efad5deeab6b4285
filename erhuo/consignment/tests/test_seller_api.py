"""The seller's consignment API: reference data, a multipart batch with photos, following and answering."""

import json

import pytest
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts import services as account_services
from erhuo.catalog.models import Category, Grade, Item, ItemPhoto, ItemTransition
from erhuo.consignment import selectors, services
from erhuo.consignment.models import Consignment, IntakeBatch, RejectionReason
from erhuo.consignment.tests.factories import (
    bad_upload,
    drive_to,
    media_files,
    png_upload,
    snapshot,
    submit_item,
)

pytestmark = pytest.mark.django_db

S = Item.Status
API = "/api/v1/consignment"


def _bearer(user) -> dict:
    _row, raw = account_services.api_token_issue(user=user, name="test")
    return {"Authorization": f"Bearer {raw}"}


def _item(**overrides) -> dict:
    values = {
        "title": "羊毛大衣",
        "category_id": Category.objects.get(slug="womens-coats").pk,
        "declared_value_fen": 68_000,
        "original_price_fen": 240_000,
        "purchase_year": 2022,
        "declared_grade": Grade.A,
        "size": "M",
        "colour": "驼色",
    }
    values.update(overrides)
    return values


def _submit(client, user, items, photos: dict[str, list], note: str = ""):
    data = {"items": items if isinstance(items, str) else json.dumps(items), "note": note, **photos}
    return client.post(f"{API}/batches", data, headers=_bearer(user))


def _nothing_created() -> tuple:
    return (
        IntakeBatch.objects.count(),
        Item.objects.count(),
        ItemPhoto.objects.count(),
        ItemTransition.objects.count(),
        media_files(),
    )


# --- reference data ---------------------------------------------------------------


def test_categories_with_their_rules_are_public(client):
    response = client.get(f"{API}/categories")

    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()}
    toys = rows[Category.objects.get(slug="baby-toys").pk]
    assert toys == {
        "id": toys["id"],
        "name": "玩具",
        "parent_id": Category.objects.get(slug="baby").pk,
        "authentication": "never",
        "authentication_threshold_fen": None,
        "care_steps": ["spot_clean", "disinfect"],
        "returnable": True,
        "return_window_days": 7,
        "needs_on_body_photo": False,
        "self_ship_max_fen": 0,  # baby toys are always disinfected in the warehouse
    }
    luxury_bags = rows[Category.objects.get(slug="luxury-bags").pk]
    assert (luxury_bags["authentication"], luxury_bags["self_ship_max_fen"]) == ("always", 0)
    diapers = rows[Category.objects.get(slug="baby-diapers").pk]
    assert (diapers["returnable"], diapers["self_ship_max_fen"]) == (False, 30_000)
    shoes = rows[Category.objects.get(slug="shoes").pk]
    assert shoes["self_ship_max_fen"] == 0  # disinfected
    scarves = rows[Category.objects.get(slug="accessories-scarves").pk]
    assert scarves["self_ship_max_fen"] == 20_000


def test_brands_are_public(client):
    response = client.get(f"{API}/brands")

    assert response.status_code == 200
    chanel = next(row for row in response.json() if row["name"] == "Chanel")
    assert (chanel["name_zh"], chanel["tier"]) == ("香奈儿", "luxury")


# --- submitting -----------------------------------------------------------------


def test_submit_a_batch_with_photos(client, seller):
    response = _submit(
        client,
        seller,
        [_item(), _item(title="童装连体衣", category_id=Category.objects.get(slug="baby-clothes").pk)],
        {"photos_0": [png_upload("a.png"), png_upload("b.png")], "photos_1": [png_upload("c.png")]},
        note="周末寄出",
    )

    assert response.status_code == 201
    body = response.json()
    batch = IntakeBatch.objects.get()
    items = list(Item.objects.order_by("pk"))
    assert body["id"] == batch.pk
    assert body["code"] == batch.code
    assert (body["status"], body["note"], body["ship_to"]) == (IntakeBatch.Status.SUBMITTED, "周末寄出", None)
    assert [(row["id"], row["title"], row["status"]) for row in body["items"]] == [
        (items[0].pk, "羊毛大衣", S.SUBMITTED),
        (items[1].pk, "童装连体衣", S.SUBMITTED),
    ]
    assert items[0].consignment.declared_value_fen == 68_000
    assert [p.kind for p in items[0].photos.all()] == [ItemPhoto.Kind.SELLER, ItemPhoto.Kind.SELLER]
    assert items[1].photos.count() == 1
    assert [(t.from_state, t.to_state, t.actor_id) for t in ItemTransition.objects.order_by("pk")] == [
        ("", S.SUBMITTED, seller.pk),
        ("", S.SUBMITTED, seller.pk),
    ]
    assert len(media_files()) == 6


def test_malformed_items_json_is_422_and_creates_nothing(client, seller):
    response = _submit(client, seller, "[{not json", {"photos_0": [png_upload()]})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["errors"]) == ["items"]
    assert _nothing_created() == (0, 0, 0, 0, [])


def test_items_that_are_not_a_list_are_refused(client, seller):
    response = _submit(client, seller, json.dumps({"title": "x"}), {"photos_0": [png_upload()]})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert _nothing_created() == (0, 0, 0, 0, [])


def test_field_problems_are_reported_per_item(client, seller):
    response = _submit(
        client,
        seller,
        [_item(), _item(title="长" * 81, declared_value_fen="many")],
        {"photos_0": [png_upload()], "photos_1": [png_upload()]},
    )

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert sorted(body["errors"]) == ["items.1.declared_value_fen", "items.1.title"]
    assert _nothing_created() == (0, 0, 0, 0, [])


def test_a_service_rule_is_reported_on_its_item(client, seller):
    response = _submit(client, seller, [_item(), _item(title="")], {"photos_0": [png_upload()]})

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert sorted(errors) == ["items.1.photos", "items.1.title"]
    assert _nothing_created() == (0, 0, 0, 0, [])


def test_a_bad_image_is_422_and_leaves_no_rows_and_no_files(client, seller):
    response = _submit(
        client,
        seller,
        [_item(), _item(title="第二件")],
        {"photos_0": [png_upload()], "photos_1": [png_upload(), bad_upload()]},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "image_invalid"
    assert list(response.json()["errors"]) == ["items.1.photos"]
    assert _nothing_created() == (0, 0, 0, 0, [])


def test_photos_for_an_unknown_item_index_are_refused(client, seller):
    response = _submit(client, seller, [_item()], {"photos_0": [png_upload()], "photos_1": [png_upload()]})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["photos_1"]
    assert _nothing_created() == (0, 0, 0, 0, [])


def test_a_member_without_the_seller_role_is_refused_and_nothing_is_created(client, member):
    response = _submit(client, member, [_item()], {"photos_0": [png_upload()]})

    assert response.status_code == 403
    assert response.json()["code"] == "not_a_seller"
    assert _nothing_created() == (0, 0, 0, 0, [])


def test_the_api_needs_authentication(client):
    response = client.get(f"{API}/items")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- batches ----------------------------------------------------------------------


def test_my_batches_only(client, seller, other_seller):
    mine = submit_item(seller, "womens-tops", title="我的")
    submit_item(other_seller, "womens-tops", title="别人的")

    response = client.get(f"{API}/batches", headers=_bearer(seller))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [row["code"] for row in body["items"]] == [mine.consignment.batch.code]
    assert [item["title"] for item in body["items"][0]["items"]] == ["我的"]


def test_a_screened_batch_says_where_to_ship(client, seller, ops):
    item = submit_item(seller, "womens-tops")
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)

    response = client.get(f"{API}/batches/{item.consignment.batch_id}", headers=_bearer(seller))

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["ship_to"]) == (
        IntakeBatch.Status.SCREENED,
        selectors.WAREHOUSE_ADDRESS,
    )


def test_mark_shipped_moves_accepted_items_to_in_transit(client, seller, ops):
    item = submit_item(seller, "womens-tops")
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)
    batch_id = item.consignment.batch_id

    response = client.post(
        f"{API}/batches/{batch_id}/shipped",
        {"carrier": "顺丰速运", "tracking_number": "SF1234567890"},
        content_type="application/json",
        headers=_bearer(seller),
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["carrier"], body["tracking_number"]) == (
        IntakeBatch.Status.SHIPPED,
        "顺丰速运",
        "SF1234567890",
    )
    assert [row["status"] for row in body["items"]] == [S.IN_TRANSIT]
    item.refresh_from_db()
    assert item.status == S.IN_TRANSIT


def test_mark_shipped_with_a_too_long_tracking_number_is_422(client, seller, ops):
    item = submit_item(seller, "womens-tops")
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)
    before = snapshot(item)

    response = client.post(
        f"{API}/batches/{item.consignment.batch_id}/shipped",
        {"carrier": "顺丰速运", "tracking_number": "9" * 41},
        content_type="application/json",
        headers=_bearer(seller),
    )

    assert response.status_code == 422
    assert snapshot(item) == before


# --- items --------------------------------------------------------------------------


def test_my_items_with_a_status_filter(client, seller, other_seller, ops):
    waiting = submit_item(seller, "womens-tops", title="待审")
    accepted = submit_item(seller, "womens-tops", title="已收")
    services.item_prescreen(item_id=accepted.pk, actor=ops.clerk, accept=True)
    submit_item(other_seller, "womens-tops", title="别人的")
    headers = _bearer(seller)

    everything = client.get(f"{API}/items", headers=headers).json()
    submitted = client.get(f"{API}/items", {"status": S.SUBMITTED}, headers=headers).json()
    unknown = client.get(f"{API}/items", {"status": "nonsense"}, headers=headers)

    assert [row["title"] for row in everything["items"]] == ["已收", "待审"]
    assert [row["id"] for row in submitted["items"]] == [waiting.pk]
    row = submitted["items"][0]
    assert (row["clock"]["station"], row["clock"]["target_hours"], row["clock"]["is_late"]) == ("prescreen", 24, False)
    assert row["thumbnail_url"].startswith("http://testserver/media/items/thumbs/")
    assert unknown.status_code == 422


def test_item_detail_has_facts_consignment_and_clock(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops", original_price_fen=100_000), S.PRICED, ops)
    consignment = Consignment.objects.get(item=item)

    response = client.get(f"{API}/items/{item.pk}", headers=_bearer(seller))

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["batch_code"], body["label_code"]) == (
        S.PRICED,
        consignment.batch.code,
        consignment.label_code,
    )
    assert body["consignment"]["suggested_price_fen"] == consignment.suggested_price_fen
    assert body["consignment"]["price_reasons"] == consignment.price_reasons
    assert body["consignment"]["price_decision"] == Consignment.PriceDecision.PENDING
    assert body["clock"] is None  # waiting for the seller, not at a station
    assert {photo["kind"] for photo in body["photos"]} == {"seller", "flat", "on_body"}


def test_chain_of_custody_shows_roles_not_names(client, seller, ops):
    item = submit_item(seller, "womens-tops")
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=False, reason=RejectionReason.SEASON)

    response = client.get(f"{API}/items/{item.pk}/chain", headers=_bearer(seller))

    assert response.status_code == 200
    steps = response.json()
    with translation.override("zh-hans"):
        clerk, you = str(roles.ROLES[roles.INTAKE_CLERK].label), translation.gettext("You")
        reason = str(RejectionReason.SEASON.label)
    assert [(s["from"], s["to"], s["by"], s["by_role"], s["reason_label"]) for s in steps] == [
        ("", S.SUBMITTED, "you", you, ""),
        (S.SUBMITTED, S.REJECTED, "staff", clerk, reason),
    ]
    assert len(steps[0]["photos"]) == 1 and steps[0]["photos"][0]["kind"] == "seller"
    assert ops.clerk.display_name not in response.content.decode()


def test_another_seller_gets_404_and_cannot_answer_my_price(client, seller, other_seller, ops):
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    before = snapshot(item)
    headers = _bearer(other_seller)

    responses = [
        client.get(f"{API}/items/{item.pk}", headers=headers),
        client.get(f"{API}/items/{item.pk}/chain", headers=headers),
        client.get(f"{API}/batches/{item.consignment.batch_id}", headers=headers),
        client.post(f"{API}/items/{item.pk}/price/accept", {}, content_type="application/json", headers=headers),
        client.post(
            f"{API}/items/{item.pk}/price/counter",
            {"counter_price_fen": 100},
            content_type="application/json",
            headers=headers,
        ),
        client.post(f"{API}/items/{item.pk}/withdraw", {}, content_type="application/json", headers=headers),
    ]

    assert [r.status_code for r in responses] == [404] * 6
    assert {r.json()["code"] for r in responses} == {"item_not_found", "batch_not_found"}
    assert snapshot(item) == before


def test_price_accept_lists_the_item_at_the_price(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops", original_price_fen=100_000), S.PRICED, ops)
    suggested = Consignment.objects.get(item=item).suggested_price_fen

    response = client.post(
        f"{API}/items/{item.pk}/price/accept",
        {"floor_price_fen": 10_000},
        content_type="application/json",
        headers=_bearer(seller),
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["price_fen"], body["floor_price_fen"]) == (S.LISTED, suggested, 10_000)
    assert body["consignment"]["price_decision"] == Consignment.PriceDecision.ACCEPTED
    item.refresh_from_db()
    assert (item.status, item.price_fen) == (S.LISTED, suggested)


def test_price_counter_records_the_counter(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops", original_price_fen=100_000), S.PRICED, ops)

    response = client.post(
        f"{API}/items/{item.pk}/price/counter",
        {"counter_price_fen": 26_000},
        content_type="application/json",
        headers=_bearer(seller),
    )

    assert response.status_code == 200
    assert (response.json()["consignment"]["price_decision"], response.json()["consignment"]["counter_price_fen"]) == (
        Consignment.PriceDecision.COUNTERED,
        26_000,
    )
    consignment = Consignment.objects.get(item=item)
    assert (consignment.price_decision, consignment.counter_price_fen) == (Consignment.PriceDecision.COUNTERED, 26_000)


def test_an_unreasonable_counter_is_422_and_changes_nothing(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops", original_price_fen=100_000), S.PRICED, ops)
    before = snapshot(item)

    response = client.post(
        f"{API}/items/{item.pk}/price/counter",
        {"counter_price_fen": 999_999_999},
        content_type="application/json",
        headers=_bearer(seller),
    )

    assert response.status_code == 422
    assert response.json()["code"] == "counter_invalid"
    assert snapshot(item) == before


def test_repair_answer(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops"), S.RECEIVED, ops)
    services.item_grade(item_id=item.pk, actor=ops.clerk, grade=Grade.B, repair_quote_fen=3_000, repair_note="缝补")

    response = client.post(
        f"{API}/items/{item.pk}/repair", {"accept": False}, content_type="application/json", headers=_bearer(seller)
    )
    again = client.post(
        f"{API}/items/{item.pk}/repair", {"accept": True}, content_type="application/json", headers=_bearer(seller)
    )

    assert response.status_code == 200
    assert response.json()["consignment"]["repair_consent"] == Consignment.RepairConsent.DECLINED
    assert again.status_code == 409
    assert Consignment.objects.get(item=item).repair_consent == Consignment.RepairConsent.DECLINED


def test_withdraw_before_shipping(client, seller):
    item = submit_item(seller, "womens-tops")

    response = client.post(
        f"{API}/items/{item.pk}/withdraw", {"note": "不卖了"}, content_type="application/json", headers=_bearer(seller)
    )

    assert response.status_code == 200
    assert response.json()["status"] == S.WITHDRAWN
    assert response.json()["consignment"]["withdrawal_fee_fen"] == 0
    item.refresh_from_db()
    assert item.status == S.WITHDRAWN


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    for path in [
        "/api/v1/consignment/categories",
        "/api/v1/consignment/brands",
        "/api/v1/consignment/batches",
        "/api/v1/consignment/batches/{batch_id}",
        "/api/v1/consignment/batches/{batch_id}/shipped",
        "/api/v1/consignment/items",
        "/api/v1/consignment/items/{item_id}",
        "/api/v1/consignment/items/{item_id}/chain",
        "/api/v1/consignment/items/{item_id}/price/accept",
        "/api/v1/consignment/items/{item_id}/price/counter",
        "/api/v1/consignment/items/{item_id}/repair",
        "/api/v1/consignment/items/{item_id}/withdraw",
    ]:
        assert path in paths
    assert "multipart/form-data" in paths["/api/v1/consignment/batches"]["post"]["requestBody"]["content"]
