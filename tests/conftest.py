"""The named world most tests start from, and API clients signed in as each role.

maya is a manager, alice and bob are agents, izzy is an integration account and olga has an
account but no role. One survey, support-2026, with the defaults of API.md. ``taxonomy`` is the
default root-cause taxonomy, by slug.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from followups.models import RootCause
from followups.services.coding import root_cause_taxonomy_seed
from tests.factories import make_survey, make_user

# The properties check what is true, not how fast: on a busy machine (CI shares its cores, the
# mutation run starts many at once) generating and running examples may take longer.
settings.register_profile("closedloop", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("closedloop")


def pytest_collection_modifyitems(config, items):
    from django.conf import settings as django_settings

    if django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def survey(db):
    return make_survey()


@pytest.fixture
def taxonomy(db) -> dict[str, RootCause]:
    """The default root-cause taxonomy by slug: the migration seeds it, a flushed database lacks it."""
    root_cause_taxonomy_seed()
    return RootCause.objects.in_bulk(field_name="slug")


@pytest.fixture
def maya(db):
    return make_user("maya", "manager", email="maya@example.com")


@pytest.fixture
def alice(db):
    return make_user("alice", "agent", email="alice@example.com")


@pytest.fixture
def bob(db):
    return make_user("bob", "agent", email="bob@example.com")


@pytest.fixture
def izzy(db):
    return make_user("izzy", "integration")


@pytest.fixture
def olga(db):
    return make_user("olga", None)


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def manager_api(maya) -> APIClient:
    return _client_for(maya)


@pytest.fixture
def agent_api(alice) -> APIClient:
    return _client_for(alice)


@pytest.fixture
def integration_api(izzy) -> APIClient:
    return _client_for(izzy)


@pytest.fixture
def no_role_api(olga) -> APIClient:
    return _client_for(olga)


@pytest.fixture
def anonymous_api() -> APIClient:
    return APIClient()
