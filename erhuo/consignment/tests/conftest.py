"""People every consignment test module needs (a module may override one, e.g. to fix a display name)."""

import pytest

from erhuo.consignment.tests.factories import make_operators, make_seller


@pytest.fixture
def ops(db):
    return make_operators()


@pytest.fixture
def seller(db):
    return make_seller()


@pytest.fixture
def other_seller(db):
    return make_seller()
