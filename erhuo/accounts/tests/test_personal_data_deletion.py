"""Deletion requests in accounts: asking, cancelling, refusing, and the erasure of what accounts holds.

The apps' blockers and erasers are passed in by the privacy orchestrator in
`web` (tested in erhuo/web/tests/test_privacy_*.py); here they are stand-ins.
"""

import os

import pytest
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client

from erhuo.accounts import roles, services
from erhuo.accounts.models import (
    AccountStatusChange,
    Address,
    ApiToken,
    DeletionRequest,
    DeletionRequestTransition,
    PersonalDataAccess,
    RoleChange,
    User,
    phone_digest,
)
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, UserFactory
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.pii import pii_digest
from erhuo.core.states import TransitionNotAllowed

pytestmark = pytest.mark.django_db

PHONE = "13912348888"


@pytest.fixture
def customer_service(db):
    return UserFactory(roles=[roles.CUSTOMER_SERVICE])


@pytest.fixture
def leaver(db):
    user = UserFactory(phone=PHONE, display_name="周晓岚", bio="两个娃的妈妈", city="杭州", roles=[roles.MEMBER])
    AddressFactory(user=user, recipient_name="周晓岚", recipient_phone="13966667777", detail="文三路 100 号")
    return user


def _no_blockers(user):
    return []


def _request(user) -> DeletionRequest:
    return services.deletion_request_create(user=user, password=DEFAULT_PASSWORD, reason="不再使用")


def _raw_user_row(user_id: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT username, display_name, phone, phone_digest, bio, city, avatar, is_active, status, password "
            "FROM accounts_user WHERE id = %s",
            [user_id],
        )
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def _raw_address_values(user_id: int) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT recipient_name, recipient_phone, detail FROM accounts_address WHERE user_id = %s", [user_id]
        )
        return cursor.fetchall()


# --- asking and cancelling ---------------------------------------------------------------


def test_request_needs_the_password_and_records_the_blockers(leaver):
    with pytest.raises(ValidationFailed) as error:
        services.deletion_request_create(user=leaver, password="wrong", reason="")
    assert error.value.code == "invalid_credentials"
    assert DeletionRequest.objects.count() == 0

    deletion_request = services.deletion_request_create(
        user=leaver, password=DEFAULT_PASSWORD, reason="搬家了", blockers=["1 件寄售商品仍在处理中"]
    )

    deletion_request.refresh_from_db()
    assert deletion_request.status == "requested"
    assert deletion_request.reason == "搬家了"
    assert deletion_request.blockers == ["1 件寄售商品仍在处理中"]
    assert [(row.from_state, row.to_state, row.actor) for row in deletion_request.transitions.all()] == [
        ("", "requested", leaver)
    ]


def test_only_one_open_request(leaver):
    first = _request(leaver)

    with pytest.raises(Conflict) as error:
        _request(leaver)

    assert error.value.code == "deletion_request_open"
    assert list(DeletionRequest.objects.values_list("pk", flat=True)) == [first.pk]


def test_cancel_own_request_then_ask_again(leaver):
    first = _request(leaver)

    services.deletion_request_cancel(user=leaver, request_id=first.pk)

    first.refresh_from_db()
    assert first.status == "cancelled"
    assert [row.to_state for row in first.transitions.all()] == ["requested", "cancelled"]
    second = _request(leaver)
    assert second.status == "requested"


def test_cancel_someone_elses_request_is_not_found_and_changes_nothing(leaver, other_member):
    deletion_request = _request(leaver)

    with pytest.raises(NotFound):
        services.deletion_request_cancel(user=other_member, request_id=deletion_request.pk)

    deletion_request.refresh_from_db()
    assert deletion_request.status == "requested"
    assert deletion_request.transitions.count() == 1


def test_cancel_a_decided_request_is_refused(leaver, customer_service):
    deletion_request = _request(leaver)
    services.deletion_request_refuse(actor=customer_service, request_id=deletion_request.pk, note="有未完成订单")

    with pytest.raises(TransitionNotAllowed):
        services.deletion_request_cancel(user=leaver, request_id=deletion_request.pk)

    deletion_request.refresh_from_db()
    assert deletion_request.status == "refused"


def test_closed_account_cannot_ask(leaver, owner):
    services.user_status_change(user=leaver, to="closed", actor=owner, note="")

    with pytest.raises(Conflict) as error:
        _request(leaver)

    assert error.value.code == "account_closed"
    assert DeletionRequest.objects.count() == 0


# --- refusing -------------------------------------------------------------------------


def test_refuse_records_decision_and_note(leaver, customer_service):
    deletion_request = _request(leaver)

    services.deletion_request_refuse(actor=customer_service, request_id=deletion_request.pk, note="仍有争议未结")

    deletion_request.refresh_from_db()
    assert deletion_request.status == "refused"
    assert deletion_request.decided_by == customer_service
    assert deletion_request.decided_at is not None
    assert deletion_request.note == "仍有争议未结"


def test_refuse_needs_a_note_and_the_permission(leaver, community_manager, customer_service):
    deletion_request = _request(leaver)

    with pytest.raises(ValidationFailed):
        services.deletion_request_refuse(actor=customer_service, request_id=deletion_request.pk, note=" ")
    with pytest.raises(PermissionRefused):
        services.deletion_request_refuse(actor=community_manager, request_id=deletion_request.pk, note="不行")
    with pytest.raises(PermissionRefused):
        services.deletion_request_refuse(actor=leaver, request_id=deletion_request.pk, note="算了")

    deletion_request.refresh_from_db()
    assert deletion_request.status == "requested"
    assert deletion_request.decided_by is None


# --- erasing ---------------------------------------------------------------------------


def test_erase_removes_personal_data_and_keeps_the_records(
    leaver, customer_service, django_capture_on_commit_callbacks
):
    # Given a member with an avatar, an address, a token, a session, a role history, an access row
    leaver.avatar.save("avatar.png", ContentFile(b"not really an image"), save=True)
    avatar_path = leaver.avatar.path
    services.api_token_issue(user=leaver, name="phone")
    session_client = Client()
    session_client.force_login(leaver)
    services.personal_data_access_record(
        actor=customer_service, subject=leaver, fields=["phone"], reason="order_support"
    )
    raw_before = _raw_user_row(leaver.pk)
    old_ciphertext = raw_before["phone"]
    assert old_ciphertext and PHONE not in old_ciphertext
    records_before = (
        RoleChange.objects.filter(user=leaver).count(),
        PersonalDataAccess.objects.filter(subject=leaver).count(),
    )
    deletion_request = _request(leaver)
    erased_by_apps = []

    # When customer service erases it
    with django_capture_on_commit_callbacks(execute=True):
        services.deletion_request_erase(
            actor=customer_service,
            request_id=deletion_request.pk,
            blockers_for=_no_blockers,
            erasers=[lambda *, user: erased_by_apps.append(user.pk)],
            note="已核实",
        )

    # Then the apps were asked, and the raw columns hold nothing of the old data
    assert erased_by_apps == [leaver.pk]
    raw = _raw_user_row(leaver.pk)
    assert raw["username"] == f"deleted-{leaver.pk}"
    assert raw["display_name"] == "已注销用户"
    assert raw["phone"] == ""
    assert raw["phone_digest"] == pii_digest(f"deleted:{leaver.pk}")
    assert raw["phone_digest"] != raw_before["phone_digest"]
    assert raw["phone_digest"] != phone_digest(PHONE)
    assert (raw["bio"], raw["city"], raw["avatar"]) == ("", "", "")
    assert not raw["is_active"]
    assert raw["status"] == "closed"
    assert raw["password"].startswith("!")
    assert _raw_address_values(leaver.pk) == []
    assert Address.objects.filter(user_id=leaver.pk).count() == 0
    # …nothing can find the person by phone or username any more
    assert not User.objects.filter(phone_digest=phone_digest(PHONE)).exists()
    assert not User.objects.filter(username=raw_before["username"]).exists()
    # …tokens are revoked, sessions gone, the avatar file deleted after commit
    assert ApiToken.objects.filter(user_id=leaver.pk, revoked_at__isnull=True).count() == 0
    assert all(session.get_decoded().get("_auth_user_id") != str(leaver.pk) for session in Session.objects.all())
    assert session_client.get("/accounts/me/").status_code == 302
    assert not os.path.exists(avatar_path)
    # …the audit rows are all still there, and the request is completed
    assert (
        RoleChange.objects.filter(user=leaver).count(),
        PersonalDataAccess.objects.filter(subject=leaver).count(),
    ) == records_before
    assert list(AccountStatusChange.objects.filter(subject=leaver).values_list("to_state", flat=True)) == ["closed"]
    deletion_request.refresh_from_db()
    assert deletion_request.status == "completed"
    assert deletion_request.decided_by == customer_service
    assert [row.to_state for row in DeletionRequestTransition.objects.filter(subject=deletion_request)] == [
        "requested",
        "completed",
    ]


def _snapshot(user: User) -> dict:
    """Everything an erasure changes: a refused one must leave it all as it was."""
    return {
        "user": _raw_user_row(user.pk),
        "addresses": _raw_address_values(user.pk),
        "live_tokens": ApiToken.objects.filter(user=user, revoked_at__isnull=True).count(),
        "sessions": Session.objects.count(),
        "status_changes": AccountStatusChange.objects.filter(subject=user).count(),
        "requests": list(DeletionRequest.objects.filter(user=user).values_list("status", "decided_by", "note")),
        "request_steps": DeletionRequestTransition.objects.count(),
    }


@pytest.fixture
def pending(leaver):
    services.api_token_issue(user=leaver, name="phone")
    Client().force_login(leaver)
    return _request(leaver)


def test_erase_is_refused_while_something_blocks_and_nothing_changes(leaver, customer_service, pending):
    before = _snapshot(leaver)
    erased = []

    with pytest.raises(services.DeletionBlocked) as error:
        services.deletion_request_erase(
            actor=customer_service,
            request_id=pending.pk,
            blockers_for=lambda user: ["押金账户仍有 ¥200.00"],
            erasers=[lambda *, user: erased.append(user.pk)],
        )

    assert error.value.code == "deletion_blocked"
    assert error.value.status == 409
    assert error.value.fields == {"blockers": ["押金账户仍有 ¥200.00"]}
    assert erased == []
    assert _snapshot(leaver) == before


@pytest.mark.parametrize("role", [roles.COMMUNITY_MANAGER, roles.FINANCE, roles.INTAKE_CLERK, roles.MEMBER])
def test_erase_needs_the_permission_and_changes_nothing(leaver, pending, role):
    before = _snapshot(leaver)

    with pytest.raises(PermissionRefused):
        services.deletion_request_erase(
            actor=UserFactory(roles=[role]), request_id=pending.pk, blockers_for=_no_blockers
        )

    assert _snapshot(leaver) == before


def test_the_member_cannot_erase_herself(leaver, pending):
    before = _snapshot(leaver)

    with pytest.raises(PermissionRefused):
        services.deletion_request_erase(actor=leaver, request_id=pending.pk, blockers_for=_no_blockers)

    assert _snapshot(leaver) == before


def test_an_operator_cannot_process_her_own_request(customer_service):
    own = _request(customer_service)
    before = _snapshot(customer_service)

    with pytest.raises(Conflict) as error:
        services.deletion_request_erase(actor=customer_service, request_id=own.pk, blockers_for=_no_blockers)

    assert error.value.code == "deletion_self_process"
    assert _snapshot(customer_service) == before


def test_an_app_failing_mid_erasure_rolls_everything_back(leaver, customer_service, pending):
    before = _snapshot(leaver)

    def failing_eraser(*, user):
        raise RuntimeError("storage unavailable")

    with pytest.raises(RuntimeError):
        services.deletion_request_erase(
            actor=customer_service, request_id=pending.pk, blockers_for=_no_blockers, erasers=[failing_eraser]
        )

    assert _snapshot(leaver) == before


def test_erasing_twice_is_refused(leaver, customer_service, pending):
    services.deletion_request_erase(actor=customer_service, request_id=pending.pk, blockers_for=_no_blockers)
    before = _snapshot(leaver)

    with pytest.raises(Conflict) as error:
        services.deletion_request_erase(actor=customer_service, request_id=pending.pk, blockers_for=_no_blockers)

    assert error.value.code == "deletion_request_decided"
    assert _snapshot(leaver) == before


def test_erase_an_unknown_request_is_not_found(customer_service):
    with pytest.raises(NotFound):
        services.deletion_request_erase(actor=customer_service, request_id=424242, blockers_for=_no_blockers)


def test_erasing_a_suspended_account_closes_it(leaver, customer_service, owner):
    services.user_status_change(user=leaver, to="suspended", actor=owner, note="发广告")
    deletion_request = _request(leaver)

    services.deletion_request_erase(actor=customer_service, request_id=deletion_request.pk, blockers_for=_no_blockers)

    leaver.refresh_from_db()
    assert leaver.status == "closed"
    assert list(AccountStatusChange.objects.filter(subject=leaver).values_list("to_state", flat=True)) == [
        "suspended",
        "closed",
    ]


def test_login_records_of_the_erased_account_are_deleted(leaver, customer_service, client):
    from axes.models import AccessAttempt, AccessFailureLog

    client.post("/accounts/login/", {"username": PHONE, "password": "wrong-password"}, REMOTE_ADDR="10.9.9.9")
    assert AccessAttempt.objects.filter(username=PHONE).count() == 1
    deletion_request = _request(leaver)

    services.deletion_request_erase(actor=customer_service, request_id=deletion_request.pk, blockers_for=_no_blockers)

    assert AccessAttempt.objects.filter(username=PHONE).count() == 0
    assert AccessFailureLog.objects.filter(username=PHONE).count() == 0


def test_accounts_itself_never_blocks(leaver):
    assert services.erase_blockers(user=leaver) == []
