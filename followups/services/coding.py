"""The root-cause taxonomy and coding responses and cases with it."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from closedloop.lib.exceptions import save_unique
from followups.models import ResolutionCode, RootCause


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
    """Add a node to the root-cause taxonomy, under ``parent`` (a slug) when given."""
    root_cause = RootCause(slug=slug, name=name, description=description, keywords=list(keywords), active=active)
    if parent:
        root_cause.parent = RootCause.objects.filter(slug=parent).first()
        if root_cause.parent is None:
            raise ValidationError({"parent": [f"No root cause with slug {parent!r}."]})
    root_cause.full_clean()
    save_unique(root_cause)
    return root_cause


@transaction.atomic
def resolution_code_create(*, slug: str, name: str, active: bool = True, position: int = 100) -> ResolutionCode:
    """Add a code agents can pick when they resolve a case."""
    code = ResolutionCode(slug=slug, name=name, active=active, position=position)
    code.full_clean()
    save_unique(code)
    return code
