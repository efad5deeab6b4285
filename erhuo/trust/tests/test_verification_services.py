"""Seller verification services: apply, every refusal (nothing written), providers, decide, expire, erase."""

import base64
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.models import PersonalDataAccess, RoleChange, User
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core.errors import DomainError
from erhuo.core.pii import pii_digest
from erhuo.trust import selectors
from erhuo.trust.models import (
    IdentityDocument,
    SellerVerification,
    SellerVerificationTransition,
    TrustPolicy,
    VerificationCheck,
)
from erhuo.trust.providers import CheckResult, VerificationProvider
from erhuo.trust.services import verification as services
from erhuo.trust.tests.factories import (
    automatic_providers,
    id_number,
    id_photo,
    make_reviewer,
    make_verification,
    submission,
    submit,
    trust_snapshot,
)

V = SellerVerification.Status
Kind = VerificationCheck.Kind
Result = VerificationCheck.Result
ALL_PASSED = {kind: True for kind in Kind.values}


def is_seller(user) -> bool:
    # A fresh read: User caches its role codes per instance.
    return User.objects.get(pk=user.pk).has_role(roles.SELLER)


@pytest.fixture(autouse=True)
def _english():
    # Messages are translated; compare them in English.
    with translation.override("en"):
        yield


@pytest.fixture
def reviewer(db):
    return make_reviewer()


def _refused(call, **kwargs) -> DomainError:
    before = trust_snapshot()
    with pytest.raises(DomainError) as caught:
        call(**kwargs)
    assert trust_snapshot() == before
    return caught.value


# --- applying ----------------------------------------------------------------------------


def test_an_application_is_saved_encrypted_with_its_checks_pending_for_review(member):
    number = id_number(birth=date(1991, 5, 20))

    verification = submit(member, id_number=number, real_name=" 林 小雨 ", alipay_account="Lin.XY@Example.com")

    assert verification.status == V.SUBMITTED
    assert verification.real_name == "林 小雨"
    assert verification.id_number == number
    assert verification.id_number_digest == pii_digest("id:" + number)
    assert verification.id_number_masked == number[:4] + "*" * 10 + number[-4:]
    assert verification.real_name_masked == "林***"
    assert verification.birth_date == date(1991, 5, 20)
    assert verification.phone == member.phone  # the account's phone by default
    assert verification.alipay_account == "lin.xy@example.com"
    assert verification.sesame_score == 720
    assert verification.expires_at is None
    assert [(c.kind, c.provider, c.result) for c in verification.checks.order_by("pk")] == [
        (Kind.IDENTITY, "operator_review", Result.PENDING),
        (Kind.PHONE, "operator_review", Result.PENDING),
        (Kind.ALIPAY, "operator_review", Result.PENDING),
        (Kind.CREDIT, "operator_review", Result.PENDING),
    ]
    assert list(verification.transitions.values_list("from_state", "to_state")) == [("", V.SUBMITTED)]
    assert not is_seller(member)


def test_personal_data_and_id_photos_are_not_stored_in_clear(member):
    number = id_number()
    verification = submit(member, id_number=number, real_name="林小雨")
    raw = SellerVerification.objects.filter(pk=verification.pk).values_list(
        "real_name", "id_number", "phone", "alipay_account"
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT real_name, id_number, phone, alipay_account FROM trust_sellerverification WHERE id = %s",
            [verification.pk],
        )
        stored = cursor.fetchone()
        cursor.execute("SELECT content FROM trust_identitydocument WHERE verification_id = %s", [verification.pk])
        photos = [row[0] for row in cursor.fetchall()]

    assert raw.get() == ("林小雨", number, member.phone, "13912345678")
    assert "林小雨" not in stored[0] and number not in stored[1] and member.phone not in stored[2]
    assert len(photos) == 2
    for token in photos:
        assert token.startswith("gAAAA")  # a Fernet token, not base64 of a JPEG (/9j/)
    front = IdentityDocument.objects.get(verification=verification, side="front")
    assert base64.b64decode(front.content)[:2] == b"\xff\xd8"  # decrypted: a JPEG


def test_a_given_phone_is_used_instead_of_the_account_phone(member):
    verification = submit(member, phone="+86 138-0013-8000")

    assert verification.phone == "13800138000"


def test_id_photos_are_downscaled_to_1600_pixels(member):
    verification = submit(member, id_photo_front=id_photo("big.png", width=3200, height=2000))

    front = verification.documents.get(side="front")
    assert (front.width, front.height) == (1600, 1000)


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"id_number": "11010519491231002"}, "id_number_format", "id_number"),
        ({"id_number": "110105194912310021"}, "id_number_checksum", "id_number"),
        ({"id_number": id_number(region="990101")}, "id_number_region", "id_number"),
        ({"id_number": id_number(birth=date(2015, 1, 1))}, "id_number_under_age", "id_number"),
        ({"real_name": ""}, "real_name_required", "real_name"),
        ({"real_name": "Lin 123"}, "real_name_invalid", "real_name"),
        ({"alipay_account": ""}, "alipay_account_required", "alipay_account"),
        ({"alipay_account": "not-an-account"}, "alipay_account_invalid", "alipay_account"),
        ({"phone": "12345"}, "invalid_phone", "phone"),
        ({"sesame_score": 200}, "sesame_score_invalid", "sesame_score"),
        ({"sesame_score": "abc"}, "sesame_score_invalid", "sesame_score"),
        ({"sesame_score": 599}, "sesame_score_too_low", "sesame_score"),
        ({"id_photo_front": None}, "id_photo_required", "id_photo_front"),
        (
            {"id_photo_back": id_photo("x.png").__class__("x.png", b"not an image", "image/png")},
            "image_invalid",
            "id_photo_back",
        ),
    ],
)
def test_bad_input_is_refused_with_its_code_and_field_and_nothing_written(member, overrides, code, field):
    error = _refused(services.verification_submit, user=member, **submission(**overrides))

    assert error.code == code
    assert list(error.fields) == [field]
    assert error.status == 422


def test_the_score_refusal_names_the_threshold_from_the_policy(member):
    TrustPolicy.current()
    TrustPolicy.objects.filter(pk=1).update(min_sesame_score=650)

    error = _refused(services.verification_submit, user=member, **submission(sesame_score=649))

    assert error.code == "sesame_score_too_low"
    assert "650" in str(error.message) and "649" in str(error.message)
    assert submit(member, sesame_score=650).sesame_score == 650


def test_several_bad_fields_are_all_reported_at_once(member):
    error = _refused(
        services.verification_submit, user=member, **submission(real_name="", id_number="123", sesame_score=100)
    )

    assert error.code == "validation_error"
    assert sorted(error.fields) == ["id_number", "real_name", "sesame_score"]


def test_an_id_number_live_in_another_account_is_refused(member, other_member):
    number = id_number()
    submit(other_member, id_number=number)

    error = _refused(services.verification_submit, user=member, **submission(id_number=number))

    assert error.code == "id_number_in_use"
    assert error.status == 409
    assert list(error.fields) == ["id_number"]


def test_an_id_number_approved_for_another_account_is_refused(member, other_member):
    number = id_number()
    make_verification(other_member, status=V.APPROVED, id_number=number)

    assert _refused(services.verification_submit, user=member, **submission(id_number=number)).code == (
        "id_number_in_use"
    )


def test_an_id_number_of_another_accounts_rejected_application_may_be_used(member, other_member):
    number = id_number()
    make_verification(other_member, status=V.REJECTED, id_number=number)

    assert submit(member, id_number=number).status == V.SUBMITTED


def test_a_second_application_while_one_is_under_review_is_refused(member):
    submit(member)

    error = _refused(services.verification_submit, user=member, **submission())

    assert error.code == "verification_pending"


def test_an_approved_seller_cannot_apply_again_while_valid(member):
    make_verification(member, status=V.APPROVED)

    error = _refused(services.verification_submit, user=member, **submission())

    assert error.code == "already_verified"


def test_a_rejected_or_expired_member_applies_again_with_a_new_row(member, other_member):
    rejected = make_verification(member, status=V.REJECTED)
    expired = make_verification(other_member, status=V.EXPIRED)

    again = submit(member, id_number=rejected.id_number)
    renewed = submit(other_member, id_number=expired.id_number)

    assert again.pk != rejected.pk and again.status == V.SUBMITTED
    assert renewed.pk != expired.pk and renewed.status == V.SUBMITTED


def test_an_inactive_account_cannot_apply(member):
    member.is_active = False
    member.save(update_fields=["is_active"])

    assert _refused(services.verification_submit, user=member, **submission()).code == "account_inactive"


# --- providers ----------------------------------------------------------------------------


def test_with_providers_that_pass_everything_the_member_is_approved_at_submission(member, settings):
    automatic_providers(settings)

    verification = submit(member)

    assert verification.status == V.APPROVED
    assert verification.decided_by is None
    assert verification.expires_at is not None
    assert set(verification.checks.values_list("provider", "result")) == {("automatic_pass", Result.PASSED)}
    assert is_seller(member)
    assert selectors.is_verified(member)


class FailingCreditProvider(VerificationProvider):
    name = "failing_credit"

    def check(self, verification):
        return CheckResult(Result.FAILED, "芝麻分查询为 580")


class BrokenProvider(VerificationProvider):
    name = "broken"

    def check(self, verification):
        raise RuntimeError("service down")


def test_a_failed_provider_check_rejects_with_the_matching_reason(member, settings):
    automatic_providers(settings)
    settings.ERHUO_VERIFICATION_PROVIDERS["credit"] = f"{__name__}.FailingCreditProvider"

    verification = submit(member)

    assert verification.status == V.REJECTED
    assert verification.rejection_reason == SellerVerification.RejectionReason.SCORE_TOO_LOW
    assert verification.rejection_note == "芝麻分查询为 580"
    assert not is_seller(member)


def test_a_provider_that_raises_leaves_the_check_pending_for_an_operator(member, settings):
    automatic_providers(settings)
    settings.ERHUO_VERIFICATION_PROVIDERS["identity"] = f"{__name__}.BrokenProvider"

    verification = submit(member)

    assert verification.status == V.SUBMITTED
    assert verification.checks.get(kind=Kind.IDENTITY).result == Result.PENDING
    assert verification.checks.exclude(kind=Kind.IDENTITY).filter(result=Result.PASSED).count() == 3


# --- deciding -------------------------------------------------------------------------------


def test_approving_passes_the_checks_grants_the_seller_role_and_sets_the_expiry(member, reviewer):
    verification = submit(member)
    before = timezone.now()

    services.verification_decide(verification_id=verification.pk, actor=reviewer, approve=True, checks=ALL_PASSED)

    verification.refresh_from_db()
    assert verification.status == V.APPROVED
    assert verification.decided_by == reviewer
    assert before + timedelta(days=365) <= verification.expires_at <= timezone.now() + timedelta(days=365)
    assert set(verification.checks.values_list("result", "decided_by")) == {(Result.PASSED, reviewer.pk)}
    assert verification.transitions.last().data == {"checks": {kind: Result.PASSED for kind in Kind.values}}
    assert is_seller(member)
    assert RoleChange.objects.filter(user=member, role=roles.SELLER, granted=True, actor=reviewer).count() == 1


def test_approving_uses_the_policy_validity(member, reviewer):
    TrustPolicy.current()
    TrustPolicy.objects.filter(pk=1).update(verification_valid_days=30)
    verification = submit(member)

    services.verification_decide(verification_id=verification.pk, actor=reviewer, approve=True, checks=ALL_PASSED)

    verification.refresh_from_db()
    assert (verification.expires_at - verification.decided_at) == timedelta(days=30)


def test_approving_with_a_check_not_passed_is_refused(member, reviewer):
    verification = submit(member)

    error = _refused(
        services.verification_decide,
        verification_id=verification.pk,
        actor=reviewer,
        approve=True,
        checks={**ALL_PASSED, "alipay": False},
    )
    assert error.code == "verification_checks_incomplete"
    error = _refused(
        services.verification_decide,
        verification_id=verification.pk,
        actor=reviewer,
        approve=True,
        checks={"identity": True},
    )
    assert error.code == "verification_checks_incomplete"


def test_rejecting_records_the_reason_and_note_and_grants_nothing(member, reviewer):
    verification = submit(member)

    services.verification_decide(
        verification_id=verification.pk,
        actor=reviewer,
        approve=False,
        checks={"identity": False},
        reason="id_unreadable",
        note="反面照片反光",
    )

    verification.refresh_from_db()
    assert verification.status == V.REJECTED
    assert (verification.rejection_reason, verification.rejection_note) == ("id_unreadable", "反面照片反光")
    assert verification.checks.get(kind=Kind.IDENTITY).result == Result.FAILED
    assert not is_seller(member)


def test_rejecting_needs_a_reason_and_other_needs_a_note(member, reviewer):
    verification = submit(member)

    without = _refused(
        services.verification_decide, verification_id=verification.pk, actor=reviewer, approve=False, reason=""
    )
    other = _refused(
        services.verification_decide, verification_id=verification.pk, actor=reviewer, approve=False, reason="other"
    )

    assert (without.code, list(without.fields)) == ("rejection_reason_required", ["reason"])
    assert (other.code, list(other.fields)) == ("rejection_note_required", ["note"])


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE, roles.COMMUNITY_MANAGER])
def test_only_reviewers_may_decide(member, role):
    verification = submit(member)
    outsider = UserFactory(roles=[role])

    error = _refused(
        services.verification_decide, verification_id=verification.pk, actor=outsider, approve=True, checks=ALL_PASSED
    )

    assert (error.code, error.status) == ("verification_review_denied", 403)


def test_a_reviewer_cannot_decide_her_own_application(reviewer):
    verification = submit(reviewer)

    error = _refused(
        services.verification_decide, verification_id=verification.pk, actor=reviewer, approve=True, checks=ALL_PASSED
    )

    assert error.code == "verification_self_review"


def test_a_decided_application_cannot_be_decided_again(member, reviewer):
    verification = make_verification(member, status=V.REJECTED, reviewer=reviewer)

    error = _refused(
        services.verification_decide, verification_id=verification.pk, actor=reviewer, approve=True, checks=ALL_PASSED
    )

    assert (error.code, error.status) == ("verification_already_decided", 409)


def test_an_unknown_check_or_application_is_refused(member, reviewer):
    verification = submit(member)

    unknown_check = _refused(
        services.verification_decide, verification_id=verification.pk, actor=reviewer, approve=True, checks={"x": 1}
    )
    unknown_row = _refused(
        services.verification_decide, verification_id=verification.pk + 99, actor=reviewer, approve=True, checks={}
    )

    assert unknown_check.code == "verification_check_unknown"
    assert (unknown_row.code, unknown_row.status) == ("verification_not_found", 404)


# --- expiry ------------------------------------------------------------------------------------


def test_an_approval_past_its_date_expires_and_takes_the_seller_role_back(member, reviewer):
    verification = make_verification(member, status=V.APPROVED, reviewer=reviewer)
    assert is_seller(member)

    later = verification.expires_at + timedelta(seconds=1)
    assert services.verifications_expire(now=verification.expires_at - timedelta(seconds=1)) == 0
    assert services.verifications_expire(now=later) == 1
    assert services.verifications_expire(now=later) == 0

    verification.refresh_from_db()
    assert verification.status == V.EXPIRED
    assert list(verification.transitions.values_list("to_state", flat=True)) == [V.SUBMITTED, V.APPROVED, V.EXPIRED]
    assert not is_seller(member)
    assert RoleChange.objects.filter(user=member, role=roles.SELLER, granted=False).count() == 1


def test_reading_the_status_settles_an_overdue_approval_without_the_worker(member):
    verification = make_verification(member, status=V.APPROVED)
    SellerVerification.objects.filter(pk=verification.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert selectors.is_verified(member) is False  # no write needed to know
    assert selectors.verification_status(member).status == V.EXPIRED
    assert SellerVerification.objects.get(pk=verification.pk).status == V.EXPIRED


# --- unmasked views, logged ---------------------------------------------------------------------


def test_revealing_an_identity_writes_one_access_row(member, reviewer):
    verification = submit(member)

    services.verification_identity_reveal(actor=reviewer, verification=verification)

    access = PersonalDataAccess.objects.get()
    assert (access.actor, access.subject) == (reviewer, member)
    assert access.fields == ["real_name", "id_number", "birth_date", "phone", "alipay_account"]
    assert access.reason == "identity_check"


def test_opening_an_id_photo_returns_the_jpeg_and_logs_it(member, reviewer):
    verification = submit(member)

    content, content_type = services.identity_document_open(
        actor=reviewer, verification_id=verification.pk, side="back"
    )

    assert content[:2] == b"\xff\xd8" and content_type == "image/jpeg"
    assert list(PersonalDataAccess.objects.values_list("fields", flat=True)) == [["id_photo_back"]]


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE, roles.COMMUNITY_MANAGER])
def test_only_the_verifying_role_sees_identities_and_photos(member, role):
    verification = submit(member)
    outsider = UserFactory(roles=[role])

    with pytest.raises(DomainError) as reveal:
        services.verification_identity_reveal(actor=outsider, verification=verification)
    with pytest.raises(DomainError) as photo:
        services.identity_document_open(actor=outsider, verification_id=verification.pk, side="front")

    assert reveal.value.code == photo.value.code == "identity_documents_denied"
    assert PersonalDataAccess.objects.count() == 0


# --- personal data: export and erasure --------------------------------------------------------------


def test_the_export_holds_the_members_own_data_in_full(member):
    number = id_number()
    submit(member, id_number=number)

    data = selectors.personal_data_export(user=member)

    (row,) = data["seller_verifications"]
    assert (row["real_name"], row["id_number"], row["phone"], row["alipay_account"]) == (
        "林小雨",
        number,
        member.phone,
        "13912345678",
    )
    assert [photo["side"] for photo in row["id_photos"]] == ["back", "front"]
    assert data["seller_record"] is None
    assert data["deposit"]["balance_fen"] == 0  # the deposits' section is part of the trust download


def test_an_application_under_review_blocks_erasure(member):
    submit(member)

    assert len(services.erase_blockers(user=member)) == 1
    assert _refused(services.personal_data_erase, user=member).code == "erase_blocked"


def test_erasing_keeps_only_the_digest_and_masked_values_of_approved_applications(member, other_member, reviewer):
    rejected = make_verification(member, status=V.REJECTED, reviewer=reviewer)
    approved = make_verification(member, status=V.APPROVED, reviewer=reviewer)
    untouched = submit(other_member)
    number = approved.id_number

    assert services.erase_blockers(user=member) == []
    assert services.personal_data_erase(user=member) == 2

    rejected.refresh_from_db()
    approved.refresh_from_db()
    for row in (rejected, approved):
        assert (row.real_name, row.id_number, row.phone, row.alipay_account, row.birth_date) == ("", "", "", "", None)
        assert row.erased_at is not None
        assert not row.documents.exists()
    assert (rejected.id_number_digest, rejected.id_number_masked, rejected.real_name_masked) == ("", "", "")
    assert approved.status == V.EXPIRED
    assert approved.id_number_digest == pii_digest("id:" + number)
    assert approved.id_number_masked == number[:4] + "**********" + number[-4:]
    assert approved.real_name_masked == "林**"
    assert not is_seller(member)
    assert untouched.documents.count() == 2
    assert SellerVerificationTransition.objects.filter(subject=approved, to_state=V.EXPIRED).count() == 1
