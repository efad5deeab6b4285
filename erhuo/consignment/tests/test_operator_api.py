"""The stations' API: the board, the queues, one item as operators see it, and every station action."""

import json
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from erhuo.accounts import services as account_services
from erhuo.catalog.models import CareStep, Item, ItemPhoto, ItemTransition
from erhuo.consignment import services
from erhuo.consignment.models import AuthenticationReport, CareRecord, Consignment, RejectionReason, Station
from erhuo.consignment.tests.factories import (
    draft_for,
    drive_to,
    make_seller,
    png_upload,
    snapshot,
    submit_item,
)

pytestmark = pytest.mark.django_db

S = Item.Status
API = "/api/v1"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def seller(db):
    return make_seller(display_name="林小雨")


class Api:
    """Bearer-token calls: JSON bodies, or multipart when files are sent."""

    def __init__(self, user):
        _row, token = account_services.api_token_issue(user=user, name="test")
        self.client = Client(headers={"authorization": f"Bearer {token}", "accept-language": "en"})

    def get(self, path, **params):
        return self.client.get(API + path, params)

    def post(self, path, data=None):
        return self.client.post(API + path, json.dumps(data or {}), content_type="application/json")

    def multipart(self, path, data):
        return self.client.post(API + path, data)


def toy(seller, **overrides):
    return submit_item(seller, "baby-toys", **{"title": "费雪 学步车", "brand": "Fisher-Price", **overrides})


def bag(seller):
    return submit_item(
        seller, "luxury-bags", title="LV Neverfull 中号", brand="Louis Vuitton", declared_value_fen=2_000_000
    )


def steps(item) -> int:
    return ItemTransition.objects.filter(subject=item).count()


# --- who may call ------------------------------------------------------------------


def test_a_member_is_refused_everywhere(seller, ops, member):
    item = drive_to(toy(seller), S.RECEIVED, ops)
    api = Api(member)
    for path in ["/stations", f"/stations/{Station.GRADE}/queue", f"/ops/items/{item.pk}"]:
        response = api.get(path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "permission_denied"


def test_stations_list_counts_targets_and_what_the_caller_may_work(seller, ops):
    toy(seller)
    late = toy(seller)
    Item.objects.filter(pk=late.pk).update(status_changed_at=timezone.now() - timezone.timedelta(hours=30))

    response = Api(ops.photographer).get("/stations")

    assert response.status_code == 200
    rows = {row["station"]: row for row in response.json()}
    assert list(rows) == list(Station.values)
    assert rows["prescreen"] == {
        "station": "prescreen",
        "label": "Pre-screen",
        "waiting": 2,
        "late": 1,
        "target_hours": 24,
        "can_work": False,
    }
    assert [station for station, row in rows.items() if row["can_work"]] == ["photograph"]


def test_queue_needs_the_station_permission(ops):
    response = Api(ops.photographer).get(f"/stations/{Station.RECEIVE}/queue")
    assert response.status_code == 403
    assert response.json()["code"] == "station_permission_denied"
    assert Api(ops.owner).get("/stations/nowhere/queue").json()["code"] == "station_not_found"


def test_queue_rows_oldest_first_with_their_clock(seller, ops):
    fresh, old = toy(seller), toy(seller, title="旧的 摇铃")
    Item.objects.filter(pk=old.pk).update(status_changed_at=timezone.now() - timezone.timedelta(hours=30))

    response = Api(ops.clerk).get(f"/stations/{Station.PRESCREEN}/queue")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first, second = body["items"]
    assert (first["id"], second["id"]) == (old.pk, fresh.pk)
    assert first["title"] == "旧的 摇铃"
    assert first["label_code"] is None
    assert first["batch_code"] == Consignment.objects.get(item=old).batch.code
    assert first["status"] == S.SUBMITTED
    assert first["age_hours"] == 30.0
    assert (first["target_hours"], first["is_late"], second["is_late"]) == (24, True, False)
    assert first["seller_name"] == "林小雨"


def test_queue_search_by_batch_code(seller, ops):
    first, _second = toy(seller), toy(seller)
    code = Consignment.objects.get(item=first).batch.code
    body = Api(ops.clerk).get(f"/stations/{Station.PRESCREEN}/queue", q=code.lower()).json()
    assert [row["id"] for row in body["items"]] == [first.pk]


def test_queue_runs_a_constant_number_of_queries(seller, ops, django_assert_max_num_queries):
    api = Api(ops.clerk)
    path = f"/stations/{Station.PRESCREEN}/queue"
    services.batch_submit(seller=seller, drafts=[draft_for("baby-toys") for _ in range(3)])
    with CaptureQueriesContext(connection) as few:
        assert api.get(path).json()["count"] == 3
    services.batch_submit(seller=seller, drafts=[draft_for("baby-toys") for _ in range(20)])
    services.batch_submit(seller=seller, drafts=[draft_for("baby-toys") for _ in range(17)])

    with django_assert_max_num_queries(len(few.captured_queries)):
        body = api.get(path).json()

    assert body["count"] == 40
    assert len(body["items"]) == 40


# --- one item --------------------------------------------------------------------------


def test_item_detail_is_the_operators_view_with_names(seller, ops):
    item = drive_to(toy(seller), S.RECEIVED, ops)

    response = Api(ops.photographer).get(f"/ops/items/{item.pk}")

    assert response.status_code == 200
    body = response.json()
    consignment = Consignment.objects.get(item=item)
    assert (body["id"], body["status"], body["station"]) == (item.pk, S.RECEIVED, Station.GRADE)
    assert body["seller_name"] == "林小雨"
    assert body["consignment"]["label_code"] == consignment.label_code
    assert body["consignment"]["required_care_steps"] == [CareStep.INSPECT_CLEAN, CareStep.DISINFECT]
    assert body["consignment"]["missing_care_steps"] == [CareStep.INSPECT_CLEAN, CareStep.DISINFECT]
    assert [(step["to_state"], step["actor"]) for step in body["chain"]] == [
        (S.SUBMITTED, "林小雨"),
        (S.ACCEPTED, ops.clerk.display_name),
        (S.IN_TRANSIT, "林小雨"),
        (S.RECEIVED, ops.clerk.display_name),
    ]
    assert body["chain"][-1]["actor_roles"] == ["intake_clerk"]
    assert [photo["kind"] for photo in body["photos"]] == [ItemPhoto.Kind.SELLER]
    assert Api(ops.clerk).get("/ops/items/999999").json()["code"] == "item_not_found"


def test_item_by_label_code_and_by_scanned_url(seller, ops):
    item = drive_to(toy(seller), S.RECEIVED, ops)
    code = Consignment.objects.get(item=item).label_code
    api = Api(ops.clerk)

    scanned = quote(f"https://erhuo.example/ops/scan/?code={code}", safe="")

    assert api.get(f"/ops/items/by-label/{code.lower()}").json()["id"] == item.pk
    assert api.get(f"/ops/items/by-label/{scanned}").json()["id"] == item.pk
    assert api.get("/ops/items/by-label/EH99999999").json()["code"] == "label_not_found"


# --- station actions ---------------------------------------------------------------------


def test_a_wrong_role_is_refused_and_nothing_changes(seller, ops):
    item = toy(seller)
    before = snapshot(item)

    response = Api(ops.photographer).post(f"/ops/items/{item.pk}/prescreen", {"accept": True})

    assert response.status_code == 403
    assert response.json()["code"] == "station_permission_denied"
    assert snapshot(item) == before


def _received(seller, ops):
    return drive_to(toy(seller), S.RECEIVED, ops)


def _returning(seller, ops):
    item = drive_to(toy(seller), S.RECEIVED, ops)
    services.seller_withdraw(item_id=item.pk, seller=seller)
    return item


# (action path, setup, wrong operator, right operator, JSON body or multipart data factory, status after)
ACTIONS = [
    ("prescreen", lambda s, o: toy(s), "photographer", "clerk", lambda: {"accept": True}, S.ACCEPTED),
    (
        "receive",
        lambda s, o: drive_to(toy(s), S.IN_TRANSIT, o),
        "photographer",
        "clerk",
        lambda: {"photos": [png_upload()]},
        S.RECEIVED,
    ),
    ("grade", _received, "care", "clerk", lambda: {"grade": "A"}, S.GRADED),
    (
        "authenticate",
        lambda s, o: drive_to(bag(s), S.GRADED, o),
        "clerk",
        "authenticator",
        lambda: {"passed": "true", "checks": '[{"point": "走线", "ok": true}]', "photos": [png_upload()]},
        S.AUTHENTICATED,
    ),
    (
        "care",
        lambda s, o: drive_to(toy(s), S.GRADED, o),
        "photographer",
        "care",
        lambda: {"step": CareStep.DISINFECT},
        S.GRADED,
    ),
    (
        "photograph",
        lambda s, o: drive_to(toy(s), S.CARED, o),
        "care",
        "photographer",
        lambda: {"flat": [png_upload()]},
        S.PHOTOGRAPHED,
    ),
    ("price", lambda s, o: drive_to(toy(s), S.PHOTOGRAPHED, o), "photographer", "pricer", lambda: {}, S.PRICED),
    (
        "return-shipped",
        _returning,
        "photographer",
        "clerk",
        lambda: {"carrier": "顺丰速运", "tracking_number": "SF1"},
        S.RETURNED,
    ),
    ("loss", _received, "clerk", "owner", lambda: {"note": "泡水"}, S.LOST),
]
MULTIPART = {"receive", "grade", "authenticate", "care", "photograph"}


def _call(api, action, item, data):
    path = f"/ops/items/{item.pk}/{action}"
    return api.multipart(path, data) if action in MULTIPART else api.post(path, data)


@pytest.mark.parametrize(("action", "make", "wrong", "right", "data", "to"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_every_action_refuses_a_wrong_role_and_the_right_one_moves_one_step(
    action, make, wrong, right, data, to, seller, ops
):
    item = make(seller, ops)
    before = snapshot(item)

    refused = _call(Api(ops[wrong]), action, item, data())

    assert refused.status_code == 403
    assert refused.json()["code"] in {"station_permission_denied", "loss_permission_denied"}
    assert snapshot(item) == before

    done = _call(Api(ops[right]), action, item, data())

    assert done.status_code == 200
    assert done.json()["status"] == to
    assert steps(item) == len(before["transitions"]) + (0 if action == "care" else 1)


def test_prescreen_rejects_with_a_reason(seller, ops):
    item = toy(seller)

    response = Api(ops.clerk).post(
        f"/ops/items/{item.pk}/prescreen", {"accept": False, "reason": RejectionReason.SEASON, "note": "夏天再来"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == S.REJECTED
    assert (body["consignment"]["rejection_reason"], body["consignment"]["rejection_note"]) == ("season", "夏天再来")
    assert steps(item) == 2


def test_an_illegal_move_is_409_transition_not_allowed_and_nothing_changes(seller, ops):
    item = drive_to(toy(seller), S.RECEIVED, ops)
    before = snapshot(item)

    response = Api(ops.photographer).multipart(f"/ops/items/{item.pk}/photograph", {"flat": [png_upload("flat.png")]})

    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert snapshot(item) == before


def test_two_operators_on_one_submission_one_wins(seller, ops):
    item = toy(seller)

    won = Api(ops.clerk).post(f"/ops/items/{item.pk}/prescreen", {"accept": True})
    lost = Api(ops.owner).post(f"/ops/items/{item.pk}/prescreen", {"accept": False, "reason": "condition"})

    assert won.status_code == 200
    assert lost.status_code == 409
    assert lost.json()["code"] == "transition_not_allowed"
    assert steps(item) == 2


def test_receive_with_photos(seller, ops):
    item = drive_to(toy(seller), S.IN_TRANSIT, ops)
    before = steps(item)

    response = Api(ops.clerk).multipart(
        f"/ops/items/{item.pk}/receive", {"note": "外包装完好", "photos": [png_upload("a.png"), png_upload("b.png")]}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == S.RECEIVED
    assert body["consignment"]["label_code"] == services.label_code_for(item.pk)
    assert steps(item) == before + 1
    received = [photo for photo in body["photos"] if photo["kind"] == ItemPhoto.Kind.RECEIVED]
    assert len(received) == 2
    assert {photo["step_id"] for photo in received} == {body["chain"][-1]["id"]}


def test_receive_without_photos_is_fine(seller, ops):
    item = drive_to(toy(seller), S.IN_TRANSIT, ops)
    response = Api(ops.clerk).multipart(f"/ops/items/{item.pk}/receive", {})
    assert response.status_code == 200
    assert response.json()["status"] == S.RECEIVED


def test_grade_with_measurements_and_photos(seller, ops):
    item = drive_to(toy(seller), S.RECEIVED, ops)

    response = Api(ops.clerk).multipart(
        f"/ops/items/{item.pk}/grade",
        {
            "grade": "B",
            "defects": "轮子有划痕",
            "measurements": json.dumps({"长": "45", "宽": "30"}),
            "repair_quote_fen": "3000",
            "repair_note": "更换轮子",
            "defect": [png_upload("d.png")],
            "detail": [png_upload("e.png")],
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["grade"], body["defects"]) == (S.GRADED, "B", "轮子有划痕")
    assert body["measurements"] == {"长": "45", "宽": "30"}
    assert (body["consignment"]["repair_quote_fen"], body["consignment"]["repair_consent"]) == (3000, "asked")
    assert sorted(p["kind"] for p in body["photos"] if p["kind"] != "seller") == ["defect", "detail"]


def test_grade_with_bad_measurements_json_is_422_and_changes_nothing(seller, ops):
    item = drive_to(toy(seller), S.RECEIVED, ops)
    before = snapshot(item)

    response = Api(ops.clerk).multipart(f"/ops/items/{item.pk}/grade", {"grade": "A", "measurements": "{长: 45"})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_json"
    assert snapshot(item) == before


def test_authenticate_publishes_the_checks_with_evidence(seller, ops):
    item = drive_to(bag(seller), S.GRADED, ops)
    checks = [
        {"point": "五金 刻印", "finding": "字体清晰", "ok": True},
        {"point": "走线", "finding": "均匀", "ok": True},
    ]

    response = Api(ops.authenticator).multipart(
        f"/ops/items/{item.pk}/authenticate",
        {"passed": "true", "checks": json.dumps(checks), "notes": "正品", "photos": [png_upload("e.png")]},
    )

    assert response.status_code == 200
    assert response.json()["status"] == S.AUTHENTICATED
    report = AuthenticationReport.objects.get(item=item)
    assert (report.result, report.checks, report.authenticator_id) == ("pass", checks, ops.authenticator.pk)


def test_authenticate_without_evidence_is_422_and_changes_nothing(seller, ops):
    item = drive_to(bag(seller), S.GRADED, ops)
    before = snapshot(item)

    response = Api(ops.authenticator).multipart(
        f"/ops/items/{item.pk}/authenticate",
        {"passed": "true", "checks": json.dumps([{"point": "走线", "finding": "均匀", "ok": True}])},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "evidence_required"
    assert snapshot(item) == before


def test_care_steps_then_complete(seller, ops):
    item = drive_to(toy(seller), S.GRADED, ops)
    api = Api(ops.care)

    early = api.post(f"/ops/items/{item.pk}/care/complete")
    assert early.status_code == 409
    assert early.json()["code"] == "care_steps_missing"
    for step in (CareStep.INSPECT_CLEAN, CareStep.DISINFECT):
        response = api.multipart(
            f"/ops/items/{item.pk}/care", {"step": step, "note": "完成", "photo": [png_upload("c.png")]}
        )
        assert response.status_code == 200
    again = api.multipart(f"/ops/items/{item.pk}/care", {"step": CareStep.DISINFECT})
    assert again.json()["code"] == "care_step_done"
    before = steps(item)

    done = api.post(f"/ops/items/{item.pk}/care/complete", {"note": "全部完成"})

    assert done.status_code == 200
    assert done.json()["status"] == S.CARED
    assert done.json()["consignment"]["missing_care_steps"] == []
    assert steps(item) == before + 1
    assert CareRecord.objects.filter(item=item).count() == 2


def test_photograph_takes_files_named_by_kind(seller, ops):
    item = drive_to(toy(seller), S.CARED, ops)

    response = Api(ops.photographer).multipart(
        f"/ops/items/{item.pk}/photograph",
        {"flat": [png_upload("f1.png"), png_upload("f2.png")], "detail": [png_upload("d.png")]},
    )

    assert response.status_code == 200
    assert response.json()["status"] == S.PHOTOGRAPHED
    assert sorted(ItemPhoto.objects.filter(item=item).exclude(kind="seller").values_list("kind", flat=True)) == [
        "detail",
        "flat",
        "flat",
    ]


def test_photograph_without_a_flat_photo_is_422(seller, ops):
    item = drive_to(toy(seller), S.CARED, ops)
    before = snapshot(item)

    response = Api(ops.photographer).multipart(f"/ops/items/{item.pk}/photograph", {"detail": [png_upload("d.png")]})

    assert response.status_code == 422
    assert response.json()["code"] == "photos_missing"
    assert snapshot(item) == before


def test_price_suggestion_or_override_then_counter_answer(seller, ops):
    item = drive_to(toy(seller), S.PHOTOGRAPHED, ops)
    api = Api(ops.pricer)

    response = api.post(f"/ops/items/{item.pk}/price", {"price_fen": 8_800})

    assert response.status_code == 200
    assert response.json()["consignment"]["suggested_price_fen"] == 8_800
    assert response.json()["consignment"]["price_decision"] == "pending"
    no_counter = api.post(f"/ops/items/{item.pk}/counter-answer", {"accept": True})
    assert no_counter.json()["code"] == "no_counter_offer"

    services.seller_price_counter(item_id=item.pk, seller=seller, counter_price_fen=9_900)
    listed = api.post(f"/ops/items/{item.pk}/counter-answer", {"accept": True})

    assert listed.status_code == 200
    assert (listed.json()["status"], listed.json()["price_fen"]) == (S.LISTED, 9_900)


def test_return_shipped_and_loss(seller, ops):
    returning = drive_to(toy(seller), S.RECEIVED, ops)
    services.seller_withdraw(item_id=returning.pk, seller=seller)
    lost = drive_to(toy(seller), S.RECEIVED, ops)

    shipped = Api(ops.clerk).post(
        f"/ops/items/{returning.pk}/return-shipped", {"carrier": "顺丰速运", "tracking_number": "SF123"}
    )
    refused = Api(ops.clerk).post(f"/ops/items/{lost.pk}/loss", {"note": "泡水"})
    recorded = Api(ops.owner).post(f"/ops/items/{lost.pk}/loss", {"note": "泡水"})

    assert shipped.status_code == 200
    assert shipped.json()["status"] == S.RETURNED
    assert shipped.json()["chain"][-1]["note"] == "顺丰速运 SF123"
    assert refused.status_code == 403
    assert refused.json()["code"] == "loss_permission_denied"
    assert recorded.status_code == 200
    assert recorded.json()["status"] == S.LOST
    assert recorded.json()["chain"][-1]["data"] == {"liability_fen": 20_000}


def test_openapi_documents_the_station_routes(client):
    paths = client.get(API + "/openapi.json").json()["paths"]
    assert {
        "/api/v1/stations",
        "/api/v1/stations/{station}/queue",
        "/api/v1/ops/items/{item_id}",
        "/api/v1/ops/items/by-label/{code}",
        "/api/v1/ops/items/{item_id}/photograph",
    } <= set(paths)
    assert "multipart/form-data" in paths["/api/v1/ops/items/{item_id}/photograph"]["post"]["requestBody"]["content"]
