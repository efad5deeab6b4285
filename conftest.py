"""Fixtures shared by every app's tests."""

import importlib
import json

import pytest
from django.core.cache import cache

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fixed_rate_limit_window(monkeypatch):
    # Rate limits count per clock window; a test must not straddle two windows.
    from erhuo.core import ratelimit

    monkeypatch.setattr(ratelimit, "_now", lambda: 1_800_000_000.0)


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, tmp_path):
    # Uploads and generated photos never pile up in the project's media/ folder.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ERHUO_PRIVATE_MEDIA_ROOT = tmp_path / "private-media"


@pytest.fixture(autouse=True)
def _clear_cache():
    # Rate-limit counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(db):
    return UserFactory(roles=[roles.MEMBER])


@pytest.fixture
def other_member(db):
    return UserFactory(roles=[roles.MEMBER])


@pytest.fixture
def owner(db):
    return UserFactory(roles=[roles.OWNER])


@pytest.fixture
def community_manager(db):
    return UserFactory(roles=[roles.COMMUNITY_MANAGER])


@pytest.fixture
def intake_clerk(db):
    return UserFactory(roles=[roles.INTAKE_CLERK])


@pytest.fixture
def api_client(client):
    """A Django test client that speaks JSON to the API with a bearer token."""
    from erhuo.accounts import services

    class ApiClient:
        def __init__(self):
            self.token = None

        def login(self, user):
            _row, self.token = services.api_token_issue(user=user, name="test")
            return self.token

        def _headers(self, extra):
            headers = dict(extra or {})
            if self.token:
                headers.setdefault("Authorization", f"Bearer {self.token}")
            return headers

        def get(self, path, headers=None, **params):
            return client.get(path, params, headers=self._headers(headers))

        def post(self, path, data=None, headers=None, raw=None):
            body = raw if raw is not None else json.dumps(data if data is not None else {})
            return client.post(path, body, content_type="application/json", headers=self._headers(headers))

        def put(self, path, data=None, headers=None):
            return client.put(
                path, json.dumps(data or {}), content_type="application/json", headers=self._headers(headers)
            )

        def patch(self, path, data=None, headers=None):
            return client.patch(
                path, json.dumps(data or {}), content_type="application/json", headers=self._headers(headers)
            )

        def delete(self, path, headers=None):
            return client.delete(path, headers=self._headers(headers))

    return ApiClient()


@pytest.fixture
def catalog_reference_data():
    """The category tree and brands that a data migration seeds.

    A transactional test empties every table when it ends, seeded rows
    included, and a serialized rollback clashes with the role groups that
    are recreated after it; seeding is idempotent, so later transactional
    tests run it again.
    """
    from django.apps import apps

    importlib.import_module("erhuo.catalog.migrations.0002_seed_categories_and_brands").seed(apps, None)


@pytest.fixture
def real_database(transactional_db, tmp_path):
    """For tests of many threads at once: the settings to give `erhuo.core.testing.run_at_once`."""
    from erhuo.core.testing import real_database_settings

    with real_database_settings(tmp_path) as settings_dict:
        yield settings_dict
