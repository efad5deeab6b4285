"""The member's privacy page, her data download and deletion request, and the operators' deletion queue."""

import json

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from erhuo.accounts import roles
from erhuo.accounts import services as account_services
from erhuo.accounts.models import Address, DeletionRequest, DeletionRequestTransition, User
from erhuo.accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, UserFactory
from erhuo.catalog.models import Item, ItemTransition
from erhuo.consignment import services as consignment_services
from erhuo.consignment.tests.factories import make_seller, submit_item
from erhuo.ledger import accounts as ledger_accounts
from erhuo.ledger import services as ledger_services
from erhuo.ledger.models import JournalEntry, Posting
from erhuo.web import privacy

pytestmark = pytest.mark.django_db

MY_PHONE = "13911112222"
OTHER_PHONE = "13933334444"


@pytest.fixture
def me(db):
    user = make_seller(phone=MY_PHONE, display_name="陈思雨")
    AddressFactory(user=user, recipient_name="陈思雨", recipient_phone="13955550001", detail="我的路 1 号 101 室")
    return user


@pytest.fixture
def neighbour(db):
    user = make_seller(phone=OTHER_PHONE, display_name="王芳芳")
    AddressFactory(user=user, recipient_name="王芳芳", recipient_phone="13955550002", detail="别人路 2 号 202 室")
    return user


@pytest.fixture
def customer_service(db):
    return UserFactory(roles=[roles.CUSTOMER_SERVICE])


@pytest.fixture
def only_apps(monkeypatch):
    """Ask only these apps (besides accounts and consignment): isolates a rule from the other apps' blockers.

    A seller always holds a deposit (consigning needs one), which the ledger reports as a blocker.
    """

    def only(*modules):
        monkeypatch.setattr(privacy, "APP_MODULES", modules)

    return only


def _ask(user, reason="") -> DeletionRequest:
    return privacy.deletion_request_create(user=user, password=DEFAULT_PASSWORD, reason=reason)


# --- the privacy page ------------------------------------------------------------------


def test_privacy_page_needs_a_login(client):
    response = client.get(reverse("privacy:page"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_privacy_page_says_what_is_deleted_and_what_is_kept(client, me):
    client.force_login(me)

    page = client.get(reverse("privacy:page")).content.decode()

    assert 'data-testid="download-my-data"' in page
    assert 'data-testid="no-access"' in page
    assert 'data-testid="deletion-form"' in page
    assert "会计档案管理办法" in page
    assert "30" in page


def test_profile_links_to_the_privacy_page(client, me):
    client.force_login(me)

    page = client.get(reverse("accounts:profile")).content.decode()

    assert f'href="{reverse("privacy:page")}"' in page


def test_privacy_page_lists_who_looked_by_role_only(client, me, customer_service):
    account_services.personal_data_access_record(
        actor=customer_service, subject=me, fields=["phone", "addresses"], reason="delivery_problem"
    )
    client.force_login(me)

    page = client.get(reverse("privacy:page")).content.decode()

    assert page.count('data-testid="my-access-row"') == 1
    assert customer_service.display_name not in page
    assert customer_service.username not in page


# --- the download -------------------------------------------------------------------------


def test_download_holds_my_data_and_nobody_elses(client, me, neighbour):
    # Given two members with addresses, a token each, and an item of mine
    account_services.api_token_issue(user=me, name="my phone")
    account_services.api_token_issue(user=neighbour, name="her phone")
    submit_item(me, "bags-tote", title="我的托特包")
    submit_item(neighbour, "bags-tote", title="她的托特包")
    client.force_login(me)

    # When I download my data
    response = client.post(reverse("privacy:download"))

    # Then it is a dated JSON attachment with my data in full…
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="{privacy.export_filename()}"'
    assert privacy.export_filename().startswith("erhuo-my-data-20")
    raw = response.content
    data = json.loads(raw)
    assert data["accounts"]["account"]["phone"] == MY_PHONE
    assert data["accounts"]["account"]["username"] == me.username
    assert [address["detail"] for address in data["accounts"]["addresses"]] == ["我的路 1 号 101 室"]
    assert data["accounts"]["addresses"][0]["recipient_phone"] == "13955550001"
    assert sorted(data["accounts"]["roles"]) == ["member", "seller"]
    assert [token["name"] for token in data["accounts"]["api_tokens"]] == ["my phone"]
    assert [item["title"] for item in data["consignment"]["items"]] == ["我的托特包"]
    assert len(data["consignment"]["batches"]) == 1
    # …each app that offers a section has one…
    for label, _export in privacy._app_functions("selectors", "personal_data_export"):
        assert label in data
    # …and nothing of the other member, nor any token digest
    text = raw.decode("utf-8")
    for foreign in (OTHER_PHONE, "13955550002", "别人路", "王芳芳", neighbour.username, "她的托特包"):
        assert foreign not in text
    for token in me.api_tokens.all():
        assert token.digest not in text


def test_download_is_post_only_and_needs_a_login(client, me):
    assert client.post(reverse("privacy:download")).status_code == 302
    client.force_login(me)
    assert client.get(reverse("privacy:download")).status_code == 405


# --- asking for deletion -----------------------------------------------------------------


def test_ask_with_the_wrong_password_changes_nothing(client, me):
    client.force_login(me)

    response = client.post(reverse("privacy:deletion_request"), {"password": "not-mine", "reason": ""})

    assert response.status_code == 422
    assert DeletionRequest.objects.count() == 0


def test_ask_records_what_blocks_and_shows_it(client, me):
    # Given an item still in the pipeline
    submit_item(me, "bags-tote", title="还在审核的包")
    client.force_login(me)

    # When I ask, with my password
    response = client.post(reverse("privacy:deletion_request"), {"password": DEFAULT_PASSWORD, "reason": "不用了"})

    # Then the request is open with the item as a blocker, and the page offers to cancel
    assert response.status_code == 302
    deletion_request = DeletionRequest.objects.get(user=me)
    assert deletion_request.status == "requested"
    assert deletion_request.reason == "不用了"
    assert [blocker for blocker in deletion_request.blockers if "还在审核的包" in blocker] == [
        privacy.consignment_erase_blockers(user=me)[0]
    ]
    page = client.get(reverse("privacy:page")).content.decode()
    assert 'data-testid="open-request"' in page
    assert 'data-testid="cancel-deletion"' in page
    assert 'data-testid="deletion-form"' not in page


def test_cancel_my_request(client, me):
    deletion_request = _ask(me)
    client.force_login(me)

    response = client.post(reverse("privacy:deletion_cancel", args=[deletion_request.pk]))

    assert response.status_code == 302
    deletion_request.refresh_from_db()
    assert deletion_request.status == "cancelled"


def test_cancelling_someone_elses_request_is_404_and_changes_nothing(client, me, neighbour):
    theirs = _ask(neighbour)
    client.force_login(me)

    response = client.post(reverse("privacy:deletion_cancel", args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "requested"
    assert DeletionRequestTransition.objects.filter(subject=theirs).count() == 1


# --- the operators' queue ---------------------------------------------------------------------


@pytest.mark.parametrize("role", [roles.MEMBER, roles.COMMUNITY_MANAGER, roles.FINANCE, roles.INTAKE_CLERK])
def test_queue_and_decisions_need_the_permission(client, me, role):
    deletion_request = _ask(me)
    client.force_login(UserFactory(roles=[role]))

    assert client.get(reverse("privacy:deletion_queue")).status_code == 403
    assert client.get(reverse("privacy:deletion_detail", args=[deletion_request.pk])).status_code == 403
    assert client.post(reverse("privacy:deletion_erase", args=[deletion_request.pk])).status_code == 403
    assert client.post(reverse("privacy:deletion_refuse", args=[deletion_request.pk]), {"note": "x"}).status_code == 403

    deletion_request.refresh_from_db()
    me.refresh_from_db()
    assert deletion_request.status == "requested"
    assert me.phone == MY_PHONE
    assert Address.objects.filter(user=me).count() == 1


def test_queue_lists_open_requests_with_masked_names(client, me, neighbour, customer_service):
    _ask(me)
    _ask(neighbour)
    client.force_login(customer_service)

    page = client.get(reverse("privacy:deletion_queue")).content.decode()

    assert page.count('data-testid="deletion-row"') == 2
    assert "陈**" in page
    assert "陈思雨" not in page
    assert MY_PHONE not in page


def test_operator_console_links_the_privacy_tools_by_permission(client, owner, customer_service, intake_clerk):
    client.force_login(owner)
    owner_page = client.get(reverse("web:operator_console")).content.decode()
    client.force_login(customer_service)
    service_page = client.get(reverse("web:operator_console")).content.decode()
    client.force_login(intake_clerk)
    clerk_page = client.get(reverse("web:operator_console")).content.decode()

    assert 'data-testid="deletion-queue-link"' in owner_page
    assert 'data-testid="access-log-link"' in owner_page
    assert 'data-testid="deletion-queue-link"' in service_page
    assert 'data-testid="access-log-link"' not in service_page
    assert 'data-testid="deletion-queue-link"' not in clerk_page
    assert 'data-testid="access-log-link"' not in clerk_page


def test_erase_is_refused_while_an_item_is_in_the_pipeline(client, me, customer_service, only_apps):
    # Given a request while an item is still submitted (the other apps left out)
    only_apps()
    item = submit_item(me, "bags-tote", title="还在审核的包")
    deletion_request = _ask(me)
    client.force_login(customer_service)
    detail = client.get(reverse("privacy:deletion_detail", args=[deletion_request.pk])).content.decode()
    assert detail.count('data-testid="blocker"') == 1

    # When customer service tries to erase
    response = client.post(reverse("privacy:deletion_erase", args=[deletion_request.pk]), {"note": "", "confirm": "on"})

    # Then it is refused with the blocker and nothing changed
    assert response.status_code == 409
    assert "还在审核的包" in response.content.decode()
    deletion_request.refresh_from_db()
    me.refresh_from_db()
    assert deletion_request.status == "requested"
    assert me.phone == MY_PHONE
    assert me.is_active
    assert Address.objects.filter(user=me).count() == 1

    # And once the seller withdraws the item, the erasure goes through
    consignment_services.seller_withdraw(item_id=item.pk, seller=me)
    response = client.post(
        reverse("privacy:deletion_erase", args=[deletion_request.pk]), {"note": "核实完毕", "confirm": "on"}
    )
    assert response.status_code == 302
    deletion_request.refresh_from_db()
    assert deletion_request.status == "completed"


def test_erasure_keeps_ledger_entries_and_chain_of_custody(client, me, customer_service, only_apps):
    # Given a withdrawn item (its chain of custody) and ledger entries: the seller's deposit, and one paid and
    # returned; the other apps are left out, so that the deposit still held does not block
    only_apps()
    item = submit_item(me, "bags-tote", title="撤回的包")
    consignment_services.seller_withdraw(item_id=item.pk, seller=me)
    cash = ledger_accounts.cash_account("sandbox")
    deposit = ledger_accounts.deposit_account(me)
    paid = ledger_services.entry_post(kind="deposit_paid", lines=[(cash, 20_000), (deposit, -20_000)], key="t-paid")
    ledger_services.entry_reverse(entry=paid, kind="deposit_returned", key="t-returned")
    counts_before = (
        JournalEntry.objects.count(),
        Posting.objects.count(),
        ItemTransition.objects.filter(subject=item).count(),
    )
    deletion_request = _ask(me)
    client.force_login(customer_service)

    # When the request is erased
    response = client.post(reverse("privacy:deletion_erase", args=[deletion_request.pk]), {"note": "", "confirm": "on"})

    # Then the person is gone but the records stay, now pointing at the erased account
    assert response.status_code == 302
    erased = User.objects.get(pk=me.pk)
    assert erased.display_name == "已注销用户"
    assert erased.phone == ""
    assert Address.objects.filter(user=me).count() == 0
    assert (
        JournalEntry.objects.count(),
        Posting.objects.count(),
        ItemTransition.objects.filter(subject=item).count(),
    ) == counts_before
    assert Item.objects.get(pk=item.pk).seller_id == me.pk


def test_refuse_needs_a_note(client, me, customer_service):
    deletion_request = _ask(me)
    client.force_login(customer_service)

    empty = client.post(reverse("privacy:deletion_refuse", args=[deletion_request.pk]), {"note": ""})
    deletion_request.refresh_from_db()
    assert empty.status_code == 422
    assert deletion_request.status == "requested"

    refused = client.post(reverse("privacy:deletion_refuse", args=[deletion_request.pk]), {"note": "订单纠纷未结"})
    deletion_request.refresh_from_db()
    assert refused.status_code == 302
    assert deletion_request.status == "refused"
    assert deletion_request.note == "订单纠纷未结"
    client.force_login(me)
    assert "订单纠纷未结" in client.get(reverse("privacy:page")).content.decode()


def test_detail_of_an_unknown_request_is_404(client, customer_service):
    client.force_login(customer_service)

    assert client.get(reverse("privacy:deletion_detail", args=[987654])).status_code == 404


def test_queue_page_query_count(client, customer_service, django_assert_max_num_queries):
    for _ in range(12):
        _ask(UserFactory(roles=[roles.MEMBER]))
    client.force_login(customer_service)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("privacy:deletion_queue"))

    assert response.content.decode().count('data-testid="deletion-row"') == 12


def test_a_deposit_still_held_blocks_the_erasure(client, me, customer_service):
    # Given a seller whose deposit is still held (every app asked; trust is the one that says so)
    from erhuo.trust import services as trust_services

    deposit_blockers = trust_services.erase_blockers(user=me)
    assert deposit_blockers
    assert ledger_services.erase_blockers(user=me) == []
    deletion_request = _ask(me)
    client.force_login(customer_service)

    # When customer service tries to erase
    response = client.post(reverse("privacy:deletion_erase", args=[deletion_request.pk]), {"note": "", "confirm": "on"})

    # Then it is refused with trust's reason, said once, and nothing changed
    assert response.status_code == 409
    assert privacy.erase_blockers(user=me) == deposit_blockers
    deletion_request.refresh_from_db()
    me.refresh_from_db()
    assert deletion_request.status == "requested"
    assert me.phone == MY_PHONE
    assert Address.objects.filter(user=me).count() == 1


def test_a_plain_member_is_erased_through_every_app(client, customer_service, neighbour):
    # Given a member who never sold anything (every app asked, none blocks)
    member = UserFactory(phone="13977778888", display_name="何小满", roles=[roles.MEMBER])
    AddressFactory(user=member, detail="南路 9 号")
    account_services.api_token_issue(user=member, name="phone")
    assert privacy.erase_blockers(user=member) == []
    deletion_request = _ask(member)
    client.force_login(customer_service)

    # When customer service erases
    response = client.post(reverse("privacy:deletion_erase", args=[deletion_request.pk]), {"note": "", "confirm": "on"})

    # Then her data is gone and the neighbour's is untouched
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.username, member.display_name, member.phone) == (f"deleted-{member.pk}", "已注销用户", "")
    assert Address.objects.filter(user=member).count() == 0
    assert member.api_tokens.filter(revoked_at__isnull=True).count() == 0
    neighbour.refresh_from_db()
    assert neighbour.phone == OTHER_PHONE
    assert Address.objects.filter(user=neighbour).count() == 1


def test_erasing_needs_the_confirmation_box_and_changes_nothing_without_it(client, customer_service):
    member = UserFactory(phone="13977770000", roles=[roles.MEMBER])
    deletion_request = _ask(member)
    client.force_login(customer_service)

    response = client.post(reverse("privacy:deletion_erase", args=[deletion_request.pk]), {"note": ""})

    assert response.status_code == 422
    assert response.context["form"].errors["confirm"] == [gettext("Tick this box to erase: it cannot be undone.")]
    deletion_request.refresh_from_db()
    member.refresh_from_db()
    assert deletion_request.status == "requested"
    assert member.phone == "13977770000"
