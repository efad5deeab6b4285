"""The seller's consignment pages: my batches, submitting a batch, the batch slip, the item and its chain of custody."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from erhuo.accounts import roles
from erhuo.catalog.models import Category, Grade, Item, ItemPhoto, ItemTransition
from erhuo.consignment import selectors, services
from erhuo.consignment.models import Consignment, IntakeBatch, RejectionReason, Station
from erhuo.consignment.tests.factories import (
    bad_upload,
    draft_for,
    drive_to,
    media_files,
    png_upload,
    snapshot,
    submit_item,
)
from erhuo.core.money import format_fen

pytestmark = pytest.mark.django_db

S = Item.Status


@pytest.fixture(autouse=True)
def _chinese():
    # Pages answer in the site's language; expected labels are computed in the same one.
    with translation.override("zh-hans"):
        yield


def _category(slug: str) -> Category:
    return Category.objects.get(slug=slug)


def _item_fields(index: int, **overrides) -> dict:
    values = {
        "title": f"羊毛大衣 {index}",
        "category": str(_category("womens-coats").pk),
        "brand": "",
        "size": "M",
        "colour": "驼色",
        "declared_value": "680",
        "original_price": "2,400",
        "purchase_year": "2022",
        "declared_grade": Grade.A,
        "defects": "",
        "description": "",
        "fulfilment": Item.Fulfilment.PLATFORM,
        "unsold_choice": Consignment.UnsoldChoice.RETURN,
    }
    values.update(overrides)
    return {f"items-{index}-{key}": value for key, value in values.items()}


def _batch_post(items: list[dict], photos: dict[int, list], note: str = "") -> dict:
    data = {
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "1",
        "items-MAX_NUM_FORMS": "10",
        "batch-note": note,
    }
    for index, fields in enumerate(items):
        data.update(fields)
    for index, files in photos.items():
        data[f"items-{index}-photos"] = files
    return data


# --- my batches -------------------------------------------------------------


def test_home_lists_my_batches_newest_first_with_step_clock_and_what_to_do(client, seller, other_seller, ops):
    # Given an older batch that was pre-screened (ship it) and a newer one waiting for pre-screen
    older = submit_item(seller, "womens-coats", title="旧大衣")
    services.item_prescreen(item_id=older.pk, actor=ops.clerk, accept=True)
    newer = submit_item(seller, "baby-toys", title="木质积木")
    submit_item(other_seller, "bags-tote", title="别人的包")
    client.force_login(seller)

    # When the seller opens her consignments
    response = client.get(reverse("consignment:seller_home"))

    # Then she sees her two batches, newest first, each item with its step, clock and to-do
    assert response.status_code == 200
    entries = response.context["batches"]
    assert [entry["batch"].code for entry in entries] == [
        newer.consignment.batch.code,
        older.consignment.batch.code,
    ]
    new_row = entries[0]["rows"][0]
    assert new_row.item.title == "木质积木"
    assert new_row.station == Station.PRESCREEN
    assert new_row.is_late is False
    assert new_row.clock_text == translation.gettext("Within target: %(time)s left of %(target)s h") % {
        "time": translation.gettext("%(hours)s h") % {"hours": 24},
        "target": 24,
    }
    assert new_row.todos == []
    old_row = entries[1]["rows"][0]
    assert old_row.station == Station.RECEIVE
    assert old_row.todos == [translation.gettext("Send it to our warehouse with the batch")]
    assert entries[1]["ship_form"] is not None and entries[0]["ship_form"] is None
    content = response.content.decode()
    assert selectors.WAREHOUSE_ADDRESS in content
    assert "别人的包" not in content


def test_home_shows_late_items_as_late(client, seller):
    item = submit_item(seller, "womens-tops")
    Item.objects.filter(pk=item.pk).update(status_changed_at=item.status_changed_at - timedelta(hours=30))
    client.force_login(seller)

    row = client.get(reverse("consignment:seller_home")).context["batches"][0]["rows"][0]

    assert row.is_late is True
    assert row.clock_text == translation.gettext("Late by %(time)s (target %(target)s h)") % {
        "time": translation.gettext("%(hours)s h") % {"hours": 6},
        "target": 24,
    }


def test_home_settles_overdue_price_answers(client, seller, ops):
    # Given a priced item whose answer deadline passed
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    Consignment.objects.filter(item=item).update(price_deadline=item.status_changed_at)
    client.force_login(seller)

    # When the seller opens her page
    client.get(reverse("consignment:seller_home"))

    # Then the item was listed at the suggested price
    item.refresh_from_db()
    assert item.status == S.LISTED
    assert item.consignment.price_decision == Consignment.PriceDecision.AUTO_ACCEPTED
    assert item.price_fen == item.consignment.suggested_price_fen


def test_home_for_a_member_without_the_seller_role_explains_and_offers_no_form(client, member):
    client.force_login(member)

    response = client.get(reverse("consignment:seller_home"))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-testid="not-seller"' in content
    assert 'data-testid="new-batch"' not in content


def test_pages_need_a_login(client):
    response = client.get(reverse("consignment:seller_home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def _submitted_items(seller, count: int, per_batch: int = 10):
    for start in range(0, count, per_batch):
        drafts = [draft_for("womens-tops", title=f"上衣 {n}") for n in range(start, min(count, start + per_batch))]
        services.batch_submit(seller=seller, drafts=drafts)


def test_home_query_count_does_not_grow_with_items(client, seller, django_assert_max_num_queries):
    # Given 3 items, then 30 items in three batches
    _submitted_items(seller, 3)
    client.force_login(seller)
    client.get(reverse("consignment:seller_home"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("consignment:seller_home")).status_code == 200
    _submitted_items(seller, 27)

    # When the page is read again (5 of the queries say whether she may consign: verification, level, deposit;
    # 1 is the header's unread notices)
    with django_assert_max_num_queries(18), CaptureQueriesContext(connection) as many:
        response = client.get(reverse("consignment:seller_home"))

    # Then it costs the same number of queries
    assert sum(len(entry["rows"]) for entry in response.context["batches"]) == 30
    assert len(many) == len(few)


# --- submitting a batch -----------------------------------------------------------


def test_new_batch_page_shows_one_item_block_and_the_grades(client, seller):
    client.force_login(seller)

    response = client.get(reverse("consignment:seller_batch_new"))

    assert response.status_code == 200
    assert len(response.context["formset"].forms) == 1
    content = response.content.decode()
    assert 'name="items-0-title"' in content
    assert 'name="items-__prefix__-title"' in content  # the block the "add another item" button clones
    assert str(Grade.S.label) in content
    assert 'accept="image/*"' in content and "multiple" in content
    toys, scarves = Category.objects.get(slug="baby-toys"), Category.objects.get(slug="accessories-scarves")
    assert f'value="{scarves.pk}" data-self-ship-max="¥200.00"' in content  # may stay with the seller up to ¥200
    assert f'value="{toys.pk}" data-self-ship-max=""' in content  # disinfected in the warehouse: never


def test_submit_a_batch_with_photos_creates_batch_items_photos_and_first_steps(client, seller):
    client.force_login(seller)
    data = _batch_post(
        [_item_fields(0), _item_fields(1, title="童装连体衣", category=str(_category("baby-clothes").pk))],
        {0: [png_upload("front.png"), png_upload("back.png")], 1: [png_upload("baby.png")]},
        note="周末寄出",
    )

    response = client.post(reverse("consignment:seller_batch_new"), data)

    batch = IntakeBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("consignment:seller_batch", args=[batch.pk])
    assert batch.seller == seller
    assert batch.note == "周末寄出"
    items = list(Item.objects.order_by("pk"))
    assert [(i.title, i.status, i.seller_id) for i in items] == [
        ("羊毛大衣 0", S.SUBMITTED, seller.pk),
        ("童装连体衣", S.SUBMITTED, seller.pk),
    ]
    coat = items[0]
    assert coat.consignment.declared_value_fen == 68_000
    assert coat.original_price_fen == 240_000
    assert coat.purchase_year == 2022
    assert coat.declared_grade == Grade.A
    assert [p.kind for p in ItemPhoto.objects.filter(item=coat)] == [ItemPhoto.Kind.SELLER, ItemPhoto.Kind.SELLER]
    assert ItemPhoto.objects.filter(item=items[1]).count() == 1
    steps = list(ItemTransition.objects.filter(subject__in=items).order_by("pk"))
    assert [(s.subject_id, s.from_state, s.to_state, s.actor_id) for s in steps] == [
        (coat.pk, "", S.SUBMITTED, seller.pk),
        (items[1].pk, "", S.SUBMITTED, seller.pk),
    ]
    assert set(ItemPhoto.objects.filter(item=coat).values_list("step_id", flat=True)) == {steps[0].pk}
    assert len(media_files()) == 6  # three images and their thumbnails


def test_a_bad_image_refuses_the_batch_keeps_the_typed_values_and_leaves_nothing(client, seller):
    client.force_login(seller)
    data = _batch_post(
        [_item_fields(0), _item_fields(1, title="第二件")],
        {0: [png_upload("ok.png")], 1: [png_upload("fine.png"), bad_upload("fake.png")]},
    )

    response = client.post(reverse("consignment:seller_batch_new"), data)

    assert response.status_code == 422
    assert (IntakeBatch.objects.count(), Item.objects.count(), ItemPhoto.objects.count()) == (0, 0, 0)
    assert ItemTransition.objects.count() == 0
    assert media_files() == []
    formset = response.context["formset"]
    assert formset.forms[1].errors["photos"] == [translation.gettext("Not a JPEG, PNG or WebP image.")]
    assert formset.forms[0].errors == {}
    content = response.content.decode()
    assert 'value="第二件"' in content
    assert response.context["photos_dropped"] is True
    assert 'data-testid="photos-dropped"' in content
    assert content.count("consign-refile") == 2  # each item block says to choose its photos again


def test_a_service_error_lands_on_its_item_block(client, seller):
    # Given a second item that may not stay with the seller (a coat worth ¥680; the limit is ¥300)
    client.force_login(seller)
    data = _batch_post(
        [_item_fields(0), _item_fields(1, fulfilment=Item.Fulfilment.SELF_SHIP)],
        {0: [png_upload()], 1: [png_upload()]},
    )

    response = client.post(reverse("consignment:seller_batch_new"), data)

    assert response.status_code == 422
    forms = response.context["formset"].forms
    assert forms[0].errors == {}
    assert forms[1].errors == {
        "fulfilment": [
            translation.gettext("Only cheaper items of this category may stay with you; choose platform-fulfilled.")
        ]
    }
    assert IntakeBatch.objects.count() == 0 and Item.objects.count() == 0
    assert media_files() == []


def test_missing_photos_and_a_bad_amount_are_shown_on_the_block(client, seller):
    client.force_login(seller)
    data = _batch_post([_item_fields(0, declared_value="12.345")], {})

    response = client.post(reverse("consignment:seller_batch_new"), data)

    assert response.status_code == 422
    errors = response.context["formset"].forms[0].errors
    assert errors["photos"] == [translation.gettext("Add at least one photo.")]
    assert errors["declared_value"] == [translation.gettext("An amount has at most two decimals (fen).")]
    assert Item.objects.count() == 0


def test_an_added_block_left_empty_is_skipped(client, seller):
    client.force_login(seller)
    empty = {
        "items-1-fulfilment": Item.Fulfilment.PLATFORM,
        "items-1-unsold_choice": Consignment.UnsoldChoice.RETURN,
    }
    data = _batch_post([_item_fields(0), empty], {0: [png_upload()]})

    response = client.post(reverse("consignment:seller_batch_new"), data)

    assert response.status_code == 302
    assert Item.objects.count() == 1


def test_more_than_ten_items_are_refused(client, seller):
    client.force_login(seller)
    data = _batch_post([_item_fields(n) for n in range(11)], {n: [png_upload()] for n in range(11)})

    response = client.post(reverse("consignment:seller_batch_new"), data)

    assert response.status_code == 422
    assert Item.objects.count() == 0


def test_a_member_without_the_seller_role_cannot_submit_and_nothing_is_created(client, member):
    client.force_login(member)
    data = _batch_post([_item_fields(0)], {0: [png_upload()]})

    page = client.get(reverse("consignment:seller_batch_new"))
    response = client.post(reverse("consignment:seller_batch_new"), data)

    assert page.status_code == 200
    assert 'data-testid="not-seller"' in page.content.decode()
    assert 'name="items-0-title"' not in page.content.decode()
    assert response.status_code == 403
    assert (IntakeBatch.objects.count(), Item.objects.count(), ItemPhoto.objects.count()) == (0, 0, 0)
    assert media_files() == []


# --- the batch page and shipping -------------------------------------------------


def test_batch_page_shows_the_code_the_slip_and_a_qr_code(client, seller, ops):
    item = submit_item(seller, "womens-tops", title="条纹衬衫")
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)
    batch = item.consignment.batch
    client.force_login(seller)

    response = client.get(reverse("consignment:seller_batch", args=[batch.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert content.count(batch.code) >= 3  # the big code, the slip, the parcel instructions
    assert 'data-testid="batch-qr"' in content and "<svg" in content and "<path" in content
    assert selectors.WAREHOUSE_ADDRESS in content
    assert [row.item.pk for row in response.context["to_ship"]] == [item.pk]
    assert response.context["ship_form"] is not None


def test_mark_shipped_moves_accepted_items_to_in_transit(client, seller, ops):
    # Given a batch with one accepted and one rejected item
    batch = services.batch_submit(
        seller=seller, drafts=[draft_for("womens-tops", title="收"), draft_for("womens-tops", title="拒")]
    )
    accepted, rejected = Item.objects.filter(consignment__batch=batch).order_by("pk")
    services.item_prescreen(item_id=accepted.pk, actor=ops.clerk, accept=True)
    services.item_prescreen(
        item_id=rejected.pk, actor=ops.clerk, accept=False, reason=RejectionReason.CONDITION, note="污渍太多"
    )
    client.force_login(seller)

    # When she says she shipped it
    response = client.post(
        reverse("consignment:seller_batch_shipped", args=[batch.pk]),
        {f"b{batch.pk}-carrier": "顺丰速运", f"b{batch.pk}-tracking_number": "SF1234567890"},
    )

    # Then the accepted item is in transit, the rejected one untouched, the batch shipped
    assert response.status_code == 302
    assert response["Location"] == reverse("consignment:seller_batch", args=[batch.pk])
    accepted.refresh_from_db()
    rejected.refresh_from_db()
    batch.refresh_from_db()
    assert (accepted.status, rejected.status) == (S.IN_TRANSIT, S.REJECTED)
    assert (batch.status, batch.carrier, batch.tracking_number) == (
        IntakeBatch.Status.SHIPPED,
        "顺丰速运",
        "SF1234567890",
    )
    step = accepted.transitions.order_by("-pk").first()
    assert (step.to_state, step.actor_id, step.note) == (S.IN_TRANSIT, seller.pk, "顺丰速运 SF1234567890")


def test_mark_shipped_from_my_page_returns_there(client, seller, ops):
    item = submit_item(seller, "womens-tops")
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)
    batch = item.consignment.batch
    client.force_login(seller)

    response = client.post(
        reverse("consignment:seller_batch_shipped", args=[batch.pk]),
        {f"b{batch.pk}-carrier": "中通快递", f"b{batch.pk}-tracking_number": "ZT99", "next": "/consign/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/consign/"


def test_mark_shipped_without_a_tracking_number_changes_nothing(client, seller, ops):
    item = submit_item(seller, "womens-tops")
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)
    batch = item.consignment.batch
    before = snapshot(item)
    client.force_login(seller)

    response = client.post(
        reverse("consignment:seller_batch_shipped", args=[batch.pk]), {f"b{batch.pk}-carrier": "顺丰速运"}
    )

    assert response.status_code == 422
    assert "tracking_number" in response.context["ship_form"].errors
    assert snapshot(item) == before


def test_mark_shipped_before_screening_is_refused_with_the_message(client, seller):
    item = submit_item(seller, "womens-tops")
    batch = item.consignment.batch
    before = snapshot(item)
    client.force_login(seller)

    response = client.post(
        reverse("consignment:seller_batch_shipped", args=[batch.pk]),
        {f"b{batch.pk}-carrier": "顺丰速运", f"b{batch.pk}-tracking_number": "SF1"},
    )

    assert response.status_code == 409
    assert response.context["ship_form"].non_field_errors() == [
        translation.gettext("Ship a batch after it is pre-screened, once.")
    ]
    assert snapshot(item) == before


# --- another seller's things ------------------------------------------------------


def test_another_seller_gets_404_for_my_item_and_batch_and_cannot_answer_my_price(client, seller, other_seller, ops):
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    batch = item.consignment.batch
    before = snapshot(item)
    client.force_login(other_seller)

    pages = [
        client.get(reverse("consignment:seller_item", args=[item.pk])),
        client.get(reverse("consignment:seller_item_timeline", args=[item.pk])),
        client.get(reverse("consignment:seller_batch", args=[batch.pk])),
    ]
    accept = client.post(reverse("consignment:seller_price_accept", args=[item.pk]), {"floor_price": ""})
    counter = client.post(reverse("consignment:seller_price_counter", args=[item.pk]), {"counter_price": "99"})
    withdraw = client.post(reverse("consignment:seller_withdraw", args=[item.pk]), {"note": ""})
    shipped = client.post(
        reverse("consignment:seller_batch_shipped", args=[batch.pk]),
        {f"b{batch.pk}-carrier": "顺丰速运", f"b{batch.pk}-tracking_number": "SF1"},
    )

    assert [p.status_code for p in pages] == [404, 404, 404]
    assert [r.status_code for r in (accept, counter, withdraw, shipped)] == [404, 404, 404, 404]
    assert snapshot(item) == before


def test_a_member_without_the_seller_role_cannot_answer_a_price(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    seller.groups.filter(name=roles.SELLER).delete()
    before = snapshot(item)
    client.force_login(seller)

    response = client.post(reverse("consignment:seller_price_accept", args=[item.pk]), {"floor_price": ""})

    assert response.status_code == 403
    assert snapshot(item) == before


# --- the item page: answers ----------------------------------------------------------


def test_item_page_shows_the_price_proposal_with_reasons_and_deadline(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops", original_price_fen=100_000), S.PRICED, ops)
    consignment = Consignment.objects.get(item=item)
    client.force_login(seller)

    response = client.get(reverse("consignment:seller_item", args=[item.pk]))

    assert response.status_code == 200
    assert response.context["price_pending"] is True
    content = response.content.decode()
    assert 'data-testid="price-decision"' in content
    for reason in consignment.price_reasons:
        assert reason in content
    assert format_fen(consignment.suggested_price_fen) in content
    assert format_fen(consignment.suggested_low_fen) in content
    assert format_fen(consignment.suggested_high_fen) in content


def test_price_accept_lists_the_item_at_the_price_with_a_floor(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops", original_price_fen=100_000), S.PRICED, ops)
    suggested = Consignment.objects.get(item=item).suggested_price_fen
    client.force_login(seller)

    response = client.post(reverse("consignment:seller_price_accept", args=[item.pk]), {"floor_price": "100"})

    assert response.status_code == 302
    assert response["Location"] == reverse("consignment:seller_item", args=[item.pk])
    item.refresh_from_db()
    assert (item.status, item.price_fen, item.floor_price_fen) == (S.LISTED, suggested, 10_000)
    assert item.consignment.price_decision == Consignment.PriceDecision.ACCEPTED
    step = item.transitions.order_by("-pk").first()
    assert (step.from_state, step.to_state, step.actor_id) == (S.PRICED, S.LISTED, seller.pk)


def test_a_floor_above_the_price_is_refused_and_nothing_changes(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops", original_price_fen=100_000), S.PRICED, ops)
    before = snapshot(item)
    client.force_login(seller)

    response = client.post(reverse("consignment:seller_price_accept", args=[item.pk]), {"floor_price": "99999"})

    assert response.status_code == 422
    assert response.context["accept_form"].errors == {"floor_price": [translation.gettext("At most the price.")]}
    assert snapshot(item) == before


def test_price_counter_records_the_counter_offer(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops", original_price_fen=100_000), S.PRICED, ops)
    client.force_login(seller)

    response = client.post(reverse("consignment:seller_price_counter", args=[item.pk]), {"counter_price": "260.50"})

    assert response.status_code == 302
    consignment = Consignment.objects.get(item=item)
    assert (consignment.price_decision, consignment.counter_price_fen) == (
        Consignment.PriceDecision.COUNTERED,
        26_050,
    )
    item.refresh_from_db()
    assert item.status == S.PRICED
    page = client.get(reverse("consignment:seller_item", args=[item.pk]))
    assert page.context["price_pending"] is False
    assert "¥260.50" in page.content.decode()


def test_repair_question_is_answered_from_the_item_page(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops"), S.RECEIVED, ops)
    services.item_grade(
        item_id=item.pk, actor=ops.clerk, grade=Grade.B, repair_quote_fen=3_000, repair_note="领口开线，缝补"
    )
    client.force_login(seller)

    page = client.get(reverse("consignment:seller_item", args=[item.pk]))
    response = client.post(reverse("consignment:seller_repair_answer", args=[item.pk]), {"answer": "accept"})

    assert 'data-testid="repair-question"' in page.content.decode()
    assert "领口开线，缝补" in page.content.decode() and "¥30.00" in page.content.decode()
    assert response.status_code == 302
    assert Consignment.objects.get(item=item).repair_consent == Consignment.RepairConsent.ACCEPTED


def test_withdraw_before_shipping_is_free(client, seller):
    item = submit_item(seller, "womens-tops")
    client.force_login(seller)

    page = client.get(reverse("consignment:seller_item", args=[item.pk]))
    response = client.post(reverse("consignment:seller_withdraw", args=[item.pk]), {"note": "不卖了"})

    assert page.context["withdrawal"] == {"fee_fen": 0, "return_fee_fen": 0, "total_fen": 0}
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == S.WITHDRAWN
    assert item.consignment.withdrawal_fee_fen == 0
    assert IntakeBatch.objects.get().status == IntakeBatch.Status.CLOSED


def test_withdraw_from_the_warehouse_costs_the_fee(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops"), S.RECEIVED, ops)
    client.force_login(seller)

    page = client.get(reverse("consignment:seller_item", args=[item.pk]))
    response = client.post(reverse("consignment:seller_withdraw", args=[item.pk]), {"note": ""})

    assert page.context["withdrawal"] == {"fee_fen": 2_000, "return_fee_fen": 1_500, "total_fen": 3_500}
    assert "¥35.00" in page.content.decode()
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == S.RETURN_TO_SELLER
    assert (item.consignment.withdrawal_fee_fen, item.consignment.return_shipping_fee_fen) == (2_000, 1_500)


def test_withdraw_in_transit_is_refused_and_nothing_changes(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops"), S.IN_TRANSIT, ops)
    before = snapshot(item)
    client.force_login(seller)

    response = client.post(reverse("consignment:seller_withdraw", args=[item.pk]), {"note": ""})

    assert response.status_code == 409
    assert response.context["withdrawal"] is None
    assert response.context["withdraw_form"].non_field_errors()
    assert snapshot(item) == before


# --- the chain of custody --------------------------------------------------------


def test_chain_of_custody_names_operators_by_role_and_the_seller_as_you(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops"), S.GRADED, ops)
    client.force_login(seller)

    response = client.get(reverse("consignment:seller_item", args=[item.pk]))

    steps = response.context["steps"]
    clerk = str(roles.ROLES[roles.INTAKE_CLERK].label)
    assert [(s.to_state, s.by, s.by_role) for s in steps] == [
        (S.SUBMITTED, "you", translation.gettext("You")),
        (S.ACCEPTED, "staff", clerk),
        (S.IN_TRANSIT, "you", translation.gettext("You")),
        (S.RECEIVED, "staff", clerk),
        (S.GRADED, "staff", clerk),
    ]
    assert [p.kind for p in steps[0].photos] == [ItemPhoto.Kind.SELLER]
    content = response.content.decode()
    assert ops.clerk.display_name not in content and ops.clerk.username not in content
    assert Consignment.objects.get(item=item).label_code in content


def test_a_rejection_shows_its_reason(client, seller, ops):
    item = submit_item(seller, "womens-tops")
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=False, reason=RejectionReason.PHOTOS_UNCLEAR)
    client.force_login(seller)

    response = client.get(reverse("consignment:seller_item", args=[item.pk]))

    assert response.context["steps"][-1].reason_label == str(RejectionReason.PHOTOS_UNCLEAR.label)
    assert str(RejectionReason.PHOTOS_UNCLEAR.label) in response.content.decode()


def test_system_steps_are_shown_as_system(client, seller, ops):
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    Consignment.objects.filter(item=item).update(price_deadline=item.status_changed_at)
    services.price_deadlines_settle()
    client.force_login(seller)

    steps = client.get(reverse("consignment:seller_item", args=[item.pk])).context["steps"]

    assert (steps[-1].to_state, steps[-1].by, steps[-1].by_role) == (S.LISTED, "system", translation.gettext("System"))


def test_the_timeline_fragment_polls_and_says_when_the_item_moved_on(client, seller, ops):
    item = submit_item(seller, "womens-tops")
    client.force_login(seller)
    page = client.get(reverse("consignment:seller_item", args=[item.pk])).content.decode()
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)

    fragment = client.get(
        reverse("consignment:seller_item_timeline", args=[item.pk]), {"status": S.SUBMITTED}, HTTP_HX_REQUEST="true"
    )

    assert 'hx-trigger="every 10s"' in page
    assert reverse("consignment:seller_item_timeline", args=[item.pk]) in page
    assert fragment.status_code == 200
    content = fragment.content.decode()
    assert "<html" not in content
    assert [s.to_state for s in fragment.context["steps"]] == [S.SUBMITTED, S.ACCEPTED]
    assert "consign-moved" in content
    assert 'id="item-now" class="consign-now" hx-swap-oob="true"' in content  # the step above the timeline too
    assert fragment.context["row"].station == Station.RECEIVE
    assert (
        f"?status={S.ACCEPTED}"
        in client.get(
            reverse("consignment:seller_item_timeline", args=[item.pk]), {"status": S.ACCEPTED}
        ).content.decode()
    )


def test_item_page_query_count_does_not_grow_with_the_steps(client, seller, ops, django_assert_max_num_queries):
    early = submit_item(seller, "womens-tops")
    late = drive_to(submit_item(seller, "womens-tops"), S.PHOTOGRAPHED, ops)
    client.force_login(seller)
    client.get(reverse("consignment:seller_home"))

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("consignment:seller_item", args=[early.pk])).status_code == 200
    # (1 of them is the header's unread notices)
    with django_assert_max_num_queries(13), CaptureQueriesContext(connection) as many:
        response = client.get(reverse("consignment:seller_item", args=[late.pk]))

    assert len(response.context["steps"]) == 7
    assert len(many) == len(few)
