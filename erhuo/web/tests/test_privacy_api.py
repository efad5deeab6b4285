"""The privacy API: the caller's data, her deletion request, and the operators' deletion routes."""

import pytest

from erhuo.accounts import roles
from erhuo.accounts.models import Address, DeletionRequest, PersonalDataAccess
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, UserFactory
from erhuo.consignment import services as consignment_services
from erhuo.consignment.tests.factories import make_seller, submit_item
from erhuo.web import privacy

pytestmark = pytest.mark.django_db

MY_PHONE = "13922221111"
OTHER_PHONE = "13944443333"


@pytest.fixture
def me(db):
    user = make_seller(phone=MY_PHONE, display_name="李静")
    AddressFactory(user=user, recipient_name="李静", recipient_phone="13966660001", detail="东路 1 号")
    return user


@pytest.fixture
def neighbour(db):
    user = UserFactory(phone=OTHER_PHONE, display_name="赵敏", roles=[roles.MEMBER])
    AddressFactory(user=user, recipient_name="赵敏", recipient_phone="13966660002", detail="西路 2 号")
    return user


@pytest.fixture
def customer_service(db):
    return UserFactory(roles=[roles.CUSTOMER_SERVICE])


def _ask(user) -> DeletionRequest:
    return privacy.deletion_request_create(user=user, password=DEFAULT_PASSWORD, reason="")


def test_my_personal_data_is_mine_only(api_client, me, neighbour):
    api_client.login(me)

    response = api_client.get("/api/v1/me/personal-data")

    assert response.status_code == 200
    body = response.json()
    assert body["accounts"]["account"]["phone"] == MY_PHONE
    assert body["accounts"]["addresses"][0]["detail"] == "东路 1 号"
    assert [token["prefix"] for token in body["accounts"]["api_tokens"]] == [me.api_tokens.get().prefix]
    text = response.content.decode()
    for foreign in (OTHER_PHONE, "13966660002", "西路", "赵敏", neighbour.username):
        assert foreign not in text
    assert me.api_tokens.get().digest not in text


def test_my_personal_data_needs_authentication(api_client):
    response = api_client.get("/api/v1/me/personal-data")

    assert response.status_code == 401


def test_ask_cancel_and_read_my_request(api_client, me):
    api_client.login(me)

    wrong = api_client.post("/api/v1/me/deletion-request", {"password": "nope"})
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "invalid_credentials"
    assert DeletionRequest.objects.count() == 0

    created = api_client.post("/api/v1/me/deletion-request", {"password": DEFAULT_PASSWORD, "reason": "换号了"})
    assert created.status_code == 201
    assert created.json()["status"] == "requested"
    assert created.json()["reason"] == "换号了"
    assert created.json()["blockers"] == privacy.erase_blockers(user=me)

    again = api_client.post("/api/v1/me/deletion-request", {"password": DEFAULT_PASSWORD})
    assert again.status_code == 409
    assert again.json()["code"] == "deletion_request_open"

    assert api_client.get("/api/v1/me/deletion-request").json()["id"] == created.json()["id"]
    cancelled = api_client.delete("/api/v1/me/deletion-request")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert api_client.get("/api/v1/me/deletion-request").status_code == 404
    assert api_client.delete("/api/v1/me/deletion-request").status_code == 404


def test_my_request_routes_never_touch_someone_elses(api_client, me, neighbour):
    theirs = _ask(neighbour)
    api_client.login(me)

    assert api_client.get("/api/v1/me/deletion-request").status_code == 404
    assert api_client.delete("/api/v1/me/deletion-request").status_code == 404

    theirs.refresh_from_db()
    assert theirs.status == "requested"


@pytest.mark.parametrize("role", [roles.MEMBER, roles.COMMUNITY_MANAGER, roles.FINANCE])
def test_operator_routes_need_the_permission(api_client, me, role):
    deletion_request = _ask(me)
    api_client.login(UserFactory(roles=[role]))

    assert api_client.get("/api/v1/deletion-requests").status_code == 403
    assert api_client.get(f"/api/v1/deletion-requests/{deletion_request.pk}").status_code == 403
    assert api_client.post(f"/api/v1/deletion-requests/{deletion_request.pk}/erase").status_code == 403
    assert api_client.post(f"/api/v1/deletion-requests/{deletion_request.pk}/refuse", {"note": "x"}).status_code == 403

    deletion_request.refresh_from_db()
    me.refresh_from_db()
    assert deletion_request.status == "requested"
    assert me.phone == MY_PHONE
    assert Address.objects.filter(user=me).count() == 1


def test_the_member_cannot_erase_her_own_request_through_the_operator_route(api_client, me):
    deletion_request = _ask(me)
    api_client.login(me)

    response = api_client.post(f"/api/v1/deletion-requests/{deletion_request.pk}/erase")

    assert response.status_code == 403
    me.refresh_from_db()
    assert me.phone == MY_PHONE


def test_queue_and_detail_mask_the_member(api_client, me, customer_service):
    deletion_request = _ask(me)
    api_client.login(customer_service)

    queue = api_client.get("/api/v1/deletion-requests").json()
    detail = api_client.get(f"/api/v1/deletion-requests/{deletion_request.pk}").json()

    assert queue["count"] == 1
    assert queue["items"][0]["member_name"] == "李*"
    assert detail["member_name"] == "李*"
    assert detail["current_blockers"] == privacy.erase_blockers(user=me)
    assert MY_PHONE not in str(queue) + str(detail)
    assert PersonalDataAccess.objects.count() == 0


def test_erase_is_409_with_the_blockers_then_goes_through(api_client, me, customer_service, monkeypatch):
    # Only accounts and consignment asked: a seller's deposit would block too (tested with the pages).
    monkeypatch.setattr(privacy, "APP_MODULES", ())
    item = submit_item(me, "bags-tote", title="在途的包")
    deletion_request = _ask(me)
    api_client.login(customer_service)

    blocked = api_client.post(f"/api/v1/deletion-requests/{deletion_request.pk}/erase", {"note": ""})

    assert blocked.status_code == 409
    assert blocked.json()["code"] == "deletion_blocked"
    assert len(blocked.json()["errors"]["blockers"]) == 1
    assert "在途的包" in blocked.json()["errors"]["blockers"][0]
    me.refresh_from_db()
    assert me.phone == MY_PHONE

    consignment_services.seller_withdraw(item_id=item.pk, seller=me)
    done = api_client.post(f"/api/v1/deletion-requests/{deletion_request.pk}/erase", {"note": "ok"})

    assert done.status_code == 200
    assert done.json()["status"] == "completed"
    assert done.json()["member_name"] == "已****"
    me.refresh_from_db()
    assert me.phone == ""
    assert not me.is_active


def test_refuse_through_the_api(api_client, me, customer_service):
    deletion_request = _ask(me)
    api_client.login(customer_service)

    missing_note = api_client.post(f"/api/v1/deletion-requests/{deletion_request.pk}/refuse", {"note": ""})
    refused = api_client.post(f"/api/v1/deletion-requests/{deletion_request.pk}/refuse", {"note": "有未结订单"})

    assert missing_note.status_code == 422
    assert refused.status_code == 200
    assert refused.json()["status"] == "refused"
    assert refused.json()["note"] == "有未结订单"


def test_erased_members_token_stops_working(api_client, neighbour, customer_service):
    api_client.login(neighbour)
    deletion_request = _ask(neighbour)
    privacy.deletion_request_erase(actor=customer_service, request_id=deletion_request.pk)

    response = api_client.get("/api/v1/me/personal-data")

    assert response.status_code == 401
