"""The experts API: public directory and profiles, my application, the reviewers' routes, my commissions.
A wrong role is refused and nothing changes; another member's application is never readable."""

import pytest
from django.test import Client
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.models import User
from erhuo.accounts.services import api_token_issue
from erhuo.accounts.tests.factories import UserFactory
from erhuo.experts import services
from erhuo.experts.models import Expert, ExpertApplication
from erhuo.experts.tests.factories import (
    EXPERIENCE,
    all_met,
    bad_upload,
    make_expert,
    make_member,
    make_reviewer,
    png_upload,
    snapshot,
    submit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def reviewer(db):
    return make_reviewer()


def bearer(user) -> dict:
    _row, raw = api_token_issue(user=user, name="test")
    return {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}


def multipart(user, path: str, data: dict):
    return Client().post(path, data, headers=bearer(user))


def application_data(**overrides) -> dict:
    data = {
        "style_focus": "轻奢包袋，保值优先",
        "specialties": "luxury_bags,authentication",
        "experience": EXPERIENCE,
        "years_experience": "8",
        "links": "https://example.com/a https://example.com/b",
        "photos": [png_upload("1.png"), png_upload("2.png"), png_upload("3.png")],
    }
    data.update(overrides)
    return data


# --- public ----------------------------------------------------------------------------------


def test_the_directory_needs_no_login_and_filters(api_client, reviewer):
    gold = make_expert(level="gold", reviewer=reviewer, specialties=["luxury_bags"])
    make_expert(level="trainee", reviewer=reviewer, specialties=["plus_size"])

    response = api_client.get("/api/v1/experts", specialty="luxury_bags")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["username"] == gold.user.username
    assert (item["level"], item["commission_share_bps"]) == ("gold", 600)
    assert [right["code"] for right in item["rights"]] == [
        "answer_consultations",
        "curate_items",
        "lead_group",
        "host_micro_classes",
    ]
    assert item["referral_url"] == f"http://testserver/r/{gold.referral_code}/"
    assert "phone" not in item
    assert api_client.get("/api/v1/experts", specialty="astrology").status_code == 422
    assert api_client.get("/api/v1/experts").json()["count"] == 2


def test_an_expert_profile_has_her_portfolio(api_client, reviewer):
    expert = make_expert(reviewer=reviewer)
    response = api_client.get(f"/api/v1/experts/{expert.user.username}")
    assert response.status_code == 200
    assert len(response.json()["portfolio"]) == 3
    assert api_client.get("/api/v1/experts/nobody-here").status_code == 404


# --- my application -------------------------------------------------------------------------------


def test_a_member_applies_reads_and_withdraws(member):
    response = multipart(member, "/api/v1/experts/application", application_data())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["specialties"], len(body["photos"])) == (
        "submitted",
        ["luxury_bags", "authentication"],
        3,
    )
    assert body["links"] == ["https://example.com/a", "https://example.com/b"]

    client = Client()
    mine = client.get("/api/v1/experts/application", headers=bearer(member))
    assert mine.json()["id"] == body["id"]

    withdrawn = client.post("/api/v1/experts/application/withdraw", headers=bearer(member))
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    again = client.post("/api/v1/experts/application/withdraw", headers=bearer(member))
    assert (again.status_code, again.json()["code"]) == (409, "transition_not_allowed")


def test_a_bad_photo_is_refused_with_nothing_written(member):
    before = snapshot()
    response = multipart(
        member, "/api/v1/experts/application", application_data(photos=[png_upload(), png_upload(), bad_upload()])
    )
    assert (response.status_code, response.json()["code"]) == (422, "image_invalid")
    assert snapshot() == before


def test_a_second_application_is_refused(member):
    submit(member)
    before = snapshot()
    response = multipart(member, "/api/v1/experts/application", application_data())
    assert (response.status_code, response.json()["code"]) == (409, "application_open")
    assert snapshot() == before


def test_applying_needs_authentication():
    response = Client().post("/api/v1/experts/application", application_data())
    assert response.status_code == 401
    assert not ExpertApplication.objects.exists()


def test_my_application_is_404_before_i_apply_and_never_shows_anothers(member, other_member):
    submit(member)
    response = Client().get("/api/v1/experts/application", headers=bearer(other_member))
    assert (response.status_code, response.json()["code"]) == (404, "application_not_found")
    withdraw = Client().post("/api/v1/experts/application/withdraw", headers=bearer(other_member))
    assert withdraw.status_code == 404
    assert ExpertApplication.objects.get().status == "submitted"


# --- reviewers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE])
def test_wrong_roles_cannot_read_the_queue(role, member):
    submit(member)
    response = Client().get("/api/v1/experts/applications", headers=bearer(UserFactory(roles=[role])))
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE])
def test_wrong_roles_cannot_decide_and_nothing_changes(role, member, api_client):
    application = submit(member)
    api_client.login(UserFactory(roles=[role]))
    before = snapshot()
    response = api_client.post(
        f"/api/v1/experts/applications/{application.pk}/decision",
        {"approve": True, "checklist": all_met(), "level": "gold"},
    )
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert snapshot() == before
    assert not User.objects.get(pk=member.pk).has_role(roles.EXPERT)


def test_a_reviewer_reads_the_queue_and_approves(member, reviewer, api_client):
    application = submit(member)
    api_client.login(reviewer)

    queue = api_client.get("/api/v1/experts/applications")
    assert queue.status_code == 200
    assert [row["id"] for row in queue.json()["items"]] == [application.pk]
    assert queue.json()["items"][0]["applicant"]["username"] == member.username

    response = api_client.post(
        f"/api/v1/experts/applications/{application.pk}/decision",
        {"approve": True, "checklist": all_met(), "level": "certified", "note": "欢迎"},
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["level"]) == ("approved", "certified")
    assert Expert.objects.get(user=member).level == "certified"
    assert User.objects.get(pk=member.pk).has_role(roles.EXPERT)


def test_an_incomplete_checklist_is_refused(member, reviewer, api_client):
    application = submit(member)
    api_client.login(reviewer)
    before = snapshot()
    checklist = all_met()
    checklist.pop("experience")
    response = api_client.post(
        f"/api/v1/experts/applications/{application.pk}/decision",
        {"approve": True, "checklist": checklist, "level": "certified"},
    )
    assert (response.status_code, response.json()["code"]) == (422, "checklist_incomplete")
    assert snapshot() == before


def test_deciding_an_unknown_application_is_404(reviewer, api_client):
    api_client.login(reviewer)
    response = api_client.post(
        "/api/v1/experts/applications/999999/decision", {"approve": False, "checklist": all_met(), "note": "x"}
    )
    assert response.status_code == 404


# --- my commissions ------------------------------------------------------------------------------------


def test_an_expert_reads_her_commissions_and_what_is_owed(reviewer, api_client):
    expert = make_expert(level="trainee", reviewer=reviewer)
    buyer, seller = make_member(), make_member()
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    services.commission_accrue(sale_reference="order:5", buyer=buyer, seller=seller, sale_amount_fen=9_999)
    api_client.login(expert.user)

    body = api_client.get("/api/v1/experts/me/commissions").json()

    assert (body["payable_fen"], body["earned_fen"], body["count"], body["page"]) == (199, 199, 1, 1)
    assert [(c["sale_reference"], c["bps"], c["amount_fen"]) for c in body["items"]] == [("order:5", 200, 199)]


def test_a_member_has_no_commissions_route(member, api_client):
    api_client.login(member)
    response = api_client.get("/api/v1/experts/me/commissions")
    assert (response.status_code, response.json()["code"]) == (404, "expert_not_found")
