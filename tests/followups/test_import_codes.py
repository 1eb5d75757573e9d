"""Imported tags become root-cause codes, recorded as coded by the import."""

from __future__ import annotations

import pytest

from followups.models import ResponseRootCause
from followups.services.coding import responses_code_from_tags, root_cause_update
from tests.factories import make_response

pytestmark = pytest.mark.django_db


def test_tags_naming_a_cause_by_slug_or_name_case_and_accents_aside_become_import_codes(taxonomy, survey):
    root_cause_update(root_cause=taxonomy["hardware"], name="Équipement et matériel")
    first, second = make_response(3, customer="C-1"), make_response(4, customer="C-2")

    added = responses_code_from_tags(
        response_tags={
            first.pk: ("SLOW-RESPONSE", "equipement ET materiel", "vip"),
            second.pk: ("Password reset", "Password and account lockout"),
        }
    )

    codes = ResponseRootCause.objects.values_list("response_id", "root_cause__slug", "source", "coded_by")
    assert added == 3
    assert sorted(codes) == sorted(
        [
            (first.pk, "slow-response", "import", None),
            (first.pk, "hardware", "import", None),
            (second.pk, "password-reset", "import", None),
        ]
    )


def test_an_inactive_cause_is_not_coded_and_an_existing_code_is_kept(taxonomy, survey):
    root_cause_update(root_cause=taxonomy["vpn-access"], active=False)
    response = make_response(2, customer="C-1")
    ResponseRootCause.objects.create(response=response, root_cause=taxonomy["network"], source="agent")

    added = responses_code_from_tags(response_tags={response.pk: ("vpn-access", "network")})

    assert list(ResponseRootCause.objects.values_list("root_cause__slug", "source")) == [("network", "agent")]
    assert added == 0


def test_no_tags_read_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert responses_code_from_tags(response_tags={}) == 0
