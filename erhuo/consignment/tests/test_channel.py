"""Where an item is offered (platform 平台款, community 社群款, both): set by pricing or the community manager."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Item
from erhuo.consignment import services
from erhuo.consignment.tests.factories import drive_to, submit_item
from erhuo.core.errors import Conflict, PermissionRefused, ValidationFailed

pytestmark = pytest.mark.django_db
S = Item.Status


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def listed(seller, ops):
    return drive_to(submit_item(seller, "womens-dresses"), S.LISTED, ops)


def channel_of(item) -> str:
    return Item.objects.get(pk=item.pk).channel


def test_the_community_manager_makes_a_listed_item_community_only(listed, ops):
    assert listed.channel == Item.Channel.BOTH

    services.item_channel_set(item_id=listed.pk, actor=ops.pricer, channel=Item.Channel.COMMUNITY)

    assert channel_of(listed) == "community"


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.PHOTOGRAPHER, roles.FINANCE])
def test_others_are_refused_and_nothing_changes(listed, seller, role):
    for actor in (UserFactory(roles=[role]), seller):
        with pytest.raises(PermissionRefused):
            services.item_channel_set(item_id=listed.pk, actor=actor, channel=Item.Channel.COMMUNITY)
    assert channel_of(listed) == "both"


def test_an_unknown_channel_or_an_item_not_priced_yet_is_refused(seller, ops, listed):
    with pytest.raises(ValidationFailed):
        services.item_channel_set(item_id=listed.pk, actor=ops.pricer, channel="everywhere")
    received = drive_to(submit_item(seller, "womens-dresses"), S.RECEIVED, ops)
    with pytest.raises(Conflict) as closed:
        services.item_channel_set(item_id=received.pk, actor=ops.pricer, channel=Item.Channel.COMMUNITY)
    assert closed.value.code == "channel_closed"
    assert (channel_of(listed), channel_of(received)) == ("both", "both")


def test_the_operator_item_page_sets_it_with_csrf(listed, ops):
    url = reverse("consignment:ops_item_channel", args=[listed.pk])
    client = Client(headers={"accept-language": "en"})
    client.force_login(ops.pricer)
    page = client.get(reverse("consignment:ops_item", args=[listed.pk])).content.decode()
    assert f'action="{url}"' in page

    response = client.post(url, {"channel": "community"})

    assert (response.status_code, response["Location"]) == (302, reverse("consignment:ops_item", args=[listed.pk]))
    assert channel_of(listed) == "community"
    clerk = Client()
    clerk.force_login(ops.clerk)
    assert clerk.post(url, {"channel": "platform"}).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ops.pricer)
    assert strict.post(url, {"channel": "platform"}).status_code == 403
    assert channel_of(listed) == "community"


def test_the_api_sets_it_and_refuses_others(api_client, listed, ops):
    api_client.login(ops.pricer)
    done = api_client.post(f"/api/v1/ops/items/{listed.pk}/channel", {"channel": "community"})
    assert done.status_code == 200
    assert channel_of(listed) == "community"

    api_client.login(ops.clerk)
    refused = api_client.post(f"/api/v1/ops/items/{listed.pk}/channel", {"channel": "platform"})
    assert (refused.status_code, refused.json()["code"]) == (403, "channel_denied")
    api_client.login(ops.pricer)
    wrong = api_client.post(f"/api/v1/ops/items/{listed.pk}/channel", {"channel": "everywhere"})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "channel_invalid")
    assert channel_of(listed) == "community"
