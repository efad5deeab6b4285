"""The operator pages: the station board, each station's queue with bulk actions, the item work page, scan and label.

Every station's form refuses an operator without that station's permission
and changes nothing; the right role moves the item exactly one step.
"""

import re
from dataclasses import dataclass

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import CareStep, Item, ItemPhoto, ItemTransition
from erhuo.consignment import services
from erhuo.consignment.models import CareRecord, Consignment, IntakeBatch, RejectionReason, Station
from erhuo.consignment.tests.factories import (
    draft_for,
    drive_to,
    make_seller,
    png_upload,
    snapshot,
    submit_item,
)
from erhuo.core import states

pytestmark = pytest.mark.django_db

S = Item.Status
LUXURY_VALUE_FEN = 2_000_000  # ¥20,000: the luxury category always needs authentication anyway


@pytest.fixture(autouse=True)
def _english():
    # The pages answer in English (Accept-Language below); expected messages are computed in English too.
    with translation.override("en"):
        yield


@pytest.fixture
def seller(db):
    return make_seller(display_name="林小雨")


def as_user(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def item_url(item) -> str:
    return reverse("consignment:ops_item", args=[item.pk])


def toy(seller, **overrides):
    return submit_item(seller, "baby-toys", **{"title": "费雪 学步车", "brand": "Fisher-Price", **overrides})


def bag(seller, **overrides):
    values = {"title": "LV Neverfull 中号", "brand": "Louis Vuitton", "declared_value_fen": LUXURY_VALUE_FEN}
    return submit_item(seller, "luxury-bags", **{**values, **overrides})


def record_all_care_steps(item, ops):
    consignment = Consignment.objects.get(item=item)
    for step in consignment.required_care_steps:
        services.item_care_record(item_id=item.pk, actor=ops.care, step=step)


def to_return_to_seller(item, ops):
    drive_to(item, S.RECEIVED, ops)
    services.seller_withdraw(item_id=item.pk, seller=item.seller)
    item.refresh_from_db()
    return item


@dataclass(frozen=True)
class StationCase:
    action: str
    make: object  # (seller, ops) -> item waiting for the action
    right: str  # the operator (an Operators attribute) allowed to do it
    wrong: str  # an operator without the permission
    to: str  # the status after the action
    new_steps: int = 1


def _form(action: str) -> dict:
    """A valid POST for each action (fresh uploads each time)."""
    if action == "prescreen":
        return {"decision": "accept", "reason": "", "note": "照片清楚"}
    if action == "receive":
        return {"note": "外包装完好", "photos": [png_upload("arrival.png")]}
    if action == "grade":
        return {"grade": "A", "defects": "", "note": "", "m_key_0": "长", "m_val_0": "30", "detail_photos": []}
    if action == "authenticate":
        return {
            "result": "pass",
            "point_0": "五金 刻印",
            "finding_0": "字体清晰",
            "ok_0": "ok",
            "point_1": "走线",
            "finding_1": "均匀",
            "ok_1": "ok",
            "notes": "正品",
            "photos": [png_upload("evidence.png")],
        }
    if action == "care_record":
        return {"step": CareStep.DISINFECT, "note": "紫外线 30 分钟", "photo": png_upload("care.png")}
    if action == "care_complete":
        return {"note": ""}
    if action == "photograph":
        return {"flat": [png_upload("flat.png")], "detail": [png_upload("detail.png")], "note": ""}
    if action == "price":
        return {"price": "", "note": ""}
    if action == "return_shipped":
        return {"carrier": "顺丰速运", "tracking_number": "SF1234567890"}
    if action == "loss":
        return {"note": "仓库漏水，外壳泡坏"}
    raise AssertionError(action)


def post_action(client, item, action: str, **extra):
    data = {"action": action, **_form(action), **extra}
    return client.post(item_url(item), data)


CASES = [
    StationCase("prescreen", lambda s, o: toy(s), "clerk", "photographer", S.ACCEPTED),
    StationCase("receive", lambda s, o: drive_to(toy(s), S.IN_TRANSIT, o), "clerk", "photographer", S.RECEIVED),
    StationCase("grade", lambda s, o: drive_to(toy(s), S.RECEIVED, o), "clerk", "care", S.GRADED),
    StationCase("authenticate", lambda s, o: drive_to(bag(s), S.GRADED, o), "authenticator", "clerk", S.AUTHENTICATED),
    StationCase("care_record", lambda s, o: drive_to(toy(s), S.GRADED, o), "care", "photographer", S.GRADED, 0),
    StationCase(
        "care_complete",
        lambda s, o: (lambda item: (record_all_care_steps(item, o), item)[1])(drive_to(toy(s), S.GRADED, o)),
        "care",
        "photographer",
        S.CARED,
    ),
    StationCase("photograph", lambda s, o: drive_to(toy(s), S.CARED, o), "photographer", "care", S.PHOTOGRAPHED),
    StationCase("price", lambda s, o: drive_to(toy(s), S.PHOTOGRAPHED, o), "pricer", "photographer", S.PRICED),
    StationCase("return_shipped", lambda s, o: to_return_to_seller(toy(s), o), "clerk", "photographer", S.RETURNED),
    StationCase("loss", lambda s, o: drive_to(toy(s), S.RECEIVED, o), "owner", "clerk", S.LOST),
]


# --- who may enter --------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(reverse("consignment:ops_board"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_member_gets_403_on_every_operator_page(seller, ops, member):
    item = drive_to(toy(seller), S.RECEIVED, ops)
    client = as_user(member)
    assert client.get(reverse("consignment:ops_board")).status_code == 403
    assert client.get(reverse("consignment:ops_station", args=[Station.GRADE])).status_code == 403
    assert client.get(item_url(item)).status_code == 403
    assert client.get(reverse("consignment:ops_label", args=[item.pk])).status_code == 403
    assert client.get(reverse("consignment:ops_scan"), {"code": item.consignment.label_code}).status_code == 403


@pytest.mark.parametrize("case", CASES, ids=[case.action for case in CASES])
def test_a_station_form_refuses_an_operator_without_its_permission_and_changes_nothing(case, seller, ops):
    item = case.make(seller, ops)
    before = snapshot(item)

    response = post_action(as_user(ops[case.wrong]), item, case.action)

    assert response.status_code == 403
    assert snapshot(item) == before


@pytest.mark.parametrize("case", CASES, ids=[case.action for case in CASES])
def test_the_right_role_moves_the_item_one_step(case, seller, ops):
    item = case.make(seller, ops)
    steps_before = ItemTransition.objects.filter(subject=item).count()
    care_before = CareRecord.objects.filter(item=item).count()

    response = post_action(as_user(ops[case.right]), item, case.action, expected_status=item.status)

    assert response.status_code == 302
    assert response["Location"] == item_url(item)
    item.refresh_from_db()
    assert item.status == case.to
    assert ItemTransition.objects.filter(subject=item).count() == steps_before + case.new_steps
    if case.new_steps:
        last = ItemTransition.objects.filter(subject=item).latest("pk")
        assert (last.to_state, last.actor_id) == (case.to, ops[case.right].pk)
    assert CareRecord.objects.filter(item=item).count() == care_before + (case.action == "care_record")


def test_a_station_queue_refuses_a_wrong_role_and_a_bulk_post_changes_nothing(seller, ops):
    items = [drive_to(toy(seller), S.IN_TRANSIT, ops) for _ in range(2)]
    before = [snapshot(item) for item in items]
    client = as_user(ops.photographer)
    url = reverse("consignment:ops_station", args=[Station.RECEIVE])

    assert client.get(url).status_code == 403
    response = client.post(url, {"bulk_action": "receive", "item_ids": [item.pk for item in items]})

    assert response.status_code == 403
    assert [snapshot(item) for item in items] == before


def test_an_unknown_station_is_404(ops):
    assert as_user(ops.owner).get("/ops/stations/nowhere/").status_code == 404


# --- the board -------------------------------------------------------------------------


def test_board_counts_waiting_and_late_items_and_links_only_my_stations(seller, ops):
    old = toy(seller)
    toy(seller)
    drive_to(toy(seller), S.RECEIVED, ops)
    # The first submission has waited two days: past the 24 h pre-screen target.
    Item.objects.filter(pk=old.pk).update(status_changed_at=timezone.now() - timezone.timedelta(hours=48))

    response = as_user(ops.photographer).get(reverse("consignment:ops_board"))

    assert response.status_code == 200
    cards = {card["station"]: card for card in response.context["cards"]}
    assert list(cards) == list(Station.values)
    assert (cards["prescreen"]["waiting"], cards["prescreen"]["late"]) == (2, 1)
    assert (cards["grade"]["waiting"], cards["grade"]["late"]) == (1, 0)
    assert cards["prescreen"]["target_hours"] == 24
    assert [station for station, card in cards.items() if card["can_work"]] == ["photograph"]
    html = response.content.decode()
    assert re.findall(r'href="/ops/stations/(\w+)/"', html) == ["photograph"]
    scan = re.search(r"<input[^>]*name=\"code\"[^>]*>", html).group(0)
    assert 'inputmode="text"' in scan
    assert "autofocus" not in scan


def _make_items(seller, count: int) -> None:
    """`count` submitted items with a photo each, in batches of at most 20."""
    remaining = count
    while remaining:
        size = min(20, remaining)
        services.batch_submit(seller=seller, drafts=[draft_for("baby-toys", title=f"积木 {i}") for i in range(size)])
        remaining -= size


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("name", ["ops_board", "ops_station"])
def test_board_and_queue_run_a_constant_number_of_queries(name, seller, ops, django_assert_max_num_queries):
    client = as_user(ops.clerk)
    url = reverse(f"consignment:{name}", args=[Station.PRESCREEN] if name == "ops_station" else [])
    _make_items(seller, 3)
    few = _queries(client, url)
    _make_items(seller, 37)

    with django_assert_max_num_queries(few):
        response = client.get(url)

    assert response.status_code == 200
    assert few <= 20
    if name == "ops_station":
        assert len(response.context["rows"]) == 40


# --- a station's queue -----------------------------------------------------------------


def test_queue_lists_late_items_first_with_their_clock(seller, ops):
    fresh, old = toy(seller), toy(seller, title="旧的 摇铃")
    Item.objects.filter(pk=old.pk).update(status_changed_at=timezone.now() - timezone.timedelta(hours=29))
    Item.objects.filter(pk=fresh.pk).update(status_changed_at=timezone.now() - timezone.timedelta(hours=12, minutes=5))

    response = as_user(ops.clerk).get(reverse("consignment:ops_station", args=[Station.PRESCREEN]))

    rows = response.context["rows"]
    assert [row["item"].pk for row in rows] == [old.pk, fresh.pk]
    assert [row["clock"].is_late for row in rows] == [True, False]
    assert [row["clock_text"] for row in rows] == ["late by 5 h", "11 h left"]
    html = response.content.decode()
    assert "旧的 摇铃" in html
    assert "林小雨" in html


def test_queue_search_finds_by_batch_code_label_code_and_title(seller, ops):
    first, second = toy(seller), toy(seller, title="贝亲 奶瓶")
    drive_to(first, S.RECEIVED, ops)
    drive_to(second, S.RECEIVED, ops)
    first.refresh_from_db()
    client = as_user(ops.clerk)
    url = reverse("consignment:ops_station", args=[Station.GRADE])

    def found(query):
        return [row["item"].pk for row in client.get(url, {"q": query}).context["rows"]]

    assert found(first.consignment.batch.code) == [first.pk]
    assert found(first.consignment.label_code.lower()) == [first.pk]
    assert found("奶瓶") == [second.pk]
    assert found("") == [first.pk, second.pk]


def test_bulk_accept_does_each_item_and_reports_the_refused_ones(seller, ops):
    waiting = [toy(seller) for _ in range(3)]
    already = toy(seller)
    services.item_prescreen(item_id=already.pk, actor=ops.owner, accept=False, reason=RejectionReason.SEASON)
    url = reverse("consignment:ops_station", args=[Station.PRESCREEN])

    response = as_user(ops.clerk).post(
        url, {"bulk_action": "accept", "item_ids": [*(item.pk for item in waiting), already.pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == url
    assert (
        sorted(Item.objects.filter(pk__in=[i.pk for i in waiting]).values_list("status", flat=True)) == [S.ACCEPTED] * 3
    )
    already.refresh_from_db()
    assert already.status == S.REJECTED
    refusal = "This item is “Rejected”; this step is not possible now."
    assert messages_of(response) == [f"3 done, 1 refused: #{already.pk}: {refusal}"]
    assert ItemTransition.objects.filter(subject=already).count() == 2


def test_bulk_care_records_a_step_then_completes(seller, ops):
    items = [drive_to(toy(seller), S.GRADED, ops) for _ in range(2)]
    client = as_user(ops.care)
    url = reverse("consignment:ops_station", args=[Station.CARE])
    ids = [item.pk for item in items]

    recorded = client.post(url, {"bulk_action": "care_record", "care_step": CareStep.DISINFECT, "item_ids": ids})
    assert messages_of(recorded) == ["2 done."]
    client.get(url)  # the page shows (and so consumes) the message
    refused = client.post(url, {"bulk_action": "care_complete", "item_ids": ids}, follow=True)

    assert CareRecord.objects.filter(item__in=ids, step=CareStep.DISINFECT).count() == 2
    missing = "Care steps still missing: Spot clean."
    assert messages_of(refused) == [f"0 done, 2 refused: #{ids[0]}, #{ids[1]}: {missing}"]

    client.post(url, {"bulk_action": "care_record", "care_step": CareStep.INSPECT_CLEAN, "item_ids": ids}, follow=True)
    done = client.post(url, {"bulk_action": "care_complete", "item_ids": ids}, follow=True)

    assert messages_of(done) == ["2 done."]
    assert list(Item.objects.filter(pk__in=ids).values_list("status", flat=True)) == [S.CARED, S.CARED]


# --- the work page -----------------------------------------------------------------------


def test_work_page_shows_the_form_of_the_current_station_only_to_its_role(seller, ops):
    item = drive_to(bag(seller), S.GRADED, ops)

    mine = as_user(ops.authenticator).get(item_url(item))
    theirs = as_user(ops.photographer).get(item_url(item))

    assert mine.status_code == theirs.status_code == 200
    assert list(mine.context["forms"]) == ["authenticate"]
    assert 'data-testid="form-authenticate"' in mine.content.decode()
    assert theirs.context["forms"] == {}
    assert 'data-testid="form-authenticate"' not in theirs.content.decode()
    # The chain of custody names the operators (this is the operators' view).
    assert ops.clerk.display_name in theirs.content.decode()
    check_points = [mine.context["forms"]["authenticate"][f"point_{i}"].value() for i in range(5)]
    assert check_points == ["五金 刻印", "走线", "皮质", "内标", "序列号"]


def test_an_illegal_move_is_409_and_changes_nothing(seller, ops):
    item = drive_to(toy(seller), S.RECEIVED, ops)
    before = snapshot(item)

    response = post_action(as_user(ops.photographer), item, "photograph")

    assert response.status_code == 409
    assert response.context["error_code"] == "transition_not_allowed"
    assert messages_of(response) == [
        "This item is “Received”; this step is not possible now.",
        "Photos cannot be kept after an error: choose them again.",
    ]
    assert snapshot(item) == before


def test_a_refused_step_keeps_what_was_typed(seller, ops):
    item = drive_to(toy(seller), S.RECEIVED, ops)
    before = snapshot(item)

    response = as_user(ops.clerk).post(
        item_url(item),
        {"action": "grade", "grade": "C", "defects": "", "note": "轮子有划痕", "m_key_0": "长", "m_val_0": "45"},
    )

    assert response.status_code == 422
    assert response.context["error_code"] == "defects_required"
    assert messages_of(response) == ["Grade C needs its defects listed."]
    form = response.context["forms"]["grade"]
    assert form.errors["defects"] == ["List the defects."]
    html = response.content.decode()
    assert "轮子有划痕" in html
    assert 'value="45"' in html
    assert snapshot(item) == before


def test_two_operators_on_one_submission_one_wins_and_the_other_is_told(seller, ops):
    item = toy(seller)
    second_clerk = UserFactory(roles=[roles.INTAKE_CLERK])
    first, second = as_user(ops.clerk), as_user(second_clerk)
    # Both open the page while the item is submitted.
    seen = first.get(item_url(item)).context["forms"]["prescreen"]["expected_status"].value()
    assert seen == S.SUBMITTED == second.get(item_url(item)).context["forms"]["prescreen"]["expected_status"].value()

    won = post_action(first, item, "prescreen", expected_status=seen)
    lost = second.post(
        item_url(item),
        {"action": "prescreen", "decision": "reject", "reason": RejectionReason.CONDITION, "expected_status": seen},
    )

    assert won.status_code == 302
    assert lost.status_code == 409
    assert messages_of(lost) == ["Someone else already did this step. The item is now “Accepted, awaiting shipment”."]
    item.refresh_from_db()
    assert item.status == S.ACCEPTED
    assert list(ItemTransition.objects.filter(subject=item).values_list("to_state", "actor_id")) == [
        (S.SUBMITTED, seller.pk),
        (S.ACCEPTED, ops.clerk.pk),
    ]
    assert Consignment.objects.get(item=item).rejection_reason == ""


def test_a_lost_race_inside_the_service_is_told_the_same_way(seller, ops, monkeypatch):
    item = toy(seller)

    def raced(**kwargs):
        Item.objects.filter(pk=item.pk).update(status=S.ACCEPTED)
        raise states.StateChanged()

    monkeypatch.setattr(services, "item_prescreen", raced)
    response = post_action(as_user(ops.clerk), item, "prescreen", expected_status=S.SUBMITTED)

    assert response.status_code == 409
    assert response.context["error_code"] == "state_changed"
    assert messages_of(response) == [
        "Someone else already did this step. The item is now “Accepted, awaiting shipment”."
    ]


def test_price_station_shows_the_rule_suggestion_and_takes_an_override_in_yuan(seller, ops):
    item = drive_to(bag(seller), S.PHOTOGRAPHED, ops)
    client = as_user(ops.pricer)

    page = client.get(item_url(item))
    preview = page.context["price_preview"]
    assert preview.fair_fen > 0
    assert preview.reasons[0] == "No original price: starting from the declared value ¥20,000.00"
    assert "¥20,000.00" in page.content.decode()

    response = post_action(client, item, "price", price="12,800", expected_status=S.PHOTOGRAPHED)

    assert response.status_code == 302
    consignment = Consignment.objects.get(item=item)
    assert consignment.suggested_price_fen == 1_280_000
    assert consignment.price_decision == Consignment.PriceDecision.PENDING


def test_price_station_answers_a_counter_offer(seller, ops):
    item = drive_to(toy(seller), S.PRICED, ops)
    services.seller_price_counter(item_id=item.pk, seller=seller, counter_price_fen=5_000)
    client = as_user(ops.pricer)

    assert list(client.get(item_url(item)).context["forms"]) == ["counter_answer"]
    response = client.post(
        item_url(item), {"action": "counter_answer", "decision": "accept", "expected_status": S.PRICED}
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.price_fen) == (S.LISTED, 5_000)


def test_rejecting_needs_a_reason(seller, ops):
    item = toy(seller)
    before = snapshot(item)

    response = as_user(ops.clerk).post(item_url(item), {"action": "prescreen", "decision": "reject", "reason": ""})

    assert response.status_code == 422
    assert response.context["forms"]["prescreen"].errors["reason"] == ["Choose a reason."]
    assert snapshot(item) == before


def test_care_page_lists_required_steps_and_who_did_them(seller, ops):
    item = drive_to(toy(seller), S.GRADED, ops)
    services.item_care_record(item_id=item.pk, actor=ops.care, step=CareStep.DISINFECT, note="紫外线")

    response = as_user(ops.care).get(item_url(item))

    rows = response.context["care_rows"]
    assert [(row["step"], row["record"] is not None) for row in rows] == [
        (CareStep.INSPECT_CLEAN, False),
        (CareStep.DISINFECT, True),
    ]
    assert [row["step"] for row in rows if "form" in row] == [CareStep.INSPECT_CLEAN]
    assert ops.care.display_name in response.content.decode()


def test_photographs_land_with_their_kind_on_the_step(seller, ops):
    item = drive_to(toy(seller), S.CARED, ops)

    post_action(as_user(ops.photographer), item, "photograph", expected_status=S.CARED)

    step = ItemTransition.objects.filter(subject=item).latest("pk")
    assert sorted(step.photos.values_list("kind", flat=True)) == [ItemPhoto.Kind.DETAIL, ItemPhoto.Kind.FLAT]


# --- scan and label ----------------------------------------------------------------------


def test_scan_finds_an_item_by_label_code_and_by_a_scanned_url(seller, ops):
    item = drive_to(toy(seller), S.RECEIVED, ops)
    code = Consignment.objects.get(item=item).label_code
    client = as_user(ops.photographer)
    scan = reverse("consignment:ops_scan")

    by_code = client.get(scan, {"code": code.lower()})
    by_url = client.get(scan, {"code": f"http://testserver{scan}?code={code}"})
    by_post = client.post(scan, {"code": f" {code} "})

    assert [r.status_code for r in (by_code, by_url, by_post)] == [302, 302, 302]
    assert {r["Location"] for r in (by_code, by_url, by_post)} == {item_url(item)}


def test_scan_of_a_batch_code_opens_receiving_filtered_by_the_batch(seller, ops):
    item = drive_to(toy(seller), S.IN_TRANSIT, ops)
    code = IntakeBatch.objects.get(consignments__item=item).code

    response = as_user(ops.clerk).get(reverse("consignment:ops_scan"), {"code": code})

    assert response.status_code == 302
    assert response["Location"] == reverse("consignment:ops_station", args=[Station.RECEIVE]) + f"?q={code}"


def test_scan_of_an_unknown_code_goes_back_to_the_board_with_the_code(ops):
    response = as_user(ops.clerk).get(reverse("consignment:ops_scan"), {"code": "EH99999999"}, follow=True)

    assert response.redirect_chain == [(reverse("consignment:ops_board") + "?code=EH99999999", 302)]
    assert messages_of(response) == ["No item or batch has the code “EH99999999”."]
    html = response.content.decode()
    assert "No item or batch has the code “EH99999999”." in html
    assert 'value="EH99999999"' in html


def test_label_page_has_a_qr_code_pointing_at_the_scan_url(seller, ops):
    item = drive_to(toy(seller), S.GRADED, ops)
    code = Consignment.objects.get(item=item).label_code

    response = as_user(ops.clerk).get(reverse("consignment:ops_label", args=[item.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html
    assert code in html
    assert response.context["scan_url"] == f"http://testserver/ops/scan/?code={code}"
    assert "60mm" not in html  # the size lives in the stylesheet


def test_label_page_is_404_before_the_item_has_a_label(seller, ops):
    item = toy(seller)
    assert as_user(ops.clerk).get(reverse("consignment:ops_label", args=[item.pk])).status_code == 404


# --- the admin ------------------------------------------------------------------------------


def test_owner_reads_the_pipeline_in_the_admin_and_edits_category_rules(seller, ops):
    item = drive_to(toy(seller), S.RECEIVED, ops)
    client = as_user(ops.owner)
    for name in [
        "catalog_category",
        "catalog_brand",
        "catalog_item",
        "catalog_itemtransition",
        "consignment_intakebatch",
        "consignment_consignment",
        "consignment_stationsetting",
    ]:
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
    item_page = client.get(reverse("admin:catalog_item_change", args=[item.pk]))
    assert item_page.status_code == 200
    # The owner's role grants only the view permission on items: every field is read-only.
    assert 'name="status"' not in item_page.content.decode()
    assert 'name="title"' not in item_page.content.decode()

    category = item.category
    response = client.post(
        reverse("admin:catalog_category_change", args=[category.pk]),
        {
            "parent": category.parent_id,
            "name": category.name,
            "slug": category.slug,
            "position": category.position,
            "authentication": "",
            "care_steps": [CareStep.DISINFECT, CareStep.WASH],
            "is_returnable": "unknown",
            "needs_on_body_photo": "unknown",
        },
    )

    assert response.status_code == 302
    category.refresh_from_db()
    assert category.care_steps == [CareStep.WASH, CareStep.DISINFECT]


def test_a_station_operator_cannot_change_categories_in_the_admin(ops):
    client = as_user(ops.clerk)
    assert client.get(reverse("admin:catalog_category_changelist")).status_code == 403
