"""The experts demo seeder works through the services and leaves the books balanced."""

import io

import pytest

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.experts.models import Expert, ExpertApplication, ExpertCommission
from erhuo.ledger.selectors import ledger_problems
from erhuo.web.demo import experts as demo

pytestmark = pytest.mark.django_db


def test_the_demo_has_experts_at_each_level_applications_in_each_state_and_commissions():
    # Given the people the accounts demo creates
    UserFactory(username="yunying", roles=[roles.COMMUNITY_MANAGER])
    UserFactory(username="expert", roles=[roles.MEMBER, roles.EXPERT])
    UserFactory(username="member", roles=[roles.MEMBER])
    for _index in range(20):
        UserFactory(roles=[roles.MEMBER])
    out = io.StringIO()

    demo.seed(stdout=out)

    assert sorted(Expert.objects.values_list("level", flat=True)) == ["certified", "certified", "gold", "trainee"]
    assert Expert.objects.get(user__username="expert").level == "gold"
    statuses = sorted(ExpertApplication.objects.values_list("status", flat=True))
    assert statuses == ["approved"] * 4 + ["rejected"] + ["submitted"] * 2
    assert ExpertCommission.objects.count() == 8
    assert ExpertCommission.objects.filter(reversed_at__isnull=False).count() == 1
    assert ledger_problems() == []
    assert out.getvalue().startswith("experts: 4 experts")
