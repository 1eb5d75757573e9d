"""Text that is not Unicode: a lone surrogate escape (\\ud800) in a JSON body is a 400 that stores nothing.

No UTF-8 text can hold an unpaired surrogate, so PostgreSQL cannot store one and no reply can
quote one back (a choice field's error names the value it refused).
"""

from __future__ import annotations

import pytest

from surveys.models import Survey

LONE = ['"\\ud800"', '"tail \\udfff"', '"\\ud83d"']


@pytest.mark.parametrize("text", LONE)
def test_a_lone_surrogate_in_a_value_is_a_400(manager_api, text: str) -> None:
    body = '{"slug": "pulse", "name": ' + text + "}"
    response = manager_api.post("/api/v1/surveys/", body, content_type="application/json")
    assert response.status_code == 400
    assert "surrogate" in response.json()["detail"]
    assert not Survey.objects.filter(slug="pulse").exists()


def test_a_lone_surrogate_where_a_choice_is_expected_is_a_400(manager_api) -> None:
    response = manager_api.post(
        "/api/v1/surveys/", '{"slug": "pulse", "name": "P", "kind": "\\ud800"}', content_type="application/json"
    )
    assert response.status_code == 400


def test_a_lone_surrogate_in_a_key_is_a_400(manager_api) -> None:
    response = manager_api.post(
        "/api/v1/surveys/", '{"slug": "pulse", "name": "P", "\\udc00": 1}', content_type="application/json"
    )
    assert response.status_code == 400


def test_a_surrogate_pair_is_the_character_it_encodes(manager_api) -> None:
    response = manager_api.post(
        "/api/v1/surveys/", '{"slug": "pulse", "name": "Pulse \\ud83d\\ude00"}', content_type="application/json"
    )
    assert response.status_code == 201
    assert Survey.objects.get(slug="pulse").name == "Pulse \U0001f600"
