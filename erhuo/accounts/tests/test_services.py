import pytest
from django.contrib.auth.models import Group
from django.test import RequestFactory

from erhuo.accounts import roles, services
from erhuo.accounts.models import AccountStatusChange, Address, ApiToken, RoleChange, User, phone_digest
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, UserFactory
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, RateLimited, ValidationFailed

pytestmark = pytest.mark.django_db

ADDRESS = {
    "label": "家",
    "recipient_name": "林小雨",
    "recipient_phone": "139 1234 5678",
    "province": "上海市",
    "city": "上海市",
    "district": "徐汇区",
    "detail": "漕溪北路 88 号",
    "postal_code": "200030",
}


def test_user_create_stores_phone_encrypted_with_blind_index_and_member_role():
    user = services.user_create(phone="+86 138-0013-8000", display_name=" 小美 ", password="Xiaomei-2026!", city="杭州")

    user.refresh_from_db()
    assert user.phone == "13800138000"
    assert user.phone_digest == phone_digest("13800138000")
    assert user.display_name == "小美"
    assert user.city == "杭州"
    assert user.username.startswith("u") and len(user.username) == 9
    assert user.role_codes() == {"member"}
    assert user.check_password("Xiaomei-2026!")
    assert list(RoleChange.objects.filter(user=user).values_list("role", "granted")) == [("member", True)]


def test_duplicate_phone_is_refused_and_nothing_is_created(member):
    with pytest.raises(ValidationFailed) as error:
        services.user_create(phone=member.phone, display_name="另一个", password="Another-2026!")
    assert error.value.code == "phone_taken"
    assert "phone" in error.value.fields
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"phone": "12345"}, "invalid_phone"),
        ({"display_name": "   "}, "display_name_required"),
        ({"password": "123"}, "weak_password"),
        ({"password": "12345678"}, "weak_password"),
        ({"username": "a b"}, "invalid_username"),
    ],
)
def test_user_create_validates_before_writing(kwargs, code):
    data = {"phone": "13800138000", "display_name": "小美", "password": "Xiaomei-2026!"} | kwargs
    with pytest.raises(ValidationFailed) as error:
        services.user_create(**data)
    assert error.value.code == code
    assert User.objects.count() == 0


def test_taken_username_is_refused_case_insensitively(member):
    with pytest.raises(ValidationFailed) as error:
        services.user_create(
            phone="13800138000", display_name="小美", password="Xiaomei-2026!", username=member.username.upper()
        )
    assert error.value.code == "username_taken"


def test_login_check_accepts_phone_or_username(member):
    request = RequestFactory().post("/accounts/login/")
    assert services.login_check(request=request, username=member.phone, password=DEFAULT_PASSWORD) == member
    request = RequestFactory().post("/accounts/login/")
    assert services.login_check(request=request, username=member.username, password=DEFAULT_PASSWORD) == member


def test_login_check_same_message_for_unknown_and_wrong(member):
    with pytest.raises(services.InvalidCredentials) as wrong:
        services.login_check(request=RequestFactory().post("/"), username=member.username, password="nope")
    with pytest.raises(services.InvalidCredentials) as unknown:
        services.login_check(request=RequestFactory().post("/"), username="nobody", password="nope")
    assert str(wrong.value.message) == str(unknown.value.message)


def test_lockout_after_five_failures_even_with_the_right_password(member):
    for _ in range(4):
        with pytest.raises(services.InvalidCredentials):
            services.login_check(request=RequestFactory().post("/"), username=member.username, password="wrong")
    # The fifth failure locks the account for this address...
    with pytest.raises(services.AccountLocked):
        services.login_check(request=RequestFactory().post("/"), username=member.username, password="wrong")
    # ...and then even the right password is refused.
    with pytest.raises(services.AccountLocked) as error:
        services.login_check(request=RequestFactory().post("/"), username=member.username, password=DEFAULT_PASSWORD)
    assert error.value.status == 429


def test_rate_limit_per_address(member, settings):
    settings.ERHUO_LOGIN_RATE_PER_MINUTE = 2
    for _ in range(2):
        services.login_check(request=RequestFactory().post("/"), username=member.username, password=DEFAULT_PASSWORD)
    with pytest.raises(RateLimited):
        services.login_check(request=RequestFactory().post("/"), username=member.username, password=DEFAULT_PASSWORD)


def test_profile_update_refuses_empty_name_and_keeps_old_values(member):
    with pytest.raises(ValidationFailed):
        services.user_profile_update(user=member, display_name="", bio="新简介")
    member.refresh_from_db()
    assert member.bio == ""
    assert member.display_name.startswith("小林")


def test_password_change_revokes_tokens(member):
    token, _raw = services.api_token_issue(user=member)
    services.user_password_change(user=member, old_password=DEFAULT_PASSWORD, new_password="Brand-new-2026!")
    member.refresh_from_db()
    assert member.check_password("Brand-new-2026!")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_password_change_with_wrong_old_password_changes_nothing(member):
    with pytest.raises(ValidationFailed) as error:
        services.user_password_change(user=member, old_password="wrong", new_password="Brand-new-2026!")
    assert error.value.code == "invalid_credentials"
    member.refresh_from_db()
    assert member.check_password(DEFAULT_PASSWORD)


def test_tokens_store_only_a_digest(member):
    token, raw = services.api_token_issue(user=member, name="脚本")
    assert raw.startswith("eh_")
    assert token.digest == services.token_digest(raw)
    assert raw not in {token.digest, token.prefix}
    assert token.prefix == raw[:10]
    assert not ApiToken.objects.filter(digest=raw).exists()


def test_first_address_becomes_default_and_only_one_default(member):
    first = services.address_create(user=member, data=ADDRESS)
    second = services.address_create(user=member, data=ADDRESS | {"label": "公司"}, make_default=True)
    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    assert second.recipient_phone == "13912345678"


def test_deleting_the_default_promotes_another(member):
    first = services.address_create(user=member, data=ADDRESS)
    second = services.address_create(user=member, data=ADDRESS)
    services.address_delete(user=member, address_id=first.pk)
    second.refresh_from_db()
    assert second.is_default is True


def test_address_validation_lists_each_bad_field(member):
    with pytest.raises(ValidationFailed) as error:
        services.address_create(
            user=member, data=ADDRESS | {"recipient_phone": "123", "detail": "", "postal_code": "12"}
        )
    assert set(error.value.fields) == {"recipient_phone", "detail", "postal_code"}
    assert Address.objects.count() == 0


def test_address_limit(member):
    for _ in range(Address.MAX_PER_USER):
        AddressFactory(user=member, is_default=False)
    with pytest.raises(Conflict) as error:
        services.address_create(user=member, data=ADDRESS)
    assert error.value.code == "address_limit"
    assert Address.objects.filter(user=member).count() == Address.MAX_PER_USER


def test_someone_elses_address_is_not_found(member, other_member):
    address = AddressFactory(user=other_member)
    with pytest.raises(NotFound):
        services.address_update(user=member, address_id=address.pk, data=ADDRESS | {"detail": "hijack"})
    with pytest.raises(NotFound):
        services.address_delete(user=member, address_id=address.pk)
    address.refresh_from_db()
    assert address.detail == "漕溪北路 88 号 3 栋 1201"


def test_owner_grants_operator_role_which_makes_staff_and_is_recorded(owner, member):
    assert services.role_grant(user=member, role=roles.INTAKE_CLERK, actor=owner, note="新同事") is True
    member.refresh_from_db()
    assert member.is_staff is True
    assert member.has_perm("accounts.view_operator_console")
    assert list(
        RoleChange.objects.filter(user=member, role="intake_clerk").values_list("granted", "actor_id", "note")
    ) == [(True, owner.pk, "新同事")]
    assert services.role_revoke(user=member, role=roles.INTAKE_CLERK, actor=owner) is True
    member = User.objects.get(pk=member.pk)
    assert member.is_staff is False


def test_a_non_owner_cannot_grant_roles_and_nothing_changes(community_manager, member):
    with pytest.raises(PermissionRefused):
        services.role_grant(user=member, role=roles.OWNER, actor=community_manager)
    assert member.groups.filter(name="owner").exists() is False
    assert RoleChange.objects.filter(user=member, role="owner").exists() is False


def test_owner_cannot_remove_own_owner_role(owner):
    with pytest.raises(Conflict):
        services.role_revoke(user=owner, role=roles.OWNER, actor=owner)
    assert owner.groups.filter(name="owner").exists()


def test_roles_sync_gives_groups_their_permissions():
    services.roles_sync()
    owner_group = Group.objects.get(name="owner")
    codenames = set(owner_group.permissions.values_list("codename", flat=True))
    assert {"manage_roles", "view_member_pii", "view_operator_console"} <= codenames
    assert set(Group.objects.get(name="member").permissions.all()) == set()
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)


def test_suspension_needs_a_reason_and_the_right_role(community_manager, member, other_member):
    with pytest.raises(ValidationFailed):
        services.user_status_change(user=member, to="suspended", actor=community_manager, note="")
    with pytest.raises(PermissionRefused):
        services.user_status_change(user=member, to="suspended", actor=other_member, note="spam")
    member.refresh_from_db()
    assert member.status == "active"
    assert AccountStatusChange.objects.count() == 0

    token, _raw = services.api_token_issue(user=member)
    services.user_status_change(user=member, to="suspended", actor=community_manager, note="发广告")
    member.refresh_from_db()
    token.refresh_from_db()
    assert (member.status, member.is_active) == ("suspended", False)
    assert token.revoked_at is not None


def test_unknown_role_is_refused(owner, member):
    with pytest.raises(ValidationFailed):
        services.role_grant(user=member, role="emperor", actor=owner)


def test_factory_users_have_distinct_phones():
    first, second = UserFactory(), UserFactory()
    assert first.phone_digest != second.phone_digest


@pytest.mark.parametrize("username", ["apply", "Standards", "application", "ops"])
def test_a_reserved_username_is_refused(db, username):
    with pytest.raises(ValidationFailed) as refused:
        services.user_create(phone="13700001111", display_name="小林", password="Erhuo-test-2026", username=username)
    assert refused.value.code == "username_taken"
    assert not User.objects.filter(phone_digest=phone_digest("13700001111")).exists()
