"""Sign-ups racing for a class's last places, against a real database from many threads (as the groups' joins:
`test_groups_concurrency.py`): the class's row lock keeps the count right."""

import pytest

from erhuo.community.models import ClassSignup
from erhuo.community.services import classes as services
from erhuo.community.tests import factories
from erhuo.community.tests.classes_setup import expert, schedule
from erhuo.core.errors import DomainError
from erhuo.core.testing import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_members_racing_for_the_last_place_one_gets_it(request):
    database = request.getfixturevalue("real_database")
    group = factories.group(leader=expert())
    micro_class = schedule(group.leader, [group], capacity=2)
    services.class_signup(class_id=micro_class.pk, user=factories.member_of(group).user)
    racers = [factories.member_of(group).user for _ in range(4)]

    results = run_at_once(
        database, [lambda user=user: services.class_signup(class_id=micro_class.pk, user=user) for user in racers]
    )

    signed = [result for result in results if isinstance(result, ClassSignup)]
    refused = [result.code for result in results if isinstance(result, DomainError)]
    assert len(signed) == 1 and refused == ["class_full"] * 3
    assert ClassSignup.objects.filter(micro_class=micro_class, cancelled_at__isnull=True).count() == 2


def test_one_member_signing_up_from_several_requests_at_once_signs_up_once(request):
    database = request.getfixturevalue("real_database")
    group = factories.group(leader=expert())
    micro_class = schedule(group.leader, [group])
    member = factories.member_of(group).user

    results = run_at_once(
        database, [lambda: services.class_signup(class_id=micro_class.pk, user=member) for _ in range(4)]
    )

    assert len({result.pk for result in results}) == 1
    assert ClassSignup.objects.filter(micro_class=micro_class, user=member).count() == 1
