"""Every API operation, fed with inputs generated from its own OpenAPI description, never answers 5xx.

Schemathesis reads /api/v1/openapi.json and, for each operation, generates
valid and edge-case parameters and bodies (huge numbers, odd strings, wrong
content types). The caller is an owner who is also a member, so most routes
get past authentication and reach their validation and services. Bad input
must be refused with a 4xx and the JSON error shape; it found, for
instance, that a page number of 10**20 reached the database (SQLite cannot
represent the offset) and that a multipart body without a boundary crashed
the login throttle.

Derandomised, so a CI run is repeatable.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from erhuo.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # Calling the WSGI app directly (unlike Django's test client) would close the test's
    # database connection at the end of each request, in the middle of its transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db):
    from erhuo.accounts import roles, services
    from erhuo.accounts.tests.factories import UserFactory

    user = UserFactory(roles=[roles.MEMBER, roles.OWNER])
    return services.api_token_issue(user=user, name="fuzz")[1]


@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error(case, token):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

    response = case.call()

    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
    if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith("application/json"):
        assert "code" in response.json(), (case.method, case.path, response.text[:300])
