"""Seller verification pages: the member's application, the reviewers' queue, detail, photos and decision."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.models import PersonalDataAccess, User
from erhuo.accounts.tests.factories import UserFactory
from erhuo.trust.models import SellerVerification, VerificationCheck
from erhuo.trust.tests.factories import (
    automatic_providers,
    id_number,
    id_photo,
    make_reviewer,
    make_verification,
    submit,
    trust_snapshot,
)

V = SellerVerification.Status
VERIFY = "/trust/verify/"
QUEUE = "/ops/trust/verifications/"


def detail_url(verification) -> str:
    return reverse("trust:ops_verification_detail", args=[verification.pk])


def decide_url(verification) -> str:
    return reverse("trust:ops_verification_decide", args=[verification.pk])


def photo_url(verification, side="front") -> str:
    return reverse("trust:ops_verification_photo", args=[verification.pk, side])


@pytest.fixture(autouse=True)
def _english():
    # The pages answer in English (the client's Accept-Language); expected messages are in English too.
    with translation.override("en"):
        yield


@pytest.fixture
def client():
    return Client(headers={"accept-language": "en"})


@pytest.fixture
def reviewer(db):
    return make_reviewer()


@pytest.fixture
def finance(db):
    return UserFactory(roles=[roles.FINANCE])


@pytest.fixture
def outsiders(member, intake_clerk, finance):
    """Every role that must not review: a member, an intake clerk, finance."""
    return [member, intake_clerk, finance]


@pytest.fixture
def masked_reviewer(db):
    """May review but not see identity documents in full."""
    user = UserFactory(roles=[roles.MEMBER])
    user.user_permissions.add(
        Permission.objects.get(codename="review_verification"),
        Permission.objects.get(codename="view_operator_console"),
    )
    return User.objects.get(pk=user.pk)


def form_data(**overrides) -> dict:
    data = {
        "real_name": "林小雨",
        "id_number": id_number(),
        "phone": "",
        "alipay_account": "lin@example.com",
        "sesame_score": "720",
        "id_photo_front": id_photo("front.png"),
        "id_photo_back": id_photo("back.png"),
    }
    data.update(overrides)
    return data


# --- the member's page ---------------------------------------------------------------------


def test_the_page_needs_a_login(client):
    response = client.get(VERIFY)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_member_who_has_not_started_sees_the_form(client, member):
    client.force_login(member)

    response = client.get(VERIFY)

    assert response.status_code == 200
    assert 'data-status="not_started"' in response.text
    assert 'data-testid="verification-form"' in response.text
    assert 'enctype="multipart/form-data"' in response.text
    assert member.masked_phone in response.text  # the phone field says which number is used by default


def test_applying_saves_the_application_and_shows_it_under_review(client, member):
    client.force_login(member)

    response = client.post(VERIFY, form_data())

    assert response.status_code == 302 and response.url == VERIFY
    verification = SellerVerification.objects.get(user=member)
    assert verification.status == V.SUBMITTED
    assert verification.phone == member.phone
    page = client.get(VERIFY)
    assert 'data-status="submitted"' in page.text
    assert 'data-testid="verification-form"' not in page.text
    assert verification.id_number not in page.text  # masked even for her
    assert verification.id_number_masked in page.text


def test_with_automatic_providers_the_member_is_a_seller_at_once(client, member, settings):
    automatic_providers(settings)
    client.force_login(member)

    client.post(VERIFY, form_data())

    page = client.get(VERIFY)
    assert 'data-status="approved"' in page.text
    assert User.objects.get(pk=member.pk).has_role(roles.SELLER)


def test_bad_input_shows_each_fields_message_keeps_what_was_typed_and_writes_nothing(client, member):
    client.force_login(member)
    before = trust_snapshot()

    response = client.post(
        VERIFY, form_data(id_number="110105194912310021", sesame_score="580", alipay_account="lin@example.com")
    )

    assert response.status_code == 422
    assert trust_snapshot() == before
    assert "its last digit does not match" in response.text
    assert "at least 600; yours is 580" in response.text
    assert 'value="110105194912310021"' in response.text
    assert 'value="lin@example.com"' in response.text
    assert 'value="林小雨"' in response.text


def test_a_missing_photo_is_reported_on_its_field(client, member):
    client.force_login(member)
    data = form_data()
    del data["id_photo_back"]

    response = client.post(VERIFY, data)

    assert response.status_code == 422
    assert "Upload a photo of this side of your ID card." in response.text
    assert not SellerVerification.objects.exists()


def test_a_duplicate_identity_is_refused_with_409_on_the_form(client, member, other_member):
    number = id_number()
    submit(other_member, id_number=number)
    client.force_login(member)

    response = client.post(VERIFY, form_data(id_number=number))

    assert response.status_code == 409
    assert "already used by another account" in response.text
    assert not SellerVerification.objects.filter(user=member).exists()


def test_a_rejected_member_sees_the_reason_and_note_and_may_apply_again(client, member):
    make_verification(member, status=V.REJECTED)
    client.force_login(member)

    page = client.get(VERIFY)

    assert 'data-status="rejected"' in page.text
    assert "The ID photos cannot be read" in page.text
    assert "照片太模糊" in page.text
    assert 'data-testid="verification-form"' in page.text


def test_an_approved_seller_sees_until_when(client, member):
    verification = make_verification(member, status=V.APPROVED)
    client.force_login(member)

    page = client.get(VERIFY)

    assert 'data-status="approved"' in page.text
    assert timezone.localtime(verification.expires_at).strftime("%Y-%m-%d") in page.text
    assert 'data-testid="verification-form"' not in page.text


def test_the_page_settles_an_overdue_approval_and_offers_the_form_again(client, member):
    verification = make_verification(member, status=V.APPROVED)
    SellerVerification.objects.filter(pk=verification.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    client.force_login(member)

    page = client.get(VERIFY)

    assert 'data-status="expired"' in page.text
    assert 'data-testid="verification-form"' in page.text
    assert SellerVerification.objects.get(pk=verification.pk).status == V.EXPIRED
    assert not User.objects.get(pk=member.pk).has_role(roles.SELLER)


# --- the reviewers' queue --------------------------------------------------------------------


def test_the_queue_lists_applications_oldest_first_masked(client, reviewer, member, other_member):
    first = submit(member)
    second = submit(other_member)
    client.force_login(reviewer)

    response = client.get(QUEUE)

    assert response.status_code == 200
    assert response.text.index(f'data-verification="{first.pk}"') < response.text.index(
        f'data-verification="{second.pk}"'
    )
    assert first.id_number not in response.text and first.id_number_masked in response.text
    assert "林小雨" not in response.text and "林**" in response.text


def test_the_queue_reads_a_constant_number_of_queries(client, reviewer, django_assert_max_num_queries):
    for _ in range(12):
        submit(UserFactory(roles=[roles.MEMBER]))
    client.force_login(reviewer)

    with django_assert_max_num_queries(10):
        response = client.get(QUEUE)

    assert response.text.count("data-verification=") == 12


def test_other_roles_are_refused_the_queue(client, outsiders):
    for user in outsiders:
        client.force_login(user)
        assert client.get(QUEUE).status_code == 403


# --- one application --------------------------------------------------------------------------


def test_the_verifying_role_sees_the_identity_whole_and_each_look_is_logged(client, reviewer, member):
    verification = submit(member)
    client.force_login(reviewer)

    first = client.get(detail_url(verification))
    second = client.get(detail_url(verification))

    assert first.status_code == second.status_code == 200
    assert 'data-unmasked="1"' in first.text
    assert verification.id_number in first.text and "林小雨" in first.text and member.phone in first.text
    assert photo_url(verification, "front") in first.text and photo_url(verification, "back") in first.text
    rows = list(PersonalDataAccess.objects.order_by("pk").values_list("actor", "subject", "reason", "path"))
    assert rows == [(reviewer.pk, member.pk, "identity_check", detail_url(verification))] * 2


def test_a_reviewer_without_the_documents_permission_sees_masked_data_and_no_photos(client, masked_reviewer, member):
    verification = submit(member)
    client.force_login(masked_reviewer)

    response = client.get(detail_url(verification))

    assert response.status_code == 200
    assert 'data-unmasked="0"' in response.text
    assert verification.id_number not in response.text and verification.id_number_masked in response.text
    assert member.phone not in response.text
    assert "/photos/" not in response.text
    assert PersonalDataAccess.objects.count() == 0
    assert client.get(photo_url(verification)).status_code == 403
    assert PersonalDataAccess.objects.count() == 0


def test_other_roles_get_404_for_an_application_and_nothing_is_logged(client, outsiders, other_member):
    verification = submit(other_member)
    for user in outsiders:
        client.force_login(user)
        assert client.get(detail_url(verification)).status_code == 404
        assert client.get(photo_url(verification)).status_code == 404
    assert PersonalDataAccess.objects.count() == 0


def test_a_member_cannot_open_even_her_own_application_on_the_review_pages(client, member):
    verification = submit(member)
    client.force_login(member)

    assert client.get(detail_url(verification)).status_code == 404


def test_an_id_photo_is_served_uncached_to_the_verifying_role_and_logged(client, reviewer, member):
    verification = submit(member)
    client.force_login(reviewer)

    response = client.get(photo_url(verification, "back"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store, private"
    assert response.content[:2] == b"\xff\xd8"
    access = PersonalDataAccess.objects.get()
    assert (access.actor_id, access.subject_id, access.fields) == (reviewer.pk, member.pk, ["id_photo_back"])


def test_an_unknown_photo_side_is_404(client, reviewer, member):
    verification = submit(member)
    client.force_login(reviewer)

    assert client.get(photo_url(verification, "left")).status_code == 404


# --- deciding ------------------------------------------------------------------------------------


def approve_data() -> dict:
    return {"decision": "approve", **{f"check_{kind}": "passed" for kind in VerificationCheck.Kind.values}}


def test_a_reviewer_approves_and_the_member_becomes_a_seller(client, reviewer, member):
    verification = submit(member)
    client.force_login(reviewer)

    response = client.post(decide_url(verification), approve_data())

    assert response.status_code == 302 and response.url == QUEUE
    verification.refresh_from_db()
    assert verification.status == V.APPROVED and verification.decided_by == reviewer
    assert User.objects.get(pk=member.pk).has_role(roles.SELLER)


def test_a_reviewer_rejects_with_a_reason_the_member_then_reads(client, reviewer, member):
    verification = submit(member)
    client.force_login(reviewer)

    client.post(
        decide_url(verification),
        {"decision": "reject", "reason": "alipay_mismatch", "note": "支付宝实名与身份证不一致"},
    )

    verification.refresh_from_db()
    assert (verification.status, verification.rejection_reason) == (V.REJECTED, "alipay_mismatch")
    client.force_login(member)
    page = client.get(VERIFY)
    assert "The Alipay account does not belong to the applicant" in page.text
    assert "支付宝实名与身份证不一致" in page.text


def test_a_refused_decision_shows_the_message_and_changes_nothing(client, reviewer, member):
    verification = submit(member)
    client.force_login(reviewer)
    before = trust_snapshot()

    no_reason = client.post(decide_url(verification), {"decision": "reject"})
    unchecked = client.post(decide_url(verification), {"decision": "approve", "check_identity": "passed"})

    assert no_reason.status_code == 422 and "Choose a reason." in no_reason.text
    assert unchecked.status_code == 422 and "Approve only when every check has passed" in unchecked.text
    assert trust_snapshot() == before


def test_other_roles_cannot_decide_and_nothing_changes(client, outsiders, other_member):
    verification = submit(other_member)
    before = trust_snapshot()
    for user in outsiders:
        client.force_login(user)
        assert client.post(decide_url(verification), approve_data()).status_code == 404
    assert trust_snapshot() == before


def test_the_operator_console_links_the_queue_for_reviewers_only(client, reviewer, intake_clerk):
    client.force_login(reviewer)
    assert 'data-testid="verification-queue-link"' in client.get("/ops/").text
    client.force_login(intake_clerk)
    assert 'data-testid="verification-queue-link"' not in client.get("/ops/").text
