"""The root-cause taxonomy's services: the seeded default, two levels, edits, merges and who coded what."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from closedloop.lib.exceptions import ApplicationError, ConflictError
from followups.models import ResponseRootCause, RootCause, RootCauseMerge
from followups.selectors import root_cause_choices
from followups.services.cases import case_root_causes_set
from followups.services.coding import (
    root_cause_create,
    root_cause_merge,
    root_cause_taxonomy_seed,
    root_cause_update,
)
from followups.taxonomy import DEFAULT_TAXONOMY
from tests.concurrency import at_once
from tests.factories import make_response

pytestmark = pytest.mark.django_db


def _code(response, root_cause, **fields) -> ResponseRootCause:
    return ResponseRootCause.objects.create(response=response, root_cause=root_cause, **fields)


def _slugs(response) -> set[str]:
    return set(response.root_cause_codes.values_list("root_cause__slug", flat=True))


# The default taxonomy


def test_the_migration_seeds_six_categories_of_three_to_five_causes_with_keywords(db):
    categories = RootCause.objects.filter(parent=None)
    assert set(categories.values_list("slug", flat=True)) == {
        "people",
        "process",
        "technology",
        "communication",
        "policy",
        "product",
    }
    for category in categories:
        causes = list(category.children.all())
        assert 3 <= len(causes) <= 5, category.slug
        for cause in causes:
            assert cause.keywords and all(word == word.lower().strip() for word in cause.keywords), cause.slug
            assert cause.active and cause.description


def test_seeding_again_adds_only_what_is_missing_and_keeps_a_managers_changes(taxonomy):
    count = RootCause.objects.count()
    assert root_cause_taxonomy_seed() == 0
    assert RootCause.objects.count() == count

    vpn = taxonomy["vpn-access"]
    root_cause_update(root_cause=vpn, name="Remote access", parent="people")
    ResponseRootCause.objects.all().delete()
    RootCause.objects.filter(slug="missing-feature").delete()

    assert root_cause_taxonomy_seed() == 1
    vpn.refresh_from_db()
    assert (vpn.name, vpn.parent.slug) == ("Remote access", "people")
    assert RootCause.objects.get(slug="missing-feature").parent.slug == "product"


def test_seeding_an_empty_database_builds_the_whole_tree(db):
    RootCause.objects.exclude(parent=None).delete()
    RootCause.objects.all().delete()

    added = root_cause_taxonomy_seed()

    assert added == len(DEFAULT_TAXONOMY) + sum(len(category.causes) for category in DEFAULT_TAXONOMY)
    assert RootCause.objects.get(slug="password-reset").parent.slug == "technology"


# Two levels


def test_a_cause_goes_under_a_category_and_nothing_goes_under_a_cause(taxonomy):
    cause = root_cause_create(slug="printer-toner", name="Printer toner", parent="technology", keywords=[" Toner "])
    assert (cause.parent.slug, cause.keywords) == ("technology", ["toner"])

    with pytest.raises(ValidationError) as error:
        root_cause_create(slug="toner-colour", name="Colour toner", parent="printer-toner")
    assert list(error.value.message_dict) == ["parent"]
    with pytest.raises(ValidationError) as error:
        root_cause_create(slug="orphan", name="Orphan", parent="no-such-category")
    assert list(error.value.message_dict) == ["parent"]
    assert not RootCause.objects.filter(slug__in=["toner-colour", "orphan"]).exists()


def test_a_cause_cannot_go_under_an_inactive_category(taxonomy):
    root_cause_update(root_cause=taxonomy["policy"], active=False)

    with pytest.raises(ValidationError) as error:
        root_cause_create(slug="dress-code", name="Dress code", parent="policy")

    assert list(error.value.message_dict) == ["parent"]


# Editing


def test_a_cause_is_renamed_rekeyed_and_moved_but_keeps_its_slug(taxonomy):
    cause = taxonomy["email-calendar"]

    root_cause_update(root_cause=cause, name="Mail", description="Mail only", keywords=["Mail", "mail", "inbox"])
    root_cause_update(root_cause=cause, parent="product")

    cause.refresh_from_db()
    assert (cause.slug, cause.name, cause.description, cause.keywords) == (
        "email-calendar",
        "Mail",
        "Mail only",
        ["mail", "inbox"],
    )
    assert cause.parent.slug == "product"
    with pytest.raises(ValidationError) as error:
        root_cause_update(root_cause=cause, slug="mail")
    assert list(error.value.message_dict) == ["slug"]


def test_moves_that_would_make_a_third_level_are_refused(taxonomy):
    with pytest.raises(ValidationError) as error:
        root_cause_update(root_cause=taxonomy["hardware"], parent="vpn-access")
    assert list(error.value.message_dict) == ["parent"]
    with pytest.raises(ValidationError) as error:
        root_cause_update(root_cause=taxonomy["people"], parent="process")
    assert list(error.value.message_dict) == ["parent"]
    with pytest.raises(ValidationError):
        root_cause_update(root_cause=taxonomy["people"], parent="people")
    assert RootCause.objects.get(slug="hardware").parent.slug == "technology"
    assert RootCause.objects.get(slug="people").parent is None


def test_a_cause_can_become_a_category_and_an_empty_category_a_cause(taxonomy):
    root_cause_update(root_cause=taxonomy["network"], parent="")
    category = root_cause_create(slug="facilities", name="Facilities")
    root_cause_update(root_cause=category, parent="people")

    assert RootCause.objects.get(slug="network").parent is None
    assert RootCause.objects.get(slug="facilities").parent.slug == "people"


def test_a_deactivated_cause_leaves_the_pickers_but_keeps_its_codes(taxonomy, survey):
    response = make_response(3)
    _code(response, taxonomy["hardware"])

    root_cause_update(root_cause=taxonomy["hardware"], active=False)
    root_cause_update(root_cause=taxonomy["policy"], active=False)

    offered = set(root_cause_choices().values_list("slug", flat=True))
    assert "hardware" not in offered and "vpn-access" in offered
    assert not offered & {"policy", "approval-rules", "access-policy", "licence-limits"}
    assert _slugs(response) == {"hardware"}

    root_cause_update(root_cause=taxonomy["hardware"], active=True)
    assert "hardware" in set(root_cause_choices().values_list("slug", flat=True))


# Merging


def test_merging_moves_every_code_and_collapses_a_response_coded_with_both(taxonomy, survey, alice):
    slow, handoffs = taxonomy["slow-resolution"], taxonomy["too-many-handoffs"]
    only_slow, both, only_handoffs = make_response(2), make_response(4), make_response(6)
    _code(only_slow, slow)
    _code(both, slow, source="agent")
    kept = _code(both, handoffs, source="manager", coded_by=alice)
    _code(only_handoffs, handoffs)

    merge = root_cause_merge(root_cause=slow, into=handoffs, actor=alice)

    assert (merge.codes_moved, merge.duplicates_collapsed, merge.causes_moved) == (1, 1, 0)
    assert [_slugs(r) for r in (only_slow, both, only_handoffs)] == [{"too-many-handoffs"}] * 3
    assert not ResponseRootCause.objects.filter(root_cause=slow).exists()
    survivor_code = both.root_cause_codes.get()
    assert (survivor_code.pk, survivor_code.source, survivor_code.coded_by) == (kept.pk, "manager", alice)
    slow.refresh_from_db()
    assert (slow.active, slow.merged_into) == (False, handoffs)
    recorded = RootCauseMerge.objects.get()
    assert (recorded.root_cause, recorded.into, recorded.actor, recorded.codes_moved) == (slow, handoffs, alice, 1)
    assert recorded.merged_at is not None


def test_merging_a_category_moves_its_causes_and_codes_under_the_survivor(taxonomy, survey, maya):
    response = make_response(1)
    _code(response, taxonomy["policy"])

    merge = root_cause_merge(root_cause=taxonomy["policy"], into=taxonomy["process"], actor=maya)

    assert (merge.codes_moved, merge.causes_moved) == (1, 3)
    assert set(RootCause.objects.filter(parent__slug="process").values_list("slug", flat=True)) >= {
        "approval-rules",
        "access-policy",
        "licence-limits",
        "slow-response",
    }
    assert _slugs(response) == {"process"}


@pytest.mark.parametrize(
    ("merged", "into", "error", "field"),
    [
        ("hardware", "hardware", ValidationError, "into"),
        ("hardware", "technology", ValidationError, "into"),
        ("technology", "hardware", ValidationError, "into"),
    ],
)
def test_merges_into_itself_or_across_levels_are_refused(taxonomy, merged, into, error, field):
    with pytest.raises(error) as refused:
        root_cause_merge(root_cause=taxonomy[merged], into=taxonomy[into], actor=None)
    assert list(refused.value.message_dict) == [field]
    assert not RootCauseMerge.objects.exists()
    assert RootCause.objects.get(slug=merged).active


def test_merges_into_an_inactive_or_merged_cause_and_merging_twice_are_conflicts(taxonomy, survey):
    response = make_response(2)
    _code(response, taxonomy["network"])
    root_cause_update(root_cause=taxonomy["email-calendar"], active=False)
    with pytest.raises(ConflictError):
        root_cause_merge(root_cause=taxonomy["network"], into=taxonomy["email-calendar"], actor=None)

    root_cause_merge(root_cause=taxonomy["hardware"], into=taxonomy["vpn-access"], actor=None)
    with pytest.raises(ConflictError):
        root_cause_merge(root_cause=taxonomy["network"], into=taxonomy["hardware"], actor=None)
    with pytest.raises(ConflictError):
        root_cause_merge(root_cause=taxonomy["hardware"], into=taxonomy["password-reset"], actor=None)
    with pytest.raises(ConflictError):
        root_cause_update(root_cause=taxonomy["hardware"], active=True)

    assert _slugs(response) == {"network"}
    assert RootCauseMerge.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_merges_of_one_pair_at_once_leave_one_merge(db):
    root_cause_taxonomy_seed()
    rude, unreachable = RootCause.objects.get(slug="rude-or-unhelpful"), RootCause.objects.get(slug="agent-unreachable")

    def merge(a: RootCause, b: RootCause):
        try:
            return root_cause_merge(root_cause=a, into=b, actor=None)
        except ConflictError as error:
            return error

    outcomes = at_once(lambda: merge(rude, unreachable), lambda: merge(unreachable, rude))

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["ConflictError", "RootCauseMerge"]
    assert RootCauseMerge.objects.count() == 1
    assert RootCause.objects.filter(slug__in=["rude-or-unhelpful", "agent-unreachable"], active=True).count() == 1


# Who coded what


def test_codes_record_an_agents_or_a_managers_source(open_case, alice, maya, taxonomy):
    case = open_case()

    case_root_causes_set(case=case, actor=alice, slugs=["hardware"])
    case_root_causes_set(case=case, actor=maya, slugs=["hardware", "network"])

    codes = {code.root_cause.slug: code for code in ResponseRootCause.objects.filter(response=case.response)}
    assert (codes["hardware"].source, codes["hardware"].coded_by) == ("agent", alice)
    assert (codes["network"].source, codes["network"].coded_by) == ("manager", maya)
    assert codes["network"].coded_at is not None


def test_coding_refuses_a_retired_cause_and_a_cause_of_an_inactive_category(open_case, alice, taxonomy):
    case = open_case()
    root_cause_merge(root_cause=taxonomy["hardware"], into=taxonomy["network"], actor=None)
    root_cause_update(root_cause=taxonomy["policy"], active=False)

    for slug in ("hardware", "licence-limits"):
        with pytest.raises(ApplicationError) as error:
            case_root_causes_set(case=case, actor=alice, slugs=[slug])
        assert list(error.value.errors or {}) == ["root_causes"]
    assert not ResponseRootCause.objects.filter(response=case.response).exists()


def test_a_code_of_a_retired_cause_may_stay_or_go_but_not_come_back(open_case, alice, taxonomy):
    case = open_case()
    case_root_causes_set(case=case, actor=alice, slugs=["hardware"])
    root_cause_update(root_cause=taxonomy["hardware"], active=False)

    case_root_causes_set(case=case, actor=alice, slugs=["hardware", "network"])
    assert _slugs(case.response) == {"hardware", "network"}
    case_root_causes_set(case=case, actor=alice, slugs=["network"])
    assert _slugs(case.response) == {"network"}
    with pytest.raises(ApplicationError):
        case_root_causes_set(case=case, actor=alice, slugs=["hardware", "network"])
    assert _slugs(case.response) == {"network"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_code_added_while_a_merge_commits_is_refused_not_left_on_the_retired_cause(db):
    import threading
    import time

    from django.db import transaction

    from followups.models import Case
    from followups.services import team_create
    from tests.factories import make_survey, make_user

    root_cause_taxonomy_seed()
    make_survey()
    alice = make_user("alice", "agent")
    team_create(slug="desk", name="Desk", members=["alice"])
    case = Case.objects.get(response=make_response(2))  # opened as the response was ingested
    hardware, network = RootCause.objects.get(slug="hardware"), RootCause.objects.get(slug="network")
    merged = threading.Event()

    def merge() -> str:
        with transaction.atomic():
            root_cause_merge(root_cause=hardware, into=network, actor=None)
            merged.set()
            time.sleep(0.5)  # the coder reads hardware as active, then waits for this commit
        return "merged"

    def code() -> str:
        merged.wait()
        try:
            case_root_causes_set(case=case, actor=alice, slugs=["hardware"])
        except ApplicationError as error:
            return str(error.errors)
        return "coded"

    outcomes = at_once(merge, code)

    assert outcomes == ["merged", "{'root_causes': [\"No active root cause 'hardware'.\"]}"]
    assert not ResponseRootCause.objects.filter(root_cause__slug="hardware").exists()
