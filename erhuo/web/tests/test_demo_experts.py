"""The experts demo seeder works through the services: experts at each level, applications in every state, and
referral touches dated so that the market demo's attributed purchases come after them."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.experts.models import Expert, ExpertApplication, ExpertCommission, ReferralAttribution
from erhuo.ledger.selectors import ledger_problems
from erhuo.web.demo import experts as demo

pytestmark = pytest.mark.django_db


def test_the_demo_has_experts_at_each_level_applications_in_each_state_and_referral_touches():
    # Given the people the accounts demo creates
    UserFactory(username="yunying", roles=[roles.COMMUNITY_MANAGER])
    UserFactory(username="expert", roles=[roles.MEMBER, roles.EXPERT])
    member = UserFactory(username="member", roles=[roles.MEMBER])
    for _index in range(20):
        UserFactory(roles=[roles.MEMBER])
    out = io.StringIO()

    demo.seed(stdout=out)

    assert sorted(Expert.objects.values_list("level", flat=True)) == ["certified", "certified", "gold", "trainee"]
    assert Expert.objects.get(user__username="expert").level == "gold"
    statuses = sorted(ExpertApplication.objects.values_list("status", flat=True))
    assert statuses == ["approved"] * 4 + ["rejected"] + ["submitted"] * 2
    # The demo member and the 13 members after the six applicants came through an expert's link, 5 to 13 days ago
    # (after the sales history, inside the 30-day window); the demo member through the named expert's.
    touches = ReferralAttribution.objects.all()
    assert touches.count() == 14
    now = timezone.now()
    assert all(timedelta(days=5) <= now - touch.created_at < timedelta(days=13) for touch in touches)
    assert touches.get(buyer=member).expert.user.username == "expert"
    # Commissions come only from completed orders (the market demo): none here.
    assert ExpertCommission.objects.count() == 0
    assert ledger_problems() == []
    assert out.getvalue() == (
        "experts: 4 experts (gold, certified, trainee), 2 applications waiting for review, 1 not approved; "
        "14 referral touches"
    )
