"""Seller verification API: my standing, applying (multipart), the reviewers' queue, detail, photos, decision."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.models import PersonalDataAccess, User
from erhuo.accounts.tests.factories import UserFactory
from erhuo.trust.models import SellerVerification
from erhuo.trust.tests.factories import (
    automatic_providers,
    id_number,
    id_photo,
    make_reviewer,
    make_verification,
    submit,
    trust_snapshot,
)

pytestmark = pytest.mark.django_db

V = SellerVerification.Status
ALL_PASSED = {"identity": True, "phone": True, "alipay": True, "credit": True}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def reviewer(db):
    return make_reviewer()


@pytest.fixture
def finance(db):
    return UserFactory(roles=[roles.FINANCE])


def multipart(client, token, path, data):
    return client.post(path, data, headers={"Authorization": f"Bearer {token}"})


def apply_data(**overrides):
    data = {
        "real_name": "林小雨",
        "id_number": id_number(),
        "alipay_account": "13912345678",
        "sesame_score": "700",
        "id_photo_front": id_photo("front.png"),
        "id_photo_back": id_photo("back.png"),
    }
    data.update(overrides)
    return data


# --- the member ----------------------------------------------------------------------------


def test_a_member_who_has_not_started(api_client, member):
    api_client.login(member)

    response = api_client.get("/api/v1/trust/verification")

    assert response.status_code == 200
    assert response.json() == {
        "status": "not_started",
        "is_verified": False,
        "may_apply": True,
        "min_sesame_score": 600,
        "level": "new",
        "can_self_ship": False,
        "verification": None,
    }


def test_applying_over_multipart_answers_201_with_the_masked_application(client, api_client, member):
    token = api_client.login(member)
    number = id_number()

    response = multipart(client, token, "/api/v1/trust/verification", apply_data(id_number=number))

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["may_apply"]) == ("submitted", False)
    mine = body["verification"]
    assert mine["id_number"] == number[:4] + "**********" + number[-4:]
    assert (mine["real_name"], mine["alipay_account"], mine["sesame_score"]) == ("林**", "139****5678", 700)
    assert SellerVerification.objects.get(user=member).id_number == number


def test_with_automatic_providers_the_answer_says_approved(client, api_client, member, settings):
    automatic_providers(settings)
    token = api_client.login(member)

    body = multipart(client, token, "/api/v1/trust/verification", apply_data()).json()

    assert (body["status"], body["is_verified"], body["verification"]["valid_until"] is not None) == (
        "approved",
        True,
        True,
    )


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"id_number": "110105194912310021"}, 422, "id_number_checksum"),
        ({"sesame_score": "599"}, 422, "sesame_score_too_low"),
        ({"id_photo_back": None}, 422, "id_photo_required"),
    ],
)
def test_a_refused_application_answers_its_code_and_writes_nothing(client, api_client, member, overrides, status, code):
    token = api_client.login(member)
    data = {key: value for key, value in apply_data(**overrides).items() if value is not None}
    before = trust_snapshot()

    response = multipart(client, token, "/api/v1/trust/verification", data)

    assert response.status_code == status
    assert response.json()["code"] == code
    assert trust_snapshot() == before


def test_an_identity_in_use_is_409(client, api_client, member, other_member):
    number = id_number()
    submit(other_member, id_number=number)
    token = api_client.login(member)

    response = multipart(client, token, "/api/v1/trust/verification", apply_data(id_number=number))

    assert (response.status_code, response.json()["code"]) == (409, "id_number_in_use")


def test_the_api_needs_a_login(api_client):
    assert api_client.get("/api/v1/trust/verification").status_code == 401


# --- reviewers -------------------------------------------------------------------------------


def test_the_queue_is_masked_and_oldest_first(api_client, reviewer, member, other_member):
    first = submit(member)
    second = submit(other_member)
    api_client.login(reviewer)

    response = api_client.get("/api/v1/trust/verifications")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [row["id"] for row in items] == [first.pk, second.pk]
    assert items[0]["id_number"] == first.id_number_masked
    assert items[0]["real_name"] == "林**"
    assert [check["result"] for check in items[0]["checks"]] == ["pending"] * 4
    assert PersonalDataAccess.objects.count() == 0


def test_the_queue_reads_a_constant_number_of_queries(api_client, reviewer, django_assert_max_num_queries):
    for _ in range(12):
        submit(UserFactory(roles=[roles.MEMBER]))
    api_client.login(reviewer)

    with django_assert_max_num_queries(10):
        response = api_client.get("/api/v1/trust/verifications")

    assert response.json()["count"] == 12


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE])
def test_other_roles_are_refused_the_queue(api_client, role):
    api_client.login(UserFactory(roles=[role]))

    response = api_client.get("/api/v1/trust/verifications")

    assert (response.status_code, response.json()["code"]) == (403, "verification_review_denied")


def test_the_verifying_role_reads_an_application_whole_and_the_read_is_logged(api_client, reviewer, member):
    verification = submit(member)
    api_client.login(reviewer)

    body = api_client.get(f"/api/v1/trust/verifications/{verification.pk}").json()

    assert body["unmasked"] is True
    assert (body["real_name"], body["id_number"], body["phone"]) == ("林小雨", verification.id_number, member.phone)
    assert body["photos"] == ["front", "back"]
    access = PersonalDataAccess.objects.get()
    assert (access.actor_id, access.subject_id, access.path) == (
        reviewer.pk,
        member.pk,
        f"/api/v1/trust/verifications/{verification.pk}",
    )


def test_without_the_documents_permission_the_application_is_masked_and_nothing_logged(api_client, member):
    verification = submit(member)
    user = UserFactory(roles=[roles.MEMBER])
    user.user_permissions.add(Permission.objects.get(codename="review_verification"))
    api_client.login(User.objects.get(pk=user.pk))

    body = api_client.get(f"/api/v1/trust/verifications/{verification.pk}").json()
    photo = api_client.get(f"/api/v1/trust/verifications/{verification.pk}/photos/front")

    assert body["unmasked"] is False
    assert body["id_number"] == verification.id_number_masked and body["photos"] == []
    assert body["birth_date"] is None
    assert (photo.status_code, photo.json()["code"]) == (403, "identity_documents_denied")
    assert PersonalDataAccess.objects.count() == 0


def test_a_member_cannot_read_another_members_application_by_id(api_client, member, other_member):
    theirs = submit(other_member)
    mine = submit(member)
    api_client.login(member)

    for verification in (theirs, mine):
        response = api_client.get(f"/api/v1/trust/verifications/{verification.pk}")
        assert (response.status_code, response.json()["code"]) == (404, "verification_not_found")
        assert api_client.get(f"/api/v1/trust/verifications/{verification.pk}/photos/front").status_code == 404
    assert PersonalDataAccess.objects.count() == 0


@pytest.mark.parametrize("role", [roles.INTAKE_CLERK, roles.FINANCE])
def test_staff_without_the_review_permission_get_404(api_client, member, role):
    verification = submit(member)
    api_client.login(UserFactory(roles=[role]))

    assert api_client.get(f"/api/v1/trust/verifications/{verification.pk}").status_code == 404


def test_a_photo_is_a_logged_uncached_jpeg(api_client, reviewer, member):
    verification = submit(member)
    api_client.login(reviewer)

    response = api_client.get(f"/api/v1/trust/verifications/{verification.pk}/photos/front")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store, private"
    assert response.content[:2] == b"\xff\xd8"
    assert list(PersonalDataAccess.objects.values_list("fields", flat=True)) == [["id_photo_front"]]


def test_a_reviewer_approves_through_the_api(api_client, reviewer, member):
    verification = submit(member)
    api_client.login(reviewer)

    response = api_client.post(
        f"/api/v1/trust/verifications/{verification.pk}/decision", {"approve": True, "checks": ALL_PASSED}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert User.objects.get(pk=member.pk).has_role(roles.SELLER)


def test_a_rejection_without_a_reason_is_422_and_changes_nothing(api_client, reviewer, member):
    verification = submit(member)
    api_client.login(reviewer)
    before = trust_snapshot()

    response = api_client.post(f"/api/v1/trust/verifications/{verification.pk}/decision", {"approve": False})

    assert (response.status_code, response.json()["code"]) == (422, "rejection_reason_required")
    assert trust_snapshot() == before


def test_deciding_twice_is_409(api_client, reviewer, member):
    verification = make_verification(member, status=V.REJECTED, reviewer=reviewer)
    api_client.login(reviewer)

    response = api_client.post(
        f"/api/v1/trust/verifications/{verification.pk}/decision", {"approve": True, "checks": ALL_PASSED}
    )

    assert (response.status_code, response.json()["code"]) == (409, "verification_already_decided")


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE])
def test_other_roles_cannot_decide_and_nothing_changes(api_client, other_member, role):
    verification = submit(other_member)
    api_client.login(UserFactory(roles=[role]))
    before = trust_snapshot()

    response = api_client.post(
        f"/api/v1/trust/verifications/{verification.pk}/decision", {"approve": True, "checks": ALL_PASSED}
    )

    assert response.status_code == 404
    assert trust_snapshot() == before
