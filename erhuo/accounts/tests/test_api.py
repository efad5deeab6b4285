import json
from datetime import timedelta

import pytest
from django.utils import timezone

from erhuo.accounts import roles, services
from erhuo.accounts.models import Address, ApiToken, RoleChange, User
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "recipient_name": "林小雨",
    "recipient_phone": "13912345678",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路 100 号",
}


def test_health_reports_database_vendor(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    from django.db import connection

    assert response.json() == {"status": "ok", "database": connection.vendor}


def test_openapi_document_and_docs_are_served(client):
    document = client.get("/api/v1/openapi.json").json()
    assert document["info"]["title"] == "二货 Erhuo API"
    assert {"/api/v1/health", "/api/v1/auth/token", "/api/v1/me"} <= set(document["paths"])
    assert client.get("/api/v1/docs").status_code == 200


def test_token_for_phone_and_password_then_me(api_client, member):
    response = api_client.post("/api/v1/auth/token", {"username": member.phone, "password": DEFAULT_PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"token", "token_id", "expires_at"}
    token_row = ApiToken.objects.get(pk=body["token_id"])
    assert token_row.digest == services.token_digest(body["token"])

    me = api_client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == member.pk
    assert me.json()["phone"] == f"{member.phone[:3]}****{member.phone[-4:]}"
    assert me.json()["roles"] == [{"code": "member", "label": str(roles.ROLES["member"].label)}]


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "not_authenticated"),
        ({"Authorization": "Bearer eh_not-a-real-token"}, "invalid_token"),
        ({"Authorization": "Basic abc"}, "not_authenticated"),
    ],
)
def test_missing_or_bad_token_is_401_json(client, headers, code):
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response.json()["detail"]


def test_expired_token_is_401_token_expired(client, member):
    token, raw = services.api_token_issue(user=member)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_revoked_token_is_refused(client, member):
    token, raw = services.api_token_issue(user=member)
    services.api_token_revoke(user=member, token_id=token.pk)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}).json()["code"] == "invalid_token"


def test_suspended_users_token_is_refused(client, member, community_manager):
    _token, raw = services.api_token_issue(user=member)
    User.objects.filter(pk=member.pk).update(is_active=False)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401


def test_wrong_password_is_401_and_issues_nothing(api_client, member):
    response = api_client.post("/api/v1/auth/token", {"username": member.username, "password": "wrong"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert ApiToken.objects.count() == 0


def test_token_endpoint_locks_out_after_repeated_failures(api_client, member):
    codes = [
        api_client.post("/api/v1/auth/token", {"username": member.username, "password": "wrong"}).status_code
        for _ in range(5)
    ]
    assert codes == [401, 401, 401, 401, 429]
    response = api_client.post("/api/v1/auth/token", {"username": member.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "account_locked"
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("{not json", 400, "malformed_body"),
        ('{"username": "a"}', 422, "validation_error"),
        ("[1, 2]", 422, "validation_error"),
        ('{"username": 1, "password": {"a": 1}}', 422, "validation_error"),
        ("\xff\xfe", 400, "malformed_body"),
    ],
)
def test_malformed_bodies_are_4xx_json_never_500(api_client, raw, status, code):
    response = api_client.post("/api/v1/auth/token", raw=raw)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == code


def test_oversized_body_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(
        "/api/v1/auth/token", json.dumps({"username": "x" * 2000, "password": "y"}), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_signup_api_creates_member_and_refuses_duplicate(api_client):
    payload = {"phone": "13800138000", "display_name": "小美", "password": "Xiaomei-2026!"}
    first = api_client.post("/api/v1/auth/signup", payload)
    assert first.status_code == 201
    assert first.json()["phone"] == "138****8000"
    second = api_client.post("/api/v1/auth/signup", payload | {"display_name": "冒名"})
    assert second.status_code == 422
    assert second.json()["code"] == "phone_taken"
    assert second.json()["errors"]["phone"]
    assert User.objects.count() == 1


def test_profile_update_via_api(api_client, member):
    api_client.login(member)
    response = api_client.patch("/api/v1/me", {"display_name": "小雨妈妈", "city": "成都", "bio": "喜欢通勤穿搭"})
    assert response.status_code == 200
    member.refresh_from_db()
    assert (member.display_name, member.city, member.bio) == ("小雨妈妈", "成都", "喜欢通勤穿搭")


def test_password_change_via_api_revokes_the_token_used(api_client, member):
    api_client.login(member)
    response = api_client.post(
        "/api/v1/me/password", {"old_password": DEFAULT_PASSWORD, "new_password": "Brand-new-2026!"}
    )
    assert response.status_code == 204
    assert api_client.get("/api/v1/me").status_code == 401


def test_address_crud_via_api(api_client, member):
    api_client.login(member)
    created = api_client.post("/api/v1/me/addresses", ADDRESS)
    assert created.status_code == 201
    address_id = created.json()["id"]
    assert created.json()["is_default"] is True
    updated = api_client.put(f"/api/v1/me/addresses/{address_id}", ADDRESS | {"detail": "文三路 200 号"})
    assert updated.status_code == 200
    assert Address.objects.get(pk=address_id).detail == "文三路 200 号"
    assert [a["id"] for a in api_client.get("/api/v1/me/addresses").json()] == [address_id]
    assert api_client.delete(f"/api/v1/me/addresses/{address_id}").status_code == 204
    assert Address.objects.filter(pk=address_id).exists() is False


def test_address_validation_error_names_fields(api_client, member):
    api_client.login(member)
    response = api_client.post("/api/v1/me/addresses", ADDRESS | {"recipient_phone": "123"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"recipient_phone"}
    assert Address.objects.count() == 0


def test_a_member_cannot_read_or_change_anothers_address(api_client, member, other_member):
    address = AddressFactory(user=other_member)
    api_client.login(member)
    assert api_client.get(f"/api/v1/me/addresses/{address.pk}").status_code == 404
    assert api_client.put(f"/api/v1/me/addresses/{address.pk}", ADDRESS).status_code == 404
    assert api_client.delete(f"/api/v1/me/addresses/{address.pk}").status_code == 404
    address.refresh_from_db()
    assert address.detail == "漕溪北路 88 号 3 栋 1201"
    assert api_client.get("/api/v1/me/addresses").json() == []


def test_member_directory_is_for_operators_only_and_masks_phones(api_client, member, owner):
    api_client.login(member)
    refused = api_client.get("/api/v1/members")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"

    api_client.login(owner)
    response = api_client.get("/api/v1/members", q=member.display_name)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == [member.pk]
    assert items[0]["phone"] == f"{member.phone[:3]}****{member.phone[-4:]}"
    assert member.phone not in json.dumps(response.json())


def test_member_search_by_full_phone(api_client, owner, member, other_member):
    api_client.login(owner)
    items = api_client.get("/api/v1/members", q=other_member.phone).json()["items"]
    assert [item["id"] for item in items] == [other_member.pk]


def test_role_grant_via_api_needs_owner_and_changes_nothing_otherwise(api_client, member, community_manager, owner):
    api_client.login(community_manager)
    refused = api_client.post(f"/api/v1/members/{member.pk}/roles", {"role": "finance"})
    assert refused.status_code == 403
    assert member.groups.filter(name="finance").exists() is False
    assert RoleChange.objects.filter(role="finance").count() == 0

    api_client.login(owner)
    granted = api_client.post(f"/api/v1/members/{member.pk}/roles", {"role": "finance"})
    assert granted.status_code == 200
    assert "finance" in granted.json()["roles"]
    revoked = api_client.delete(f"/api/v1/members/{member.pk}/roles/finance")
    assert "finance" not in revoked.json()["roles"]


def test_status_change_via_api(api_client, member, community_manager):
    api_client.login(community_manager)
    response = api_client.post(f"/api/v1/members/{member.pk}/status", {"to": "suspended", "note": "广告"})
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"
    again = api_client.post(f"/api/v1/members/{member.pk}/status", {"to": "suspended", "note": "广告"})
    assert again.status_code == 409
    assert again.json()["code"] == "transition_not_allowed"


def test_session_auth_needs_csrf_for_writes(member):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member)
    assert browser.get("/api/v1/me").status_code == 200
    response = browser.patch("/api/v1/me", json.dumps({"display_name": "x"}), content_type="application/json")
    assert response.status_code in {401, 403}
    member.refresh_from_db()
    assert member.display_name != "x"


def test_token_list_shows_no_secrets(api_client, member):
    api_client.login(member)
    tokens = api_client.get("/api/v1/me/tokens").json()
    assert len(tokens) == 1
    assert "digest" not in tokens[0]
    assert api_client.token not in json.dumps(tokens)


def test_other_members_token_cannot_be_revoked(api_client, member, other_member):
    token, _raw = services.api_token_issue(user=other_member)
    api_client.login(member)
    assert api_client.delete(f"/api/v1/me/tokens/{token.pk}").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_multipart_body_without_a_boundary_is_400_json_not_500(client):
    response = client.post(
        "/api/v1/auth/token", data=b'{"username": "a", "password": "b"}', content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_body"


@pytest.mark.parametrize("page", ["100000000000000000000", "0", "-1"])
def test_an_impossible_page_number_is_422_not_500(api_client, owner, page):
    api_client.login(owner)

    response = api_client.get("/api/v1/members", page=page)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
