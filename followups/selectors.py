"""Reads of the loops: teams, root causes, and responses by root cause."""

from __future__ import annotations

from django.db.models import F, QuerySet

from followups.models import RootCause, Team
from surveys.models import Response
from surveys.selectors import NpsRow, nps_breakdown


def team_list() -> QuerySet[Team]:
    return Team.objects.select_related("lead").prefetch_related("members").order_by("name")


def root_cause_list() -> QuerySet[RootCause]:
    return RootCause.objects.select_related("parent").order_by("slug")


def responses_coded_to(responses: QuerySet[Response], slug: str) -> QuerySet[Response]:
    """Restrict responses to those coded with the root cause ``slug``."""
    return responses.filter(root_cause_codes__root_cause__slug=slug)


def nps_by_root_cause(*, responses: QuerySet[Response]) -> list[NpsRow]:
    """NPS of the responses coded to each root cause (a response counts once per code)."""
    coded = responses.filter(root_cause_codes__isnull=False)
    return nps_breakdown(responses=coded, group=F("root_cause_codes__root_cause__slug"), group_by="root_cause")
