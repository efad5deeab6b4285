import pytest
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_is_chinese_first(client):
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


def test_english_switch_sets_the_language(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Log in" in page


def test_navigation_shows_areas_by_role(client, member, owner):
    anonymous = [item["key"] for item in client.get("/").context["nav_items"]]
    assert anonymous == ["home", "sell", "login"]
    client.force_login(member)
    assert [item["key"] for item in client.get("/").context["nav_items"]] == ["home", "sell", "me"]
    client.force_login(owner)
    assert [item["key"] for item in client.get("/").context["nav_items"]] == ["home", "sell", "ops", "me"]


def test_operator_console_for_operators(client, intake_clerk):
    client.force_login(intake_clerk)
    response = client.get(reverse("web:operator_console"))
    assert response.status_code == 200
    assert [role.code for role in response.context["my_roles"]] == ["intake_clerk"]
    assert response.context["stats"]["members"] == 1


def test_seller_area_knows_the_seller(client, member):
    from erhuo.accounts import roles, services
    from erhuo.trust.tests.factories import make_verification

    client.force_login(member)
    assert client.get(reverse("web:seller_area")).context["is_seller"] is False
    # A role given by hand is not a verification
    services.role_grant(user=member, role=roles.SELLER, actor=None, check_actor=False)
    assert client.get(reverse("web:seller_area")).context["is_seller"] is False

    make_verification(member, status="approved")

    response = client.get(reverse("web:seller_area"))
    assert response.context["is_seller"] is True
    assert reverse("trust:deposit") in response.content.decode()


@override_settings(DEBUG=False)
def test_error_pages_in_site_style_without_debug_details(client, member):
    not_found = client.get("/no-such-page/")
    assert not_found.status_code == 404
    assert "web/error.html" in [t.name for t in not_found.templates]
    client.force_login(member)
    forbidden = client.get(reverse("web:operator_console"))
    assert forbidden.status_code == 403
    assert "web/error.html" in [t.name for t in forbidden.templates]


@override_settings(DEBUG=False)
def test_server_error_page_shows_no_stack_trace(member):
    from django.urls import path

    from erhuo import urls as project_urls

    def broken(request):
        raise RuntimeError("secret internal detail")

    browser = Client(raise_request_exception=False)
    original = list(project_urls.urlpatterns)
    project_urls.urlpatterns.insert(0, path("boom/", broken))
    project_urls.urlpatterns.insert(0, path("api/v1/boom", broken))
    from django.urls import clear_url_caches

    clear_url_caches()
    try:
        page = browser.get("/boom/")
        assert page.status_code == 500
        assert "secret internal detail" not in page.content.decode()
        assert "Traceback" not in page.content.decode()
        api = browser.get("/api/v1/boom")
        assert api.status_code == 500
        assert api.json()["code"] == "server_error"
        assert "secret" not in api.content.decode()
    finally:
        project_urls.urlpatterns[:] = original
        clear_url_caches()


def test_api_view_error_is_json_500(client, member, monkeypatch):
    from erhuo.accounts import api as accounts_api

    def broken(user):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(accounts_api, "_me", broken)
    browser = Client(raise_request_exception=False)
    browser.force_login(member)
    response = browser.get("/api/v1/me")
    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "detail": response.json()["detail"],
    }
    assert "secret" not in response.content.decode()


def test_csrf_failure_page(member):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(reverse("accounts:signup"), {})
    assert response.status_code == 403
    assert "web/error.html" in [t.name for t in response.templates]


def test_oversized_form_post_is_413_page(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    multipart = client.post(reverse("accounts:login"), {"username": "x" * 500, "password": "y"})
    assert multipart.status_code == 413
    urlencoded = client.post(
        reverse("accounts:login"), "username=" + "x" * 500, content_type="application/x-www-form-urlencoded"
    )
    assert urlencoded.status_code == 413


def test_static_vendor_files_carry_their_licence():
    from pathlib import Path

    vendor = Path(__file__).resolve().parents[1] / "static" / "web" / "vendor" / "htmx"
    assert (vendor / "htmx.min.js").stat().st_size > 10_000
    assert "Zero-Clause BSD" in (vendor / "LICENSE").read_text()


def test_home_query_count(client, member, django_assert_max_num_queries):
    client.force_login(member)
    with django_assert_max_num_queries(6):
        assert client.get("/").status_code == 200


def test_privacy_and_rules_pages_in_both_languages(client):
    privacy = client.get(reverse("web:privacy")).content.decode()
    assert "加密存储" in privacy
    rules = client.get(reverse("web:rules")).content.decode()
    assert "认领即承诺" in rules
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "encrypted in the database" in client.get(reverse("web:privacy")).content.decode()
    assert "A claim is a promise" in client.get(reverse("web:rules")).content.decode()


def test_favicon_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("web/favicon.svg")
