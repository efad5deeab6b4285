"""The placement page: operators see every group's purity, compute moves and decide them; others get 403."""

import re

import pytest
from django.urls import reverse

from erhuo.community.models import Membership, ProposedMove
from erhuo.community.services import groups as group_services
from erhuo.community.services import placement as services
from erhuo.community.tests import factories
from erhuo.community.tests.test_placement_services import Community, snapshot

pytestmark = pytest.mark.django_db

P = ProposedMove.Status
PAGE = "/ops/community/placement/"


@pytest.fixture
def community(db):
    return Community()


@pytest.fixture
def operator_client(client, community_manager):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the assertions read the English texts
    client.force_login(community_manager)
    return client


def purity_shown(html: str, group_id: int) -> str:
    card = html.split(f'data-group="{group_id}"', 1)[1].split("</article>", 1)[0]
    return re.search(r'data-testid="purity">([^<]*)<', card).group(1)


def test_the_page_shows_every_groups_purity_before_any_run(community, operator_client):
    response = operator_client.get(PAGE)

    assert response.status_code == 200
    html = response.content.decode()
    assert purity_shown(html, community.mixed.pk) == "33%"
    assert purity_shown(html, community.womenswear.pk) == "100%"
    assert html.count('data-testid="mixed"') == 1
    assert "No moves computed yet." in html
    assert 'data-testid="approve-all"' not in html


def test_compute_then_approve_and_the_purity_shown_updates(community, operator_client):
    c = community

    computed = operator_client.post(reverse("community:ops_placement_run"), follow=True)

    html = computed.content.decode()
    assert computed.status_code == 200
    assert "2 moves proposed." in html
    run = ProposedMove.objects.get(user=c.a1).run
    first = run.moves.get(user=c.a1)
    card = html.split(f'data-group="{c.mixed.pk}"', 1)[1].split("</article>", 1)[0]
    assert card.count('data-testid="move"') == 2
    assert c.a1.display_name in card
    assert f"→ <strong>{c.womenswear.name}</strong>" in card
    assert "33% → 100%" in card  # her fit before and after
    assert "At the computation 33%; with every move approved 100%." in card
    assert 'data-testid="approve-all"' in html

    approved = operator_client.post(reverse("community:ops_placement_approve", args=[first.pk]), follow=True)

    html = approved.content.decode()
    first.refresh_from_db()
    assert first.status == P.APPROVED
    assert f"{c.a1.display_name} moved to {c.womenswear.name}." in html
    assert purity_shown(html, c.mixed.pk) == "33%"  # a2 with the two mothers

    operator_client.post(reverse("community:ops_placement_approve_all", args=[run.pk]))

    html = operator_client.get(PAGE).content.decode()
    assert purity_shown(html, c.mixed.pk) == "100%"
    assert 'data-testid="mixed"' not in html
    assert html.count('data-status="approved"') == 2


def test_reject_and_a_stale_move_on_the_page(community, operator_client):
    c = community
    run = services.placement_run(actor=c.womenswear.leader)
    first, second = run.moves.order_by("pk")
    group_services.membership_leave(membership_id=Membership.objects.get(user=c.a2, status="active").pk, user=c.a2)

    rejected = operator_client.post(reverse("community:ops_placement_reject", args=[first.pk]), follow=True)
    stale = operator_client.post(reverse("community:ops_placement_approve", args=[second.pk]), follow=True)

    assert f"{c.a1.display_name} stays where she is." in rejected.content.decode()
    assert f"{c.a2.display_name} is no longer in {c.mixed.name}." in stale.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (P.REJECTED, P.STALE)
    assert operator_client.post(reverse("community:ops_placement_approve", args=[999_999])).status_code == 404


@pytest.mark.parametrize("who", ["member", "leader"])
def test_members_and_leaders_get_403_with_nothing_changed(community, client, who):
    run = services.placement_run(actor=community.womenswear.leader)
    move = run.moves.get(user=community.a1)
    leader = community.mixed.leader
    leader.groups.clear()  # a leader who is no operator
    client.force_login({"member": community.b1, "leader": leader}[who])
    before = snapshot()

    answers = [
        client.get(PAGE),
        client.post(reverse("community:ops_placement_run")),
        client.post(reverse("community:ops_placement_approve", args=[move.pk])),
        client.post(reverse("community:ops_placement_reject", args=[move.pk])),
        client.post(reverse("community:ops_placement_approve_all", args=[run.pk])),
    ]

    assert [answer.status_code for answer in answers] == [403] * 5
    assert snapshot() == before


def test_logged_out_goes_to_the_login_page(community, client):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_posts_need_the_csrf_token(community, community_manager):
    from django.test import Client

    client = Client(enforce_csrf_checks=True, headers={"accept-language": "en"})
    client.force_login(community_manager)
    before = snapshot()

    assert client.post(reverse("community:ops_placement_run")).status_code == 403
    assert snapshot() == before


def test_the_page_queries_are_bounded(community, operator_client, django_assert_max_num_queries):
    services.placement_run(actor=community.womenswear.leader)
    operator_client.get(PAGE)  # warm the session and the user

    with django_assert_max_num_queries(14) as small:
        operator_client.get(PAGE)

    # Ten more groups with members, and a second run with more moves: the same number of queries.
    for _ in range(10):
        extra = factories.group(segment_obj=community.mixed.segment, capacity=10)
        Community._members(extra, ("womenswear", "premium", "size-s"), 2)
        Community._members(extra, ("baby", "kids-0-1"), 2)
    services.placement_run(actor=community.womenswear.leader)
    assert ProposedMove.objects.filter(status=P.PROPOSED).count() > 2

    with django_assert_max_num_queries(len(small.captured_queries)):
        operator_client.get(PAGE)
