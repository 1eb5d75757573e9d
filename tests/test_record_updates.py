"""The services' update idiom (closedloop.lib.updates): validate first, save only what changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closedloop.lib.updates import model_update, save_changes, snapshot
from followups.models import ResolutionCode

pytestmark = pytest.mark.django_db


@pytest.fixture
def code() -> ResolutionCode:
    return ResolutionCode.objects.create(slug="fixed", name="Fixed", position=10)


def _updates(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries if query["sql"].startswith("UPDATE")]


def test_only_the_changed_fields_are_saved(code):
    with CaptureQueriesContext(connection) as queries:
        saved = model_update(code, {"name": "Fixed it", "position": 10, "active": True})

    assert saved == ["name"]
    [update] = _updates(queries)
    assert '"name"' in update and '"position"' not in update and '"active"' not in update
    assert ResolutionCode.objects.get().name == "Fixed it"


def test_setting_the_same_values_writes_nothing(code):
    with CaptureQueriesContext(connection) as queries:
        assert model_update(code, {"name": "Fixed", "position": 10}) == []

    assert len(queries) == 0


def test_a_refused_change_writes_nothing_and_leaves_the_instance_as_it_was(code):
    with pytest.raises(ValidationError), CaptureQueriesContext(connection) as queries:
        model_update(code, {"name": "Renamed", "slug": "not a slug"})

    assert (code.name, code.slug) == ("Fixed", "fixed")
    assert _updates(queries) == []
    assert ResolutionCode.objects.get().name == "Fixed"


def test_a_custom_validation_replaces_full_clean(code):
    def refuse(instance: ResolutionCode) -> None:
        raise ValidationError({"name": ["No."]})

    with pytest.raises(ValidationError):
        model_update(code, {"name": "Renamed"}, validate=refuse)

    assert code.name == "Fixed"


def test_save_changes_saves_the_fields_changed_since_the_snapshot(code):
    before = snapshot(code)
    code.position = 20

    with CaptureQueriesContext(connection) as queries:
        assert save_changes(code, since=before) == ["position"]
        assert save_changes(code, since=snapshot(code)) == []

    [update] = _updates(queries)
    assert '"position"' in update and '"name"' not in update
