"""A NUL character in any text is refused with a 4xx before it reaches the database.

PostgreSQL cannot store or compare one (psycopg raises DataError, which would be a 500);
SQLite would quietly keep it. The fuzz test found it on PostgreSQL with an invite label.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

from erhuo.accounts import roles, services
from erhuo.accounts.models import User
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community.models import Invite
from erhuo.core.middleware import NulCharacterMiddleware

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_token():
    user = UserFactory(roles=[roles.MEMBER, roles.OWNER])
    return services.api_token_issue(user=user, name="nul")[1]


def _post_invite(client, token, body):
    return client.post(
        "/api/v1/community/invites",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_ACCEPT_LANGUAGE="en",
    )


NUL_REFUSED = {"code": "nul_character", "detail": "Text may not contain NUL characters."}


@pytest.mark.parametrize(
    "body",
    [
        '{"label": "3\\u0000月"}',
        '{"label": "ok", "extra": [{"a": "x"}, {"b": "\\u0000"}]}',
        '{"label": "ok", "k\\u0000": 1}',
    ],
)
def test_a_json_body_with_a_nul_in_any_string_is_400_and_nothing_is_created(client, owner_token, body):
    response = _post_invite(client, owner_token, body)

    assert response.status_code == 400
    assert response.json() == NUL_REFUSED
    assert Invite.objects.count() == 0


def test_a_json_body_of_another_declared_type_is_checked_too(client, owner_token):
    response = client.post(
        "/api/v1/community/invites",
        '{"label": "3\\u0000月"}',
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {owner_token}",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert Invite.objects.count() == 0


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(client, owner_token):
    response = _post_invite(client, owner_token, '{"label": "C:\\\\u0000"}')

    assert response.status_code == 201
    assert Invite.objects.get().label == "C:\\u0000"


def test_the_same_body_without_the_nul_creates_the_invite(client, owner_token):
    response = _post_invite(client, owner_token, '{"label": "3月"}')

    assert response.status_code == 201
    assert Invite.objects.get().label == "3月"


@pytest.mark.parametrize("url", ["/api/v1/community/invites/AB%00CD", "/api/v1/items?q=a%00b"])
def test_a_nul_in_an_api_path_or_query_is_400_json(client, owner_token, url):
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {owner_token}", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == NUL_REFUSED


def test_a_web_form_with_a_nul_is_400_and_nobody_is_signed_in(client):
    UserFactory(username="mama", password="erhuo2026-pass")

    with translation.override("en"):
        response = client.post("/accounts/login/", {"username": "ma\x00ma", "password": "erhuo2026-pass"})

    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert User.objects.filter(username="mama").count() == 1


def test_an_uploaded_file_may_hold_nul_bytes():
    reached = []

    def view(request):
        reached.append(request.FILES["photo"].read())
        return HttpResponse("ok")

    upload = SimpleUploadedFile("p.jpg", b"\xff\xd8\x00\x00binary", content_type="image/jpeg")
    request = RequestFactory().post("/sell/", {"title": "连衣裙", "photo": upload})

    response = NulCharacterMiddleware(view)(request)

    assert response.status_code == 200
    assert reached == [b"\xff\xd8\x00\x00binary"]
