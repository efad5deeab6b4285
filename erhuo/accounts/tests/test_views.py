import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from erhuo.accounts.models import Address, ApiToken, RoleChange, User
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "phone": "13800138000",
    "display_name": "小美",
    "city": "上海",
    "password": "Xiaomei-2026!",
    "password_again": "Xiaomei-2026!",
    "agree": "on",
}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (180, 70, 95)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_signup_creates_member_and_logs_in(client):
    response = client.post(reverse("accounts:signup"), SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")
    user = User.objects.get()
    assert user.display_name == "小美"
    profile = client.get(reverse("accounts:profile"))
    assert profile.status_code == 200
    assert "138****8000" in profile.content.decode()
    assert "13800138000" not in profile.content.decode()


def test_signup_with_taken_phone_shows_the_error_and_creates_nothing(client, member):
    response = client.post(reverse("accounts:signup"), SIGNUP | {"phone": member.phone})
    assert response.status_code == 422
    assert response.context["form"].errors["phone"]
    assert User.objects.count() == 1


def test_signup_with_mismatched_passwords(client):
    response = client.post(reverse("accounts:signup"), SIGNUP | {"password_again": "different-2026!"})
    assert response.status_code == 422
    assert "password_again" in response.context["form"].errors
    assert User.objects.count() == 0


def test_login_with_phone_then_logout_needs_post(client, member):
    response = client.post(reverse("accounts:login"), {"username": member.phone, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_login_redirects_only_to_safe_next(client, member):
    response = client.post(
        reverse("accounts:login") + "?next=https://evil.example/",
        {"username": member.username, "password": DEFAULT_PASSWORD},
    )
    assert response["Location"] == reverse("accounts:profile")
    client.logout()
    response = client.post(
        reverse("accounts:login"), {"username": member.username, "password": DEFAULT_PASSWORD, "next": "/sell/"}
    )
    assert response["Location"] == "/sell/"


def test_wrong_password_page_shows_error_and_locks_out(client, member):
    statuses = [
        client.post(reverse("accounts:login"), {"username": member.username, "password": "wrong"}).status_code
        for _ in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]
    locked = client.post(reverse("accounts:login"), {"username": member.username, "password": DEFAULT_PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_profile_edit_with_avatar(client, member):
    client.force_login(member)
    response = client.post(
        reverse("accounts:profile_edit"),
        {
            "display_name": "安安的妈",
            "city": "杭州",
            "bio": "二胎妈妈，喜欢轻奢包袋",
            "avatar": SimpleUploadedFile("me.png", _png(), content_type="image/png"),
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.display_name, member.city, member.bio) == ("安安的妈", "杭州", "二胎妈妈，喜欢轻奢包袋")
    assert member.avatar.name.endswith(".png")
    member.avatar.delete(save=False)


def test_profile_edit_refuses_a_fake_image_and_keeps_data(client, member):
    client.force_login(member)
    response = client.post(
        reverse("accounts:profile_edit"),
        {"display_name": "新名字", "avatar": SimpleUploadedFile("x.png", b"not an image", content_type="image/png")},
    )
    assert response.status_code == 422
    member.refresh_from_db()
    assert member.display_name != "新名字"
    assert not member.avatar


def test_password_change_page(client, member):
    client.force_login(member)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": DEFAULT_PASSWORD, "new_password": "Brand-new-2026!", "new_password_again": "Brand-new-2026!"},
    )
    assert response.status_code == 302
    # Still logged in after the change (session hash updated).
    assert client.get(reverse("accounts:profile")).status_code == 200
    member.refresh_from_db()
    assert member.check_password("Brand-new-2026!")


def test_address_pages_create_edit_delete(client, member):
    client.force_login(member)
    data = {
        "recipient_name": "林小雨",
        "recipient_phone": "13912345678",
        "province": "上海市",
        "city": "上海市",
        "district": "静安区",
        "detail": "南京西路 1000 号",
    }
    assert client.post(reverse("accounts:address_new"), data).status_code == 302
    address = Address.objects.get(user=member)
    assert address.is_default is True
    listing = client.get(reverse("accounts:addresses")).content.decode()
    assert "南京西路 1000 号" in listing
    client.post(reverse("accounts:address_edit", args=[address.pk]), data | {"detail": "南京西路 1001 号"})
    address.refresh_from_db()
    assert address.detail == "南京西路 1001 号"
    assert client.post(reverse("accounts:address_delete", args=[address.pk])).status_code == 302
    assert Address.objects.filter(user=member).count() == 0


def test_another_members_address_page_is_404(client, member, other_member):
    address = AddressFactory(user=other_member)
    client.force_login(member)
    assert client.get(reverse("accounts:address_edit", args=[address.pk])).status_code == 404
    assert client.post(reverse("accounts:address_delete", args=[address.pk])).status_code == 404
    assert Address.objects.filter(pk=address.pk).exists()


def test_token_page_shows_raw_token_once(client, member):
    client.force_login(member)
    response = client.post(reverse("accounts:tokens"), {"name": "脚本"})
    raw = response.context["new_token"]
    assert raw.startswith("eh_")
    assert raw in response.content.decode()
    assert raw not in client.get(reverse("accounts:tokens")).content.decode()
    assert ApiToken.objects.filter(user=member).count() == 1


def test_pages_need_login(client):
    for name in ["accounts:profile", "accounts:profile_edit", "accounts:addresses", "accounts:tokens"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_member_directory_refuses_members_and_allows_operators(client, member, owner):
    client.force_login(member)
    assert client.get(reverse("accounts:member_directory")).status_code == 403
    assert client.get(reverse("accounts:member_detail", args=[owner.pk])).status_code == 403
    assert client.get(reverse("web:operator_console")).status_code == 403
    client.force_login(owner)
    page = client.get(reverse("accounts:member_directory"), {"q": member.display_name})
    assert page.status_code == 200
    assert list(page.context["page"]) == [member]
    assert member.phone not in page.content.decode()


def test_member_cannot_grant_roles_by_posting(client, member, other_member):
    client.force_login(member)
    response = client.post(
        reverse("accounts:member_detail", args=[other_member.pk]), {"role": "owner", "action": "grant"}
    )
    assert response.status_code == 403
    assert other_member.groups.filter(name="owner").exists() is False
    assert RoleChange.objects.filter(role="owner").count() == 0


def test_community_manager_sees_directory_but_cannot_grant(client, community_manager, member):
    client.force_login(community_manager)
    response = client.post(reverse("accounts:member_detail", args=[member.pk]), {"role": "finance", "action": "grant"})
    assert response.status_code == 403
    assert member.groups.filter(name="finance").exists() is False


def test_owner_grants_role_in_the_console(client, owner, member):
    client.force_login(owner)
    response = client.post(
        reverse("accounts:member_detail", args=[member.pk]), {"role": "intake_clerk", "action": "grant"}
    )
    assert response.status_code == 302
    assert member.groups.filter(name="intake_clerk").exists()
    member.refresh_from_db()
    assert member.is_staff is True


def test_community_manager_suspends_with_reason(client, community_manager, member):
    client.force_login(community_manager)
    refused = client.post(reverse("accounts:member_detail", args=[member.pk]), {"to": "suspended", "note": ""})
    assert refused.status_code == 422
    member.refresh_from_db()
    assert member.status == "active"
    client.post(reverse("accounts:member_detail", args=[member.pk]), {"to": "suspended", "note": "发广告"})
    member.refresh_from_db()
    assert member.status == "suspended"
    # A suspended member cannot log in any more.
    other = Client()
    response = other.post(reverse("accounts:login"), {"username": member.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 401


def test_forms_need_csrf(member):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(reverse("accounts:login"), {"username": member.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session


def test_output_is_escaped(client, owner):
    UserFactory(display_name="<script>alert(1)</script>")
    client.force_login(owner)
    page = client.get(reverse("accounts:member_directory")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_profile_page_query_count(client, member, django_assert_max_num_queries):
    AddressFactory(user=member)
    client.force_login(member)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("accounts:profile")).status_code == 200


def test_member_directory_query_count_does_not_grow_with_members(client, owner, django_assert_max_num_queries):
    UserFactory.create_batch(40, roles=["member"])
    client.force_login(owner)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("accounts:member_directory")).status_code == 200
