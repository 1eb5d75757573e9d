"""The root-cause taxonomy and coding responses and cases with it.

The taxonomy is two levels deep: categories (no parent) and causes (a category as parent, no
children). Slugs never change, since codes, filters and outside systems name root causes by
them; everything else can, through ``root_cause_update``. A root cause is never deleted: it is
deactivated (hidden from pickers, its codes kept and still counted) or merged into another.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Value
from django.utils.text import slugify

from closedloop.lib.exceptions import ConflictError, save_unique
from closedloop.lib.updates import model_update
from followups.models import ImprovementRootCause, ResolutionCode, ResponseRootCause, RootCause, RootCauseMerge
from followups.taxonomy import seed_default_taxonomy

KEYWORDS_MAX = 50


def _keywords(keywords: Iterable[str]) -> list[str]:
    """Lower case, trimmed, each once, in the order given; matching comments is case-blind."""
    cleaned = list(dict.fromkeys(word.strip().lower() for word in keywords if word.strip()))
    if len(cleaned) > KEYWORDS_MAX:
        raise ValidationError({"keywords": [f"At most {KEYWORDS_MAX} keywords."]})
    return cleaned


def _category(slug: str, *, moving: RootCause | None = None) -> RootCause:
    """The active category ``slug`` that a cause may be put under (ValidationError on "parent").

    Held until commit (``root_causes_hold``) and read again after: a merge of it, or a move that
    would make it a cause, either commits first and is seen here, or waits for this transaction.
    """
    parent = RootCause.objects.filter(slug=slug).first()
    if parent is None:
        raise ValidationError({"parent": [f"No root cause with slug {slug!r}."]})
    root_causes_hold([parent])
    parent.refresh_from_db()
    if parent.parent_id is not None:
        raise ValidationError({"parent": [f"{slug!r} is a cause; a cause cannot have causes under it."]})
    if not parent.active:
        raise ValidationError({"parent": [f"{slug!r} is inactive; reactivate it first."]})
    if moving is not None and parent.pk == moving.pk:
        raise ValidationError({"parent": ["A root cause cannot be its own parent."]})
    return parent


@transaction.atomic
def root_cause_create(
    *,
    slug: str,
    name: str,
    parent: str | None = None,
    description: str = "",
    keywords: Iterable[str] = (),
    active: bool = True,
) -> RootCause:
    """Add a category (no ``parent``) or a cause under the category ``parent`` (a slug)."""
    root_cause = RootCause(slug=slug, name=name, description=description, keywords=_keywords(keywords), active=active)
    if parent:
        root_cause.parent = _category(parent)
    root_cause.full_clean()
    save_unique(root_cause)
    return root_cause


@transaction.atomic
def root_cause_update(
    *,
    root_cause: RootCause,
    slug: str | None = None,
    name: str | None = None,
    description: str | None = None,
    keywords: Iterable[str] | None = None,
    parent: str | None = None,
    active: bool | None = None,
) -> RootCause:
    """Rename, describe, re-key, move or (de)activate a root cause; None leaves a field as it is.

    ``parent`` is the slug of the category to move a cause to, or "" to make it a category; a
    category with causes under it stays one. The slug stays, as a team's does: another one than
    the root cause's is refused. A merged root cause cannot be reactivated (ConflictError): its
    codes now belong to the survivor.
    """
    if slug is not None and slug != root_cause.slug:
        raise ValidationError({"slug": ["A root cause's slug cannot change."]})
    # The lock orders this change after a merge that is retiring the same row, and before one that starts.
    root_cause = RootCause.objects.select_for_update(of=("self",)).select_related("parent").get(pk=root_cause.pk)
    changes: dict = {}
    if name is not None:
        changes["name"] = name
    if description is not None:
        changes["description"] = description
    if keywords is not None:
        changes["keywords"] = _keywords(keywords)
    if parent is not None and parent != (root_cause.parent.slug if root_cause.parent else ""):
        changes["parent"] = _new_parent(root_cause, parent)
    if active is not None:
        if active and root_cause.merged_into_id is not None:
            raise ConflictError(f"{root_cause.slug} was merged into another root cause; it cannot be reactivated.")
        changes["active"] = active
    model_update(root_cause, changes)
    return root_cause


def _new_parent(root_cause: RootCause, parent: str) -> RootCause | None:
    if not parent:
        return None
    new_parent = _category(parent, moving=root_cause)
    if new_parent.pk != root_cause.parent_id and root_cause.children.exists():
        raise ValidationError(
            {"parent": [f"{root_cause.slug!r} has causes under it; a category cannot become a cause."]}
        )
    return new_parent


@dataclass(frozen=True, slots=True)
class _Moved:
    codes: int
    duplicates: int
    improvement_links: int = 0


@transaction.atomic
def root_cause_merge(*, root_cause: RootCause, into: RootCause, actor: User | None) -> RootCauseMerge:
    """Merge ``root_cause`` into ``into``, in one transaction, and record it as a RootCauseMerge.

    1. Both rows are locked (in id order, so two merges of the same pair cannot deadlock) and
       checked as stored: a cause merges into a cause, a category into a category; never into
       itself (ValidationError), into an inactive or merged one, nor when already merged
       (ConflictError).
    2. Every code of ``root_cause`` moves to ``into``. A response coded with both keeps the code
       it had with ``into`` (its source and coder); the other is dropped, so no response is
       coded twice with one root cause.
    3. Every improvement linked to ``root_cause`` is linked to ``into`` instead; one linked to
       both keeps a single link. The merge row counts the links moved.
    4. A category's causes move under ``into``.
    5. ``root_cause`` is retired: inactive, with ``merged_into`` pointing at the survivor.
    """
    if root_cause.pk == into.pk:
        raise ValidationError({"into": ["A root cause cannot be merged into itself."]})
    both = RootCause.objects.select_for_update().filter(pk__in=[root_cause.pk, into.pk]).order_by("pk")
    locked = {rc.pk: rc for rc in both}
    root_cause, into = locked[root_cause.pk], locked[into.pk]
    _check_merge(root_cause, into)
    moved = _move_codes(root_cause, into)
    links = _move_improvement_links(root_cause, into)
    causes = RootCause.objects.filter(parent=root_cause).update(parent=into) if root_cause.is_category else 0
    model_update(root_cause, {"active": False, "merged_into": into})
    merge = RootCauseMerge(
        root_cause=root_cause,
        into=into,
        actor=actor,
        codes_moved=moved.codes,
        duplicates_collapsed=moved.duplicates,
        causes_moved=causes,
        improvement_links_moved=links,
    )
    merge.full_clean()
    merge.save()
    return merge


def _check_merge(root_cause: RootCause, into: RootCause) -> None:
    if root_cause.merged_into_id is not None:
        raise ConflictError(f"{root_cause.slug} was already merged into another root cause.")
    if root_cause.is_category != into.is_category:
        kind = "category" if root_cause.is_category else "cause"
        raise ValidationError({"into": [f"{root_cause.slug!r} is a {kind}; merge it into a {kind}."]})
    if into.merged_into_id is not None:
        raise ConflictError(f"{into.slug} was merged into another root cause; merge into that one.")
    if not into.active:
        raise ConflictError(f"{into.slug} is inactive; reactivate it or merge into an active root cause.")


def _move_codes(root_cause: RootCause, into: RootCause) -> _Moved:
    codes = ResponseRootCause.objects.filter(root_cause=root_cause)
    already = ResponseRootCause.objects.filter(root_cause=into).values("response_id")
    duplicates, _ = codes.filter(response_id__in=already).delete()
    # A coding that wrote one of these codes before the lock was taken has committed (it holds
    # ``root_causes_hold`` until then), so both statements see its code.
    moved = codes.update(root_cause=into)
    return _Moved(codes=moved, duplicates=duplicates)


def _move_improvement_links(root_cause: RootCause, into: RootCause) -> int:
    """Re-point ``root_cause``'s improvement links at ``into``, dropping those ``into`` has already."""
    links = ImprovementRootCause.objects.filter(root_cause=root_cause)
    already = ImprovementRootCause.objects.filter(root_cause=into).values("improvement_id")
    links.filter(improvement_id__in=already).delete()
    return links.update(root_cause=into)


def root_causes_hold(root_causes: Iterable[RootCause]) -> set[int]:
    """Lock ``root_causes`` against a merge until the transaction ends; return the ids still active.

    A code is written for a root cause read as active a moment before; a merge committing in
    between would leave it on a retired root cause (the foreign key is checked only at commit,
    and a retired row still satisfies it). FOR KEY SHARE waits for a merge or change holding the
    row and then reads it as committed; codings of one root cause do not wait for each other.
    SQLite runs one write transaction at a time, so a plain read is enough there.
    """
    ids = [rc.pk for rc in root_causes]
    if not ids:
        return set()
    if connection.vendor != "postgresql":
        return set(RootCause.objects.filter(pk__in=ids, active=True).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {RootCause._meta.db_table} WHERE id = ANY(%s) AND active FOR KEY SHARE", [ids])
        return {row[0] for row in cursor.fetchall()}


def root_cause_taxonomy_seed() -> int:
    """Put back the default taxonomy's missing categories and causes (by slug); return how many.

    The migration that introduced it seeds it once; this is for a database emptied since (the
    demo and tests that flush it).
    """
    return seed_default_taxonomy(RootCause)


@transaction.atomic
def resolution_code_create(*, slug: str, name: str, active: bool = True, position: int = 100) -> ResolutionCode:
    """Add a code agents can pick when they resolve a case."""
    code = ResolutionCode(slug=slug, name=name, active=active, position=position)
    code.full_clean()
    save_unique(code)
    return code


@transaction.atomic
def resolution_code_update(
    *, code: ResolutionCode, name: str | None = None, active: bool | None = None, position: int | None = None
) -> ResolutionCode:
    """Rename, reorder or (de)activate a code; its slug stays, and cases resolved with it keep it.

    A deactivated code is no longer offered to agents.
    """
    changes = {"name": name, "active": active, "position": position}
    model_update(code, {field: value for field, value in changes.items() if value is not None})
    return code


def _folded(text: str) -> str:
    """Text compared case- and accent-blind: "Facturação" and "facturacao" are the same."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold().strip()


def responses_code_from_tags(*, response_tags: Mapping[int, Sequence[str]]) -> int:
    """Code imported responses with the active root causes their old tool's tags name.

    A tag names a root cause by its slug or its name, case- and accent-blind. The codes are
    recorded as coded by ``import``; a response already coded with a cause is left as it is.
    Returns the number of codes added. One query for the taxonomy, one for the codes the
    responses have, one insert for the new ones.
    """
    if not response_tags:
        return 0
    by_tag: dict[str, int] = {}
    for pk, slug, name in RootCause.objects.filter(active=True).values_list("pk", "slug", "name"):
        by_tag.setdefault(_folded(slug), pk)
        by_tag.setdefault(_folded(name), pk)
    codes = {
        (response_id, root_cause_id)
        for response_id, tags in response_tags.items()
        for tag in tags
        if (root_cause_id := by_tag.get(_folded(tag)) or by_tag.get(slugify(_folded(tag)))) is not None
    }
    if not codes:
        return 0
    stored = set(
        ResponseRootCause.objects.filter(response_id__in=list(response_tags)).values_list(
            "response_id", "root_cause_id"
        )
    )
    new = sorted(codes - stored)
    # A code someone put on meanwhile is theirs: the conflict leaves it as it is.
    ResponseRootCause.objects.bulk_create(
        [
            ResponseRootCause(
                response_id=response_id, root_cause_id=root_cause_id, source=ResponseRootCause.Source.IMPORT
            )
            for response_id, root_cause_id in new
        ],
        ignore_conflicts=True,
    )
    return len(new)


def root_cause_categories_offered(*, response_id: int | None) -> list[tuple[str, str, bool]]:
    """The active categories (slug, name, chosen) a customer may say their answer was about.

    ``chosen`` marks the one the customer coded ``response_id`` with. One query.
    """
    categories = RootCause.objects.filter(active=True, parent__isnull=True)
    if response_id is None:
        categories = categories.annotate(chosen=Value(False))
    else:
        chosen = ResponseRootCause.objects.filter(
            response_id=response_id, root_cause=OuterRef("pk"), source=ResponseRootCause.Source.CUSTOMER
        )
        categories = categories.annotate(chosen=Exists(chosen))
    return list(categories.order_by("name").values_list("slug", "name", "chosen"))


@transaction.atomic
def response_customer_code(*, response_id: int, topic: str) -> ResponseRootCause | None:
    """Keep the category a customer said their answer was about as their own code, beside the agents'.

    A customer holds one such code: choosing again replaces it, choosing none removes it. A code
    an agent already put on the same category stays theirs.
    """
    ResponseRootCause.objects.filter(response_id=response_id, source=ResponseRootCause.Source.CUSTOMER).delete()
    category = RootCause.objects.filter(active=True, parent__isnull=True, slug=topic).first() if topic else None
    if category is None:
        return None
    code, _created = ResponseRootCause.objects.get_or_create(
        response_id=response_id, root_cause=category, defaults={"source": ResponseRootCause.Source.CUSTOMER}
    )
    return code
