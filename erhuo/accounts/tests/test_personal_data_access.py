"""The personal data access log: written on every unmasked view, never changed afterwards."""

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse

from erhuo.accounts import roles, services
from erhuo.accounts.models import PersonalDataAccess
from erhuo.accounts.tests.factories import AddressFactory, UserFactory
from erhuo.core.errors import ValidationFailed
from erhuo.core.models import AppendOnlyError

pytestmark = pytest.mark.django_db


def test_record_takes_path_and_address_from_the_request(owner, member):
    # Given a request from a known address
    request = RequestFactory().post("/members/7/reveal/?x=1", REMOTE_ADDR="10.1.2.3")

    # When the access is recorded
    row = services.personal_data_access_record(
        actor=owner, subject=member, fields=["phone", "addresses"], reason="order_support", request=request
    )

    # Then every field is stored as given
    row = PersonalDataAccess.objects.get(pk=row.pk)
    assert row.actor == owner
    assert row.subject == member
    assert row.fields == ["phone", "addresses"]
    assert row.reason == "order_support"
    assert row.path == "/members/7/reveal/?x=1"
    assert row.ip_address == "10.1.2.3"
    assert row.actor_roles == ["owner"]


def test_record_without_a_request_has_no_path_or_address(owner, member):
    row = services.personal_data_access_record(actor=owner, subject=member, fields=["phone"], reason="legal_request")

    assert row.path == ""
    assert row.ip_address is None


def test_record_requires_a_reason_and_fields(owner, member):
    with pytest.raises(ValidationFailed) as error:
        services.personal_data_access_record(actor=owner, subject=member, fields=["phone"], reason="  ")
    assert error.value.code == "reason_required"
    with pytest.raises(ValidationFailed) as error:
        services.personal_data_access_record(actor=owner, subject=member, fields=[], reason="order_support")
    assert error.value.code == "fields_required"
    assert PersonalDataAccess.objects.count() == 0


def test_rows_are_append_only(owner, member):
    row = services.personal_data_access_record(actor=owner, subject=member, fields=["phone"], reason="legal_request")

    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        PersonalDataAccess.objects.all().update(reason="x")
    with pytest.raises(AppendOnlyError):
        PersonalDataAccess.objects.all().delete()
    assert PersonalDataAccess.objects.get().reason == "legal_request"


# --- the "show in full" on the member page ------------------------------------


@pytest.fixture
def customer_service(db):
    return UserFactory(roles=[roles.CUSTOMER_SERVICE])


@pytest.fixture
def subject(db):
    user = UserFactory(phone="13912340001", display_name="林小雨")
    AddressFactory(user=user, recipient_name="林小雨", recipient_phone="13955556666", detail="漕溪北路 88 号 1201")
    return user


def _reveal_url(user) -> str:
    return reverse("accounts:member_reveal", args=[user.pk])


def test_member_page_masks_personal_data_until_revealed(client, customer_service, subject):
    # Given customer service on a member's page
    client.force_login(customer_service)

    # When the page is opened
    page = client.get(reverse("accounts:member_detail", args=[subject.pk])).content.decode()

    # Then the phone and address are masked and a reveal form is offered; nothing is logged
    assert "139****0001" in page
    assert "13912340001" not in page
    assert "13955556666" not in page
    assert "漕溪北路" not in page
    assert "林**" in page
    assert 'data-testid="reveal-form"' in page
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_shows_everything_once_and_logs_it(client, customer_service, subject):
    client.force_login(customer_service)

    response = client.post(
        _reveal_url(subject), {"reason": "delivery_problem", "note": "订单 1024 无法派送"}, REMOTE_ADDR="10.0.0.8"
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "13912340001" in page
    assert "13955556666" in page
    assert "漕溪北路 88 号 1201" in page
    access = PersonalDataAccess.objects.get()
    assert access.actor == customer_service
    assert access.subject == subject
    assert access.fields == ["phone", "addresses"]
    assert access.reason == "delivery_problem"
    assert access.note == "订单 1024 无法派送"
    assert access.path == _reveal_url(subject)
    assert access.ip_address == "10.0.0.8"
    assert access.actor_roles == ["customer_service"]
    # Opening the page again shows it masked: "once" means once.
    again = client.get(reverse("accounts:member_detail", args=[subject.pk])).content.decode()
    assert "13912340001" not in again


@pytest.mark.parametrize("data", [{}, {"reason": "curiosity"}, {"reason": "order_support", "note": "x" * 301}])
def test_reveal_without_a_listed_reason_is_refused_and_not_logged(client, customer_service, subject, data):
    client.force_login(customer_service)

    response = client.post(_reveal_url(subject), data)

    assert response.status_code == 422
    assert "13912340001" not in response.content.decode()
    assert PersonalDataAccess.objects.count() == 0


@pytest.mark.parametrize("role", [roles.COMMUNITY_MANAGER, roles.INTAKE_CLERK, roles.FINANCE, roles.MEMBER])
def test_reveal_needs_the_permission(client, subject, role):
    # Given someone without accounts.view_member_pii (the community manager can list members)
    client.force_login(UserFactory(roles=[role]))

    # When they try to reveal, or open the member page
    response = client.post(_reveal_url(subject), {"reason": "order_support"})
    page = client.get(reverse("accounts:member_detail", args=[subject.pk]))

    # Then 403, nothing shown, nothing logged, and no reveal form offered
    assert response.status_code == 403
    assert "13912340001" not in response.content.decode()
    assert "reveal-form" not in page.content.decode()
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_of_an_unknown_member_is_404(client, customer_service):
    client.force_login(customer_service)

    assert (
        client.post(reverse("accounts:member_reveal", args=[999_999]), {"reason": "order_support"}).status_code == 404
    )
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_is_post_only(client, customer_service, subject):
    client.force_login(customer_service)

    assert client.get(_reveal_url(subject)).status_code == 405
    assert PersonalDataAccess.objects.count() == 0


def test_anonymous_reveal_is_refused(client, subject):
    response = client.post(_reveal_url(subject), {"reason": "order_support"})

    assert response.status_code in (302, 403)
    assert PersonalDataAccess.objects.count() == 0


# --- the same through the API ------------------------------------------------------


def test_api_reveal_returns_the_data_and_logs_it(api_client, customer_service, subject):
    api_client.login(customer_service)

    response = api_client.post(f"/api/v1/members/{subject.pk}/personal-data", {"reason": "identity_check"})

    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "13912340001"
    assert [address["recipient_phone"] for address in body["addresses"]] == ["13955556666"]
    access = PersonalDataAccess.objects.get()
    assert body["access_id"] == access.pk
    assert (access.actor, access.subject, access.reason) == (customer_service, subject, "identity_check")
    assert access.path == f"/api/v1/members/{subject.pk}/personal-data"


@pytest.mark.parametrize("role", [roles.COMMUNITY_MANAGER, roles.MEMBER])
def test_api_reveal_needs_the_permission(api_client, subject, role):
    api_client.login(UserFactory(roles=[role]))

    response = api_client.post(f"/api/v1/members/{subject.pk}/personal-data", {"reason": "identity_check"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "13912340001" not in response.content.decode()
    assert PersonalDataAccess.objects.count() == 0


def test_api_reveal_with_an_unknown_reason_is_422_and_not_logged(api_client, customer_service, subject):
    api_client.login(customer_service)

    response = api_client.post(f"/api/v1/members/{subject.pk}/personal-data", {"reason": "why not"})

    assert response.status_code == 422
    assert response.json()["code"] == "reason_required"
    assert PersonalDataAccess.objects.count() == 0


# --- the logs: the owner's, and the member's own -------------------------------------


def _log_some(customer_service, owner, subject, other):
    services.personal_data_access_record(
        actor=customer_service, subject=subject, fields=["phone"], reason="order_support"
    )
    services.personal_data_access_record(actor=owner, subject=other, fields=["addresses"], reason="legal_request")


def test_owner_reads_the_access_log_with_masked_subject_names(client, owner, customer_service, subject, other_member):
    _log_some(customer_service, owner, subject, other_member)
    client.force_login(owner)

    page = client.get(reverse("accounts:personal_data_access_log")).content.decode()

    assert page.count('data-testid="access-row"') == 2
    assert "林**" in page
    assert "林小雨" not in page
    assert "13912340001" not in page


def test_access_log_filters_by_subject_and_by_actor(client, owner, customer_service, subject, other_member):
    _log_some(customer_service, owner, subject, other_member)
    client.force_login(owner)
    url = reverse("accounts:personal_data_access_log")

    by_subject = client.get(url, {"subject": subject.username}).content.decode()
    by_phone = client.get(url, {"subject": "13912340001"}).content.decode()
    by_actor = client.get(url, {"actor": str(owner.pk)}).content.decode()
    unknown = client.get(url, {"actor": "nobody-here"}).content.decode()

    assert by_subject.count('data-testid="access-row"') == 1
    assert f"#{subject.pk}" in by_subject
    assert by_phone.count('data-testid="access-row"') == 1
    assert by_actor.count('data-testid="access-row"') == 1
    assert f"#{other_member.pk}" in by_actor
    assert unknown.count('data-testid="access-row"') == 0


def test_access_log_is_paginated(client, owner, customer_service, subject, django_assert_max_num_queries):
    for _ in range(35):
        services.personal_data_access_record(
            actor=customer_service, subject=subject, fields=["phone"], reason="order_support"
        )
    client.force_login(owner)

    with django_assert_max_num_queries(12):
        first = client.get(reverse("accounts:personal_data_access_log")).content.decode()
    second = client.get(reverse("accounts:personal_data_access_log"), {"page": 2}).content.decode()

    assert first.count('data-testid="access-row"') == 30
    assert second.count('data-testid="access-row"') == 5


@pytest.mark.parametrize("role", [roles.CUSTOMER_SERVICE, roles.COMMUNITY_MANAGER, roles.FINANCE, roles.MEMBER])
def test_access_log_is_for_the_owner_only(client, api_client, role):
    user = UserFactory(roles=[role])
    client.force_login(user)
    api_client.login(user)

    assert client.get(reverse("accounts:personal_data_access_log")).status_code == 403
    assert api_client.get("/api/v1/personal-data-access").status_code == 403


def test_api_access_log_for_the_owner(api_client, owner, customer_service, subject, other_member):
    _log_some(customer_service, owner, subject, other_member)
    api_client.login(owner)

    body = api_client.get("/api/v1/personal-data-access", subject=str(subject.pk)).json()

    assert body["count"] == 1
    row = body["items"][0]
    assert row["subject_id"] == subject.pk
    assert row["subject_name"] == "林**"
    assert row["actor_id"] == customer_service.pk
    assert row["fields"] == ["phone"]
    assert row["reason"] == "order_support"


def test_member_sees_who_looked_by_role_not_by_name(client, api_client, customer_service, owner, subject, other_member):
    _log_some(customer_service, owner, subject, other_member)
    api_client.login(subject)

    rows = api_client.get("/api/v1/me/personal-data/access-log").json()

    assert len(rows) == 1
    assert rows[0]["viewer_roles"] == [str(roles.ROLES[roles.CUSTOMER_SERVICE].label)]
    assert rows[0]["fields"] == ["phone"]
    assert customer_service.display_name not in json.dumps(rows, ensure_ascii=False)
    assert customer_service.username not in json.dumps(rows, ensure_ascii=False)
