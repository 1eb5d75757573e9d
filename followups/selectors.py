"""Reads of the loops: case lists and timelines, teams, root causes, responses by root cause, themes,
suggestions and the comments left to code, improvements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from types import SimpleNamespace
from typing import Any, cast

import django_filters
from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Exists, F, Min, OuterRef, Prefetch, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, TruncMonth
from django.db.models.lookups import Exact
from django.utils import timezone

from closedloop.lib.filters import AttributeFilterField, BooleanFilter, FilterSet, UtcDateTimeField, apply_filters
from followups.improvement_priority import ImprovementPriority, PriorityCounts, priority
from followups.improvement_status import ImprovementStatus
from followups.learning import Classifier, Example, loads
from followups.models import (
    Case,
    CaseEvent,
    CasePause,
    CustomerMessageTemplate,
    CustomerUpdate,
    Improvement,
    ImprovementRootCause,
    ImprovementStatusChange,
    ResolutionCode,
    ResponseRootCause,
    RootCause,
    RootCauseMerge,
    SuggestionDecision,
    SuggestionModel,
    Team,
    WebhookDelivery,
    WebhookEndpoint,
)
from followups.models.cases import OPEN
from followups.models.rules import Priority
from followups.suggestions import CauseChoice, Suggestion, suggest
from followups.themes import EMPTY, Level, Segment, ThemeCounts, Totals, previous_period, theme_rows
from followups.workflow import CaseStatus
from surveys.handling import HANDLING_TEAM
from surveys.models import Response
from surveys.nps import Category, NpsComparison, NpsSummary, compare, rounded
from surveys.selectors import NpsRow, nps_breakdown


def _with_statuses(queryset: QuerySet, value: str, known: list[str]) -> QuerySet:
    """The rows in any of the comma-separated statuses of ``value``; an unknown one is a ValidationError."""
    statuses = [status.strip() for status in value.split(",") if status.strip()]
    unknown = [status for status in statuses if status not in known]
    if unknown:
        raise ValidationError({"status": [f"Unknown status {status!r}." for status in unknown]})
    return queryset.filter(status__in=statuses)


class CaseFilter(FilterSet):
    status = django_filters.CharFilter(method="filter_status", help_text="One or several, comma-separated.")
    open = BooleanFilter(method="filter_open")
    owner = django_filters.CharFilter(method="filter_owner")
    team = django_filters.CharFilter(field_name="team__slug")
    overdue = BooleanFilter(method="filter_overdue")
    priority = django_filters.ChoiceFilter(choices=[("hot", "hot"), ("normal", "normal")])

    class Meta:
        model = Case
        fields = ["status", "open", "owner", "team", "overdue", "priority"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _with_statuses(queryset, value, CaseStatus.values)

    def filter_open(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(OPEN) if value else queryset.exclude(OPEN)

    def filter_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "me":
            user = getattr(self.request, "user", None)
            return queryset.filter(owner=user) if user is not None and user.is_authenticated else queryset.none()
        if value == "none":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner__username=value)

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        overdue = OPEN & Q(next_due__lte=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


def _with_root_causes(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Each case's response with its codes and their root causes, by slug (``coded_root_causes``)."""
    codes = ResponseRootCause.objects.select_related("root_cause", "coded_by").order_by("root_cause__slug")
    return queryset.prefetch_related(Prefetch("response__root_cause_codes", queryset=codes))


def coded_root_causes(case: Case) -> list[ResponseRootCause]:
    """The codes of the case's response, by slug, as ``case_list`` and ``case_detail`` load them."""
    return list(case.response.root_cause_codes.all())


def case_list(*, filters: dict[str, Any] | None = None, user: User | None = None) -> QuerySet[Case]:
    """Cases matching the API filters, earliest upcoming deadline first (no deadline last).

    Raises ValidationError for malformed filter values. ``user`` resolves ``owner=me``.
    """
    loaded = Case.objects.select_related("response__survey", "response__customer", "team", "owner")
    return _filtered(_with_root_causes(loaded), filters, user)


def _filtered(cases: QuerySet[Case], filters: dict[str, Any] | None, user: User | None) -> QuerySet[Case]:
    ordered = cases.order_by(F("next_due").asc(nulls_last=True), "pk")
    return apply_filters(CaseFilter, filters, ordered, request=SimpleNamespace(user=user))


# What the case API lists of each case, as lookups. A list reads them as plain values: six
# model instances per case (case, response, survey, customer, team, owner) were most of the
# time of a queue request.
CASE_LIST_VALUES = (
    "id",
    "status",
    "priority",
    "created_at",
    "first_contact_due",
    "resolution_due",
    "next_due",
    "at_risk_from",
    "first_contacted_at",
    "resolved_at",
    "closed_at",
    "paused_at",
    "first_contact_breached_at",
    "resolution_breached_at",
    "escalation_level",
    "owner__username",
    "team__slug",
    "response_id",
    "response__survey__slug",
    "response__score",
    "response__category",
    "response__comment",
    "response__channel",
    "response__submitted_at",
    "response__ticket_ref",
    "response__customer__external_id",
    "response__customer__name",
    "response__customer__email",
)


def case_values(*, filters: dict[str, Any] | None = None, user: User | None = None) -> QuerySet:
    """``case_list`` as dicts of CASE_LIST_VALUES; ``with_root_causes`` completes a page of them."""
    return _filtered(_all_case_values(), filters, user)


@cache
def _all_case_values() -> QuerySet:
    # Resolving the 28 lookups and their joins gives the same query every time; each use clones
    # this one, which is never evaluated itself. Measured by tests/bench/escalation.py (queue):
    # without the cache the request takes 3.4-4.0 times the hand SQL instead of 3.1-3.2.
    return Case.objects.values(*CASE_LIST_VALUES)


def with_root_causes(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add to each row of ``case_values`` the slugs of its response's root causes, in one query.

    Hand-written SQL: compiling this small query through the ORM took longer than running it,
    and it runs on every queue page. Measured by tests/bench/escalation.py (queue stages): the
    root causes take 3-5 ms a page this way, 11-13 ms through the ORM.
    """
    slugs: dict[int, list[str]] = {row["response_id"]: [] for row in rows}
    if slugs:
        codes, causes = ResponseRootCause._meta.db_table, RootCause._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT code.response_id, cause.slug FROM {codes} code JOIN {causes} cause"
                f" ON cause.id = code.root_cause_id WHERE code.response_id IN ({', '.join(['%s'] * len(slugs))})"
                " ORDER BY cause.slug",
                list(slugs),
            )
            for response_id, slug in cursor.fetchall():
                slugs[response_id].append(slug)
    for row in rows:
        row["root_causes"] = slugs[row["response_id"]]
    return rows


def case_as_row(case: Case) -> dict[str, Any]:
    """A case loaded by ``case_detail`` or ``case_list`` as the row ``case_values`` reads of it."""
    row = {}
    for lookup in CASE_LIST_VALUES:
        value: Any = case
        for name in lookup.split("__"):
            value = getattr(value, name) if value is not None else None
        row[lookup] = value
    row["root_causes"] = [code.root_cause.slug for code in coded_root_causes(case)]
    return row


# The queues' sortable columns: the key in the URL (``?sort=score``, ``?sort=-score``) to its fields.
QUEUE_SORTS = {
    "case": ("pk",),
    "score": ("response__score",),
    "customer": ("response__customer__name", "response__customer__external_id"),
    "age": ("created_at",),
    "deadline": ("next_due",),
    "priority": ("priority",),
    "status": ("status",),
    "team": ("team__name",),
    "owner": ("owner__username",),
}


def case_search(cases: QuerySet[Case], text: str) -> QuerySet[Case]:
    """The cases whose customer (name, email, external id), ticket reference or comment holds ``text``.

    A number (``1234`` or ``#1234``) also finds the case of that number. One condition in the
    same query: icontains (ILIKE on PostgreSQL, LIKE on SQLite) over the joined rows.
    """
    text = text.strip()
    if not text:
        return cases
    found = (
        Q(response__customer__name__icontains=text)
        | Q(response__customer__email__icontains=text)
        | Q(response__customer__external_id__icontains=text)
        | Q(response__ticket_ref__icontains=text)
        | Q(response__comment__icontains=text)
    )
    number = text.removeprefix("#")
    if number.isdigit() and len(number) < 10:
        found |= Q(pk=int(number))
    return cases.filter(found)


def case_sorted(cases: QuerySet[Case], sort: str) -> QuerySet[Case]:
    """``cases`` ordered by a column of QUEUE_SORTS (``-`` first: descending), then by case number.

    Empty values (no deadline, no owner) come last either way; an unknown key keeps the order.
    """
    fields = QUEUE_SORTS.get(sort.removeprefix("-"))
    if fields is None:
        return cases
    descending = sort.startswith("-")
    ordering = [F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True) for name in fields]
    return cases.order_by(*ordering, "-pk" if descending else "pk")


def case_counts(*, cases: QuerySet[Case], now: datetime) -> dict[str, int]:
    """Open, overdue, at-risk and hot cases among ``cases`` (open ones), in one aggregate query.

    The conditions are those of ``Case.is_overdue`` and ``Case.is_at_risk``, in SQL.
    """
    return cases.aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=Q(next_due__lte=now)),
        at_risk=Count("pk", filter=Q(at_risk_from__lte=now, next_due__gt=now)),
        hot=Count("pk", filter=Q(priority=Priority.HOT)),
    )


def case_pauses(*, case: Case) -> QuerySet[CasePause]:
    """The case's waits on the customer, oldest first."""
    return case.pauses.order_by("started_at")


def case_detail(*, case_id: int) -> Case:
    """One case with everything its page and API detail show, in a fixed number of queries."""
    return _with_root_causes(
        Case.objects.select_related(
            "response__survey", "response__customer__account", "team__lead", "owner", "resolution_code"
        )
    ).get(pk=case_id)


def case_events(*, case: Case) -> QuerySet[CaseEvent]:
    """The case's history, oldest first (as the API lists it)."""
    return case.events.select_related("actor").order_by("at", "pk")


def case_timeline(*, case: Case) -> QuerySet[CaseEvent]:
    """The case's history newest first, as the case page shows it: the last action's result on top."""
    return case.events.select_related("actor").order_by("-at", "-pk")


@dataclass(frozen=True)
class EventNames:
    """Display names of the slugs and usernames events store in their details, by kind of thing."""

    teams: dict[str, str]
    root_causes: dict[str, str]
    users: dict[str, str]
    resolution_codes: dict[str, str]


# The detail keys that hold a username, whatever the kind of event.
_USERNAME_KEYS = ("owner", "from", "to")


def case_event_names(events: Iterable[CaseEvent]) -> EventNames:
    """The names of everything ``events`` mention by slug or username, in four queries at most."""
    teams: set[str] = set()
    causes: set[str] = set()
    users: set[str] = set()
    codes: set[str] = set()
    for event in events:
        details = event.details or {}
        if isinstance(details.get("team"), str):
            teams.add(details["team"])
        for key in ("added", "removed"):
            causes.update(slug for slug in details.get(key) or () if isinstance(slug, str))
        if event.kind in (CaseEvent.Kind.ASSIGNED, CaseEvent.Kind.ESCALATED):
            users.update(details[key] for key in _USERNAME_KEYS if isinstance(details.get(key), str))
        for key in ("resolution_code", "code"):
            if isinstance(details.get(key), str):
                codes.add(details[key])
    return EventNames(
        teams=dict(Team.objects.filter(slug__in=teams).values_list("slug", "name")) if teams else {},
        root_causes=dict(RootCause.objects.filter(slug__in=causes).values_list("slug", "name")) if causes else {},
        users={user.username: user.get_full_name() or user.username for user in User.objects.filter(username__in=users)}
        if users
        else {},
        resolution_codes=dict(ResolutionCode.objects.filter(slug__in=codes).values_list("slug", "name"))
        if codes
        else {},
    )


@dataclass(frozen=True)
class QueueNeighbours:
    previous_id: int | None
    next_id: int | None
    position: int  # 1-based; 0 when the case is not in the queue
    total: int


def queue_neighbours(*, case: Case, user: User) -> QueueNeighbours:
    """The cases before and after ``case`` in the user's own queue, in the queue's order (one query)."""
    ids = list(case_list(filters={"owner": "me", "open": "true"}, user=user).values_list("pk", flat=True))
    if case.pk not in ids:
        return QueueNeighbours(None, ids[0] if ids else None, 0, len(ids))
    index = ids.index(case.pk)
    return QueueNeighbours(
        ids[index - 1] if index > 0 else None,
        ids[index + 1] if index + 1 < len(ids) else None,
        index + 1,
        len(ids),
    )


def customer_history(*, case: Case) -> QuerySet[Response]:
    """The customer's other responses, newest first, with their cases."""
    return (
        Response.objects.filter(customer_id=case.response.customer_id)
        .exclude(pk=case.response_id)
        .select_related("survey", "case")
        .order_by("-submitted_at")
    )


def message_template_list(*, active_only: bool = True) -> QuerySet[CustomerMessageTemplate]:
    templates = CustomerMessageTemplate.objects.order_by("name")
    return templates.filter(active=True) if active_only else templates


def resolution_code_list() -> QuerySet[ResolutionCode]:
    return ResolutionCode.objects.filter(active=True).order_by("position", "slug")


def team_list() -> QuerySet[Team]:
    return Team.objects.select_related("lead").prefetch_related("members").order_by("name")


class RootCauseFilter(FilterSet):
    active = BooleanFilter()
    parent = django_filters.CharFilter(field_name="parent__slug", help_text="The slug of a category: its causes.")
    kind = django_filters.ChoiceFilter(
        choices=[("category", "category"), ("cause", "cause")], method="filter_kind", help_text="category or cause."
    )

    class Meta:
        model = RootCause
        fields = ["active", "parent", "kind"]

    def filter_kind(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(parent__isnull=value == "category")


def root_cause_list(*, filters: dict[str, Any] | None = None) -> QuerySet[RootCause]:
    """Every root cause, retired ones included, by slug; ValidationError for malformed filters."""
    loaded = RootCause.objects.select_related("parent", "merged_into").order_by("slug")
    return apply_filters(RootCauseFilter, filters, loaded)


def root_cause_choices(*, keeping: Iterable[int] = ()) -> QuerySet[RootCause]:
    """What people may code with: active root causes whose category is active, category by category.

    Every picker offers these and ``case_root_causes_set`` accepts only these, and the retired
    root causes a response is coded with already (``keeping``, ids), which may stay or go but
    not be added anew. A retired root cause's codes stay and still count in every read.
    """
    usable = Q(active=True) & (Q(parent__isnull=True) | Q(parent__active=True))
    return (
        RootCause.objects.filter(usable | Q(pk__in=list(keeping)))
        .select_related("parent")
        .order_by(Coalesce("parent__name", "name"), F("parent").asc(nulls_first=True), "name")
    )


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The taxonomy as its page shows it: what can be coded with, and what is retired, apart."""

    categories: list[RootCause]  # active, by name; each with ``causes``: its active causes
    retired: list[RootCause]  # inactive nodes, and the causes of inactive categories


def root_cause_tree() -> Taxonomy:
    """The whole taxonomy for its page, in one query whatever its size.

    Every node carries ``code_count`` (the codes on it, retired or not) and its ``merged_into``;
    a category also ``total_count``, with its causes' codes.
    """
    nodes: list[RootCause] = list(
        RootCause.objects.select_related("merged_into").annotate(code_count=Count("response_codes")).order_by("name")
    )
    by_id = {node.pk: node for node in nodes}
    categories: list[RootCause] = []
    retired: list[RootCause] = []
    for node in nodes:
        node.causes = []  # type: ignore[attr-defined]  # filled below
        node.total_count = node.code_count  # type: ignore[attr-defined]  # as above
    for node in nodes:
        if node.parent_id is None:
            (categories if node.active else retired).append(node)
            continue
        node.parent = parent = by_id[node.parent_id]
        parent.total_count += node.code_count  # type: ignore[attr-defined]  # set above
        if node.active and parent.active:
            parent.causes.append(node)  # type: ignore[attr-defined]  # set above
        else:
            retired.append(node)
    return Taxonomy(categories=categories, retired=retired)


def root_cause_codes_under(category: RootCause) -> int:
    """How many codes the causes of ``category`` carry (its own codes not included)."""
    return ResponseRootCause.objects.filter(root_cause__parent=category).count()


def root_cause_merges(*, limit: int = 20) -> QuerySet[RootCauseMerge]:
    """The latest merges, newest first."""
    return RootCauseMerge.objects.select_related("root_cause", "into", "actor").order_by("-merged_at", "-pk")[:limit]


def responses_coded_to(responses: QuerySet[Response], slug: str) -> QuerySet[Response]:
    """Restrict responses to those coded with the root cause ``slug``."""
    return responses.filter(root_cause_codes__root_cause__slug=slug)


def nps_by_root_cause(*, responses: QuerySet[Response]) -> list[NpsRow]:
    """NPS of the responses coded to each root cause (a response counts once per code)."""
    coded = responses.filter(root_cause_codes__isnull=False)
    return nps_breakdown(responses=coded, group=F("root_cause_codes__root_cause__slug"), group_by="root_cause")


class ThemeFilterForm(forms.Form):
    """The filters of GET /api/v1/themes/; a value it cannot read is a 400 naming the field."""

    survey = forms.CharField(required=False)
    submitted_after = UtcDateTimeField(required=False)
    submitted_before = UtcDateTimeField(required=False)
    team = forms.CharField(required=False)
    attribute = AttributeFilterField()
    level = forms.ChoiceField(choices=[(level.value, level.value) for level in Level], required=False)
    segment = forms.ChoiceField(choices=[(segment.value, segment.value) for segment in Segment], required=False)


@dataclass(frozen=True, slots=True)
class _ThemeQuery:
    """What both queries of ``theme_report`` select, from the cleaned filters."""

    filters: dict[str, Any]
    window: tuple[datetime | None, datetime | None]  # every response counted, in either period
    current_from: datetime | None  # with a previous period: where the asked-for one starts

    def conditions(self, prefix: str) -> list[Any]:
        """The filters as conditions on a response reached through ``prefix`` (e.g. "response__")."""
        f = self.filters
        start, end = self.window
        conditions: list[Any] = []
        for lookup, value in (
            ("survey__slug", f["survey"] or None),
            (HANDLING_TEAM, f["team"] or None),
            ("submitted_at__gte", start),
            ("submitted_at__lt", end),
        ):
            if value is not None:
                conditions.append(Q(**{prefix + lookup: value}))
        if f["attribute"] is not None:
            name, value = f["attribute"]
            conditions.append(Exact(KeyTextTransform(name, f"{prefix}customer__attributes"), value))
        if f["segment"] == Segment.PROMOTERS:
            conditions.append(Q(**{f"{prefix}category": Category.PROMOTER}))
        return conditions

    def counts(self, prefix: str, counted: str, *, distinct: bool = False) -> dict[str, Count]:
        """Count ``counted`` per category (``current_<category>``), and per period with a previous one."""
        periods = {"current": Q()}
        if self.current_from is not None:
            since = Q(**{f"{prefix}submitted_at__gte": self.current_from})
            periods = {"current": since, "previous": ~since}
        return {
            f"{period}_{category}": Count(
                counted, distinct=distinct, filter=within & Q(**{f"{prefix}category": category})
            )
            for period, within in periods.items()
            for category in Category
        }


def _summary(row: dict[str, Any], period: str) -> NpsSummary:
    if f"{period}_{Category.PROMOTER}" not in row:
        return EMPTY
    return NpsSummary(
        row[f"{period}_{Category.PROMOTER}"], row[f"{period}_{Category.PASSIVE}"], row[f"{period}_{Category.DETRACTOR}"]
    )


def theme_report(*, filters: dict[str, Any], overall: NpsSummary | None = None) -> dict[str, Any]:
    """GET /api/v1/themes/: the root causes (or categories) of the filtered responses, ranked.

    Two queries whatever the data: one aggregate over the codes joined to their responses
    (counts per root cause by category), one over the responses (the totals the impacts and
    shares are of). With both time bounds each query also counts the period of the same length
    just before, in the same pass. ``followups.themes`` does the arithmetic. Raises
    ValidationError for malformed filter values. A caller that has counted the filtered responses
    already (the dashboard, from its rollup) passes them as ``overall``: the totals query is then
    skipped, and so is the comparison with the previous period.
    """
    cleaned = _cleaned_theme_filters(filters)
    after, before = cleaned["submitted_after"], cleaned["submitted_before"]
    bounded = after is not None and before is not None and overall is None
    previous = previous_period(after, before) if bounded else None
    query = _ThemeQuery(
        filters=cleaned,
        window=(previous[0], before) if previous is not None else (after, before),
        current_from=after if previous is not None else None,
    )
    if overall is None:
        totals_row = Response.objects.filter(*query.conditions("")).aggregate(**query.counts("", "category"))
        totals = Totals(current=_summary(totals_row, "current"), previous=_summary(totals_row, "previous"))
    else:
        totals = Totals(current=overall, previous=EMPTY)

    codes = ResponseRootCause.objects.filter(*query.conditions("response__")).order_by()
    if cleaned["level"] == Level.CATEGORY:
        # A response coded with two causes of one category counts once for it.
        groups = codes.values(
            slug=Coalesce("root_cause__parent__slug", "root_cause__slug"),
            name=Coalesce("root_cause__parent__name", "root_cause__name"),
        ).annotate(**query.counts("response__", "response", distinct=True))
    else:
        groups = codes.values(
            slug=F("root_cause__slug"), name=F("root_cause__name"), category=F("root_cause__parent__slug")
        ).annotate(**query.counts("response__", "pk"))
    themes = [
        ThemeCounts(
            slug=row["slug"],
            name=row["name"],
            category=row.get("category"),
            current=_summary(row, "current"),
            previous=_summary(row, "previous"),
        )
        for row in cast("Iterable[dict[str, Any]]", groups)
    ]
    segment = Segment(cleaned["segment"] or Segment.ALL)
    return {
        "level": cleaned["level"] or Level.CAUSE.value,
        "segment": segment.value,
        "overall": {
            "responses": totals.current.responses,
            "promoters": totals.current.promoters,
            "passives": totals.current.passives,
            "detractors": totals.current.detractors,
            "nps": rounded(totals.current.nps),
            "nps_margin_of_error": rounded(totals.current.margin_of_error),
            "enough": totals.current.enough,
        },
        "previous_period": previous
        and {
            "submitted_after": previous[0],
            "submitted_before": previous[1],
            "responses": totals.previous.responses,
            "nps": rounded(totals.previous.nps),
        },
        "results": theme_rows(themes, totals, segment=segment, with_previous=previous is not None),
    }


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.select_related("created_by").order_by("-created_at", "-pk")


def webhook_delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's deliveries, newest first."""
    return endpoint.deliveries.order_by("-created_at", "-pk")


def _cleaned_theme_filters(filters: dict[str, Any]) -> dict[str, Any]:
    form = ThemeFilterForm(filters)
    if not form.is_valid():
        raise ValidationError({name: [str(m) for m in messages] for name, messages in form.errors.items()})
    return form.cleaned_data


def _month_starts(end: datetime, months: int) -> list[datetime]:
    """The first instants (UTC) of the ``months`` calendar months up to ``end`` (exclusive), oldest first."""
    last = (end - timedelta(microseconds=1)).astimezone(UTC)
    year, month = last.year, last.month
    starts = []
    for _ in range(months):
        starts.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


@dataclass(frozen=True, slots=True)
class ThemeTrends:
    """Monthly figures of each theme: ``months`` (first instants, oldest first), then per theme one
    count of responses per month and one NPS, None for a month with too few responses to say."""

    months: list[datetime]
    responses: dict[str, list[int]]
    nps: dict[str, list[float | None]]

    def monthly(self, slug: str) -> list[tuple[datetime, float | None, int]]:
        """(month, NPS or None, responses) of the theme ``slug`` for each month, oldest first."""
        nps = self.nps.get(slug, [None] * len(self.months))
        return list(zip(self.months, nps, self.responses.get(slug, [0] * len(self.months)), strict=True))


def theme_trends(*, filters: dict[str, Any], now: datetime, months: int = 12) -> ThemeTrends:
    """NPS per theme and calendar month (UTC) for the ``months`` months up to the end of the period.

    The filters are the themes report's; the period ends at ``submitted_before``, else ``now``.
    One query whatever the data: the codes grouped by theme and month, counted by category.
    """
    cleaned = _cleaned_theme_filters(filters)
    starts = _month_starts(cleaned["submitted_before"] or now, months)
    query = _ThemeQuery(filters=cleaned, window=(starts[0], cleaned["submitted_before"] or now), current_from=None)
    month = TruncMonth("response__submitted_at", tzinfo=UTC)
    codes = ResponseRootCause.objects.filter(*query.conditions("response__")).order_by()
    if cleaned["level"] == Level.CATEGORY:
        slug = Coalesce("root_cause__parent__slug", "root_cause__slug")
        groups = codes.values(slug=slug, month=month).annotate(**query.counts("response__", "response", distinct=True))
    else:
        groups = codes.values(slug=F("root_cause__slug"), month=month).annotate(**query.counts("response__", "pk"))
    position = {start: index for index, start in enumerate(starts)}
    counts: dict[str, list[int]] = {}
    series: dict[str, list[float | None]] = {}
    for row in cast("Iterable[dict[str, Any]]", groups):
        index, summary = position[row["month"].astimezone(UTC)], _summary(row, "current")
        counts.setdefault(row["slug"], [0] * months)[index] = summary.responses
        series.setdefault(row["slug"], [None] * months)[index] = rounded(summary.nps) if summary.enough else None
    return ThemeTrends(months=starts, responses=counts, nps=series)


def theme_comments(*, root_cause: RootCause, filters: dict[str, Any]) -> QuerySet[Response]:
    """The filtered responses coded to ``root_cause`` (to any of its causes, for a category), newest first."""
    cleaned = _cleaned_theme_filters(filters)
    query = _ThemeQuery(
        filters=cleaned, window=(cleaned["submitted_after"], cleaned["submitted_before"]), current_from=None
    )
    coded = ResponseRootCause.objects.filter(Q(root_cause=root_cause) | Q(root_cause__parent=root_cause))
    return (
        Response.objects.filter(*query.conditions(""), pk__in=coded.values("response_id"))
        .select_related("customer", "survey", "case")
        .order_by("-submitted_at", "-pk")
    )


# Suggestions ---------------------------------------------------------------------------------

# The classifier this process loaded, by version: (version, classifier). Every read asks the
# database for the newest version (one small query) and loads the model only when it changed,
# so a model trained by any process on any machine is used everywhere from the next request.
_loaded: tuple[int, Classifier] | None = None


def suggestion_model_current() -> SuggestionModel | None:
    """The newest trained model without its pipeline: what the taxonomy page says about it."""
    return SuggestionModel.objects.defer("pipeline").order_by("-version").first()


def suggestion_classifier() -> tuple[int | None, Classifier | None]:
    """(version, classifier) of the newest stored model, or (None, None) before the first training."""
    global _loaded
    version = SuggestionModel.objects.order_by("-version").values_list("version", flat=True).first()
    if version is None:
        return None, None
    if _loaded is None or _loaded[0] != version:
        data = SuggestionModel.objects.filter(version=version).values_list("pipeline", flat=True).first()
        if data is None:  # deleted since: the next read finds the newer one
            return None, None
        _loaded = (version, loads(bytes(data)))
    return _loaded


def suggestion_cause_choices() -> list[CauseChoice]:
    """The causes that may be suggested: active, in an active category, with their keywords."""
    causes = root_cause_choices().filter(parent__isnull=False)
    return [
        CauseChoice(
            slug=cause.slug,
            name=cause.name,
            category=cause.parent.name if cause.parent else "",
            category_slug=cause.parent.slug if cause.parent else "",
            keywords=tuple(cause.keywords),
        )
        for cause in causes
    ]


@dataclass(frozen=True, slots=True)
class Suggested:
    """Suggestions for a set of responses, and the classifier version that scored them."""

    model_version: int | None
    by_response: dict[int, list[Suggestion]]
    causes: list[CauseChoice]


def suggestions_for(responses: Iterable[Response]) -> Suggested:
    """What to suggest for each of ``responses``, leaving out their codes and rejected suggestions.

    Four queries whatever the number of responses: the causes, the newest model's version (its
    pipeline once per new version), the responses' codes and their decisions.
    """
    responses = list(responses)
    causes = suggestion_cause_choices()
    version, classifier = suggestion_classifier()
    ids = [response.pk for response in responses]
    skip: dict[int, set[str]] = {pk: set() for pk in ids}
    for response_id, slug in ResponseRootCause.objects.filter(response_id__in=ids).values_list(
        "response_id", "root_cause__slug"
    ):
        skip[response_id].add(slug)
    for response_id, slug in SuggestionDecision.objects.filter(response_id__in=ids).values_list(
        "response_id", "root_cause__slug"
    ):
        skip[response_id].add(slug)
    texts = [response.comment for response in responses]
    scores = classifier.scores(texts) if classifier is not None else [{} for _ in texts]
    by_response = {
        response.pk: suggest(response.comment, causes, scores=score, skip=skip[response.pk])
        for response, score in zip(responses, scores, strict=True)
    }
    return Suggested(model_version=version, by_response=by_response, causes=causes)


def suggestion_examples() -> list[Example]:
    """Every coded comment, oldest first, with the active causes it is coded with: what to learn from.

    Codes of categories and of retired causes are left out (a merge moved the latter's to the
    survivor); a comment whose codes are all left out is not an example.
    """
    rows = (
        ResponseRootCause.objects.filter(root_cause__active=True, root_cause__parent__isnull=False)
        .exclude(response__comment="")
        .order_by("response__submitted_at", "response_id")
        .values_list("response_id", "response__comment", "root_cause__slug")
    )
    texts: dict[int, str] = {}
    causes: dict[int, set[str]] = {}
    for response_id, comment, slug in rows.iterator(chunk_size=5000):
        texts[response_id] = comment
        causes.setdefault(response_id, set()).add(slug)
    return [Example(text=texts[pk], causes=frozenset(causes[pk])) for pk in texts]


def uncoded_comments(*, filters: dict[str, Any]) -> QuerySet[Response]:
    """Responses with a comment and no code, newest first, by survey, period and team (the ticket's).

    ``filters``: ``survey`` (slug), ``submitted_after``, ``submitted_before`` (datetimes or ISO
    strings, as the themes page's filters give them), ``team`` (slug).
    """
    conditions = Q()
    for lookup, key in (
        ("survey__slug", "survey"),
        ("submitted_at__gte", "submitted_after"),
        ("submitted_at__lt", "submitted_before"),
        (HANDLING_TEAM, "team"),
    ):
        if filters.get(key):
            conditions &= Q(**{lookup: filters[key]})
    return (
        Response.objects.filter(conditions)
        .exclude(comment="")
        .filter(~Exists(ResponseRootCause.objects.filter(response=OuterRef("pk"))))
        .select_related("customer", "survey")
        .order_by("-submitted_at", "-pk")
    )


class ImprovementFilter(FilterSet):
    status = django_filters.CharFilter(method="filter_status", help_text="One or several, comma-separated.")
    owner = django_filters.CharFilter(method="filter_owner", help_text="A username, or `none`.")
    root_cause = django_filters.CharFilter(
        method="filter_root_cause",
        help_text="A root cause's slug: improvements linked to it, its category or its causes.",
    )

    class Meta:
        model = Improvement
        fields = ["status", "owner", "root_cause"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _with_statuses(queryset, value, ImprovementStatus.values)

    def filter_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "none":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner__username=value)

    def filter_root_cause(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A category stands for its causes, in this filter as in the priority.
        related = Q(root_cause__slug=value) | Q(root_cause__parent__slug=value) | Q(root_cause__children__slug=value)
        linked = ImprovementRootCause.objects.filter(related)
        return queryset.filter(pk__in=linked.values("improvement_id"))


def improvement_list(*, filters: dict[str, Any] | None = None, with_history: bool = False) -> QuerySet[Improvement]:
    """Improvements matching the API filters, newest first, with their owner and root causes loaded.

    ``with_history`` loads each one's status changes too, oldest first, with their actors.
    ``improvement_board`` ranks them by priority. Raises ValidationError for malformed filters.
    """
    causes = RootCause.objects.select_related("parent").order_by("slug")
    loaded = Improvement.objects.select_related("owner").prefetch_related(Prefetch("root_causes", queryset=causes))
    if with_history:
        history = ImprovementStatusChange.objects.select_related("actor").order_by("changed_at", "pk")
        loaded = loaded.prefetch_related(Prefetch("status_changes", queryset=history))
    return apply_filters(ImprovementFilter, filters, loaded)


def improvement_detail(*, pk: int) -> Improvement:
    """One improvement as its page and the API show it, with its status history."""
    return improvement_list(with_history=True).get(pk=pk)


_PRIORITY_SQL = """
WITH board (id, since) AS (VALUES {windows}
), causes AS (
    SELECT DISTINCT link.improvement_id, rc.id AS root_cause_id
    FROM board
    JOIN {link} link ON link.improvement_id = board.id
    JOIN {root_cause} rc ON rc.id = link.root_cause_id OR rc.parent_id = link.root_cause_id
), raised AS (
    SELECT DISTINCT causes.improvement_id, r.id, r.category, r.customer_id
    FROM causes
    JOIN {code} code ON code.root_cause_id = causes.root_cause_id
    JOIN {response} r ON r.id = code.response_id
    JOIN board ON board.id = causes.improvement_id
    WHERE r.submitted_at >= board.since
), themes AS (
    SELECT improvement_id,
           count(*) FILTER (WHERE category = %(promoter)s) AS promoters,
           count(*) FILTER (WHERE category = %(passive)s) AS passives,
           count(*) FILTER (WHERE category = %(detractor)s) AS detractors,
           count(DISTINCT customer_id) AS customers
    FROM raised GROUP BY improvement_id
), totals AS (
    SELECT windows.since,
           count(*) FILTER (WHERE r.category = %(promoter)s) AS promoters,
           count(*) FILTER (WHERE r.category = %(passive)s) AS passives,
           count(*) FILTER (WHERE r.category = %(detractor)s) AS detractors
    FROM (SELECT DISTINCT since FROM board) windows JOIN {response} r ON r.submitted_at >= windows.since
    GROUP BY windows.since
)
SELECT board.id,
       coalesce(themes.promoters, 0), coalesce(themes.passives, 0), coalesce(themes.detractors, 0),
       coalesce(themes.customers, 0),
       coalesce(totals.promoters, 0), coalesce(totals.passives, 0), coalesce(totals.detractors, 0)
FROM board
LEFT JOIN themes ON themes.improvement_id = board.id
LEFT JOIN totals ON totals.since = board.since
"""


def improvement_priority_counts(*, improvements: Iterable[Improvement], now: datetime) -> dict[int, PriorityCounts]:
    """What each improvement's priority is computed from, for any number of them in one query.

    Within each improvement's lookback window (the customers shipping would reach): the
    responses coded to any of its root causes or to a cause of a category among them, each
    once, counted by category with their distinct customers; and every response of the window.
    Hand-written SQL: the union of a category's causes and the per-improvement windows have no
    ORM spelling that stays one query.
    """
    windows = {i.pk: now - timedelta(days=i.lookback_days) for i in improvements}
    if not windows:
        return {}
    tables = {
        "link": ImprovementRootCause._meta.db_table,
        "root_cause": RootCause._meta.db_table,
        "code": ResponseRootCause._meta.db_table,
        "response": Response._meta.db_table,
    }
    values = ", ".join(f"(%(id{n})s, %(since{n})s)" for n in range(len(windows)))
    params: dict[str, Any] = {category.name.lower(): category.value for category in Category}
    for n, (pk, since) in enumerate(windows.items()):
        params[f"id{n}"], params[f"since{n}"] = pk, since
    with connection.cursor() as cursor:
        cursor.execute(_PRIORITY_SQL.format(windows=values, **tables), params)
        rows = cursor.fetchall()
    return {
        row[0]: PriorityCounts(
            themes=NpsSummary(row[1], row[2], row[3]), customers=row[4], overall=NpsSummary(row[5], row[6], row[7])
        )
        for row in rows
    }


def improvement_priorities(improvements: Iterable[Improvement], *, now: datetime) -> dict[int, ImprovementPriority]:
    """Each improvement's priority (override or computed, with its sentence), by id, in one query."""
    improvements = list(improvements)
    counts = improvement_priority_counts(improvements=improvements, now=now)
    return {
        i.pk: priority(counts[i.pk], override=i.priority_override, reason=i.priority_override_reason)
        for i in improvements
    }


def improvement_board(
    *, filters: dict[str, Any] | None = None, now: datetime, with_history: bool = False
) -> list[Improvement]:
    """``improvement_list`` ranked by priority, highest first (newest first among equals), each with ``priority``.

    Three queries whatever the number (four ``with_history``): the improvements, their root
    causes, (their status changes,) their priorities.
    """
    improvements = list(improvement_list(filters=filters, with_history=with_history))
    priorities = improvement_priorities(improvements, now=now)
    for improvement in improvements:
        improvement.priority = priorities[improvement.pk]  # type: ignore[attr-defined]
    # Sorted by newest first already; a stable sort by score keeps that among equal scores.
    improvements.sort(key=lambda i: -priorities[i.pk].score)
    return improvements


def improvement_delivery_counts(*, ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """How many of each improvement's customer updates are in each status (every status, 0 when none)."""
    ids = list(ids)
    counts = {pk: dict.fromkeys(CustomerUpdate.Status.values, 0) for pk in ids}
    rows = (
        CustomerUpdate.objects.filter(improvement_id__in=ids)
        .order_by()
        .values_list("improvement_id", "status")
        .annotate(n=Count("pk"))
    )
    for improvement_id, update_status, n in rows:
        counts[improvement_id][update_status] = n
    return counts


@dataclass(frozen=True)
class ImprovementImpact:
    """The NPS of the customers "you said, we did" updates reached, before and after the improvement shipped."""

    before: NpsSummary
    after: NpsSummary
    change: NpsComparison | None


def notified_impact(*, updates: QuerySet[CustomerUpdate]) -> ImprovementImpact:
    """Did it work, for the customers ``updates`` reached: their responses before against after.

    Only sent updates count. Each customer's responses (any survey, any time) are split once,
    where the first improvement of their updates shipped, so a customer told twice counts once
    on each side. One aggregate query whatever the number of customers, updates or responses.
    """
    sent = updates.filter(status=CustomerUpdate.Status.SENT).order_by()
    # Each customer's first shipping, grouped once and joined: a subquery per response would run
    # once for each of millions of rows.
    first_shipped, params = (
        sent.values("customer_id").annotate(at=Min("improvement__shipped_at")).values("customer_id", "at")
    ).query.sql_with_params()
    sides = (("before", "<"), ("after", ">="))
    categories = (Category.PROMOTER, Category.PASSIVE, Category.DETRACTOR)
    columns = ", ".join(
        f"COALESCE(SUM(CASE WHEN r.category = %s AND r.submitted_at {op} f.at THEN 1 ELSE 0 END), 0)"
        for _when, op in sides
        for _category in categories
    )
    sql = (
        f"SELECT {columns} FROM {Response._meta.db_table} r"
        f" INNER JOIN ({first_shipped}) f ON f.customer_id = r.customer_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(str(c) for _side in sides for c in categories), *params])
        values = cursor.fetchone()
    row = dict(zip((f"{when}_{c}" for when, _op in sides for c in categories), values, strict=True))

    def summary(when: str) -> NpsSummary:
        return NpsSummary(row[f"{when}_promoter"], row[f"{when}_passive"], row[f"{when}_detractor"])

    before, after = summary("before"), summary("after")
    # Compared only when both sides have enough answers, as periods are.
    enough = before.enough and after.enough
    return ImprovementImpact(before=before, after=after, change=compare(after, before) if enough else None)


def improvement_impact(*, improvement: Improvement) -> ImprovementImpact | None:
    """Did it work: the notified customers' responses before shipping against those after.

    ``notified_impact`` of the improvement's updates; None until it has shipped.
    """
    if improvement.shipped_at is None:
        return None
    return notified_impact(updates=CustomerUpdate.objects.filter(improvement=improvement))
