"""Reads of the account reports: each client account's quarter, and the signals that rank accounts by risk.

Every figure is an aggregate in SQL and each read takes a fixed number of queries whatever the
data; ``followups.account_risk`` ranks, ``surveys.nps`` does the NPS arithmetic and
``followups.themes`` ranks the themes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db.models import Count, F, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Lower, Trim, TruncMonth
from django.utils import timezone

from followups.account_risk import KEY_CONTACT_ATTRIBUTE, KEY_CONTACT_VALUES, AccountSignals
from followups.charts import sparkline
from followups.models import Case, ResponseRootCause
from followups.models.cases import OPEN
from followups.quarters import Quarter
from followups.themes import EMPTY, ThemeCounts, Totals, share, theme_rows
from surveys.models import Account, Invitation, Response
from surveys.nps import Category, NpsSummary

TOP_THEMES = 5
TREND_MONTHS = 12
SPARK_WIDTH, SPARK_HEIGHT = 600, 80


def only_key_contacts(queryset: QuerySet[Any], prefix: str = "") -> QuerySet[Any]:
    """The rows of ``queryset`` whose customer (reached through ``prefix``) is a key contact, as
    ``account_risk.is_key_contact`` reads the attribute: JSON true reads "true" as text."""
    flag = Lower(Trim(KeyTextTransform(KEY_CONTACT_ATTRIBUTE, f"{prefix}attributes")))
    return queryset.alias(key_contact_flag=flag).filter(key_contact_flag__in=sorted(KEY_CONTACT_VALUES))


def _category_counts(prefix: str, within: Q, name: str) -> dict[str, Count]:
    return {
        f"{name}_{category}": Count("pk", filter=within & Q(**{f"{prefix}category": category})) for category in Category
    }


def _summary(row: dict[str, Any], name: str) -> NpsSummary:
    return NpsSummary(
        row.get(f"{name}_{Category.PROMOTER}", 0),
        row.get(f"{name}_{Category.PASSIVE}", 0),
        row.get(f"{name}_{Category.DETRACTOR}", 0),
    )


def _period_counts(prefix: str, quarter: Quarter) -> tuple[Q, dict[str, Count]]:
    """The window of the quarter and the one before, and counts by category for each of them."""
    tz = timezone.get_default_timezone()
    start, end = quarter.bounds(tz)
    previous_start, _ = quarter.previous().bounds(tz)
    at = f"{prefix}submitted_at"
    current = Q(**{f"{at}__gte": start})
    window = Q(**{f"{at}__gte": previous_start, f"{at}__lt": end})
    return window, {**_category_counts(prefix, current, "current"), **_category_counts(prefix, ~current, "previous")}


def _delivered_in(quarter: Quarter) -> Q:
    start, end = quarter.bounds(timezone.get_default_timezone())
    return Q(sent_at__gte=start, sent_at__lt=end)


def _silent_key_contacts(quarter: Quarter) -> QuerySet[Invitation]:
    """Invitations to key contacts delivered in the quarter and still unanswered."""
    delivered = Invitation.objects.filter(_delivered_in(quarter), status=Invitation.Status.SENT)
    return only_key_contacts(delivered, "customer__")


def account_risk_signals(*, quarter: Quarter, now: datetime) -> list[AccountSignals]:
    """Every account's signals for ``quarter`` (NPS against the quarter before), in four queries."""
    window, counts = _period_counts("", quarter)
    responses = (
        Response.objects.filter(window, customer__account__isnull=False)
        .values(account=F("customer__account_id"))
        .annotate(**counts)
        .order_by()
    )
    nps = {row["account"]: row for row in cast("Iterable[dict[str, Any]]", responses)}
    silent = dict(
        _silent_key_contacts(quarter)
        .filter(customer__account__isnull=False)
        .values_list("customer__account_id")
        .annotate(Count("customer_id", distinct=True))
        .order_by()
    )
    overdue = dict(
        Case.objects.filter(OPEN, next_due__lte=now, response__customer__account__isnull=False)
        .values_list("response__customer__account_id")
        .annotate(Count("pk"))
        .order_by()
    )
    return [
        AccountSignals(
            external_id=account.external_id,
            name=str(account),
            current=_summary(nps.get(account.pk, {}), "current"),
            previous=_summary(nps.get(account.pk, {}), "previous"),
            silent_key_contacts=silent.get(account.pk, 0),
            overdue_cases=overdue.get(account.pk, 0),
        )
        for account in Account.objects.only("pk", "external_id", "name").order_by("pk")
    ]


@dataclass(frozen=True, slots=True)
class SlaCompliance:
    """How the cases opened in the period fared against one deadline."""

    met: int
    missed: int
    pending: int

    @property
    def share(self) -> float | None:
        """Met among the decided (met or missed); None before any is decided."""
        return share(self.met, self.met + self.missed)


@dataclass(frozen=True, slots=True)
class MonthNps:
    month: datetime
    summary: NpsSummary


@dataclass(frozen=True, slots=True)
class AccountReport:
    account: Account
    quarter: Quarter
    current: NpsSummary
    previous: NpsSummary
    invitations_delivered: int
    invitations_answered: int
    open_detractor_cases: list[Case]
    first_contact: SlaCompliance
    resolution: SlaCompliance
    themes: list[dict[str, Any]]
    months: list[MonthNps]
    trend: list[str]  # sparkline polylines of the months' NPS
    silent_key_contacts: list[Invitation]

    @property
    def response_rate(self) -> float | None:
        return share(self.invitations_answered, self.invitations_delivered)


def account_for_report(*, external_id: str) -> Account | None:
    return Account.objects.filter(external_id=external_id).first()


def account_report(*, account: Account, quarter: Quarter, now: datetime) -> AccountReport:
    """The quarter of one account for its business review, in seven queries whatever the data."""
    window, counts = _period_counts("", quarter)
    responses = Response.objects.filter(customer__account=account)
    row = responses.filter(window).aggregate(**counts)
    current = _summary(row, "current")
    invitations = Invitation.objects.filter(_delivered_in(quarter), customer__account=account).aggregate(
        delivered=Count("pk", filter=Q(status__in=[Invitation.Status.SENT, Invitation.Status.ANSWERED])),
        answered=Count("pk", filter=Q(status=Invitation.Status.ANSWERED)),
    )
    months = _monthly_nps(responses, quarter)
    return AccountReport(
        account=account,
        quarter=quarter,
        current=current,
        previous=_summary(row, "previous"),
        invitations_delivered=invitations["delivered"],
        invitations_answered=invitations["answered"],
        open_detractor_cases=list(
            Case.objects.filter(OPEN, response__customer__account=account, response__category=Category.DETRACTOR)
            .select_related("response__customer", "owner", "team")
            .order_by(F("next_due").asc(nulls_last=True), "pk")
        ),
        **_sla_compliance(account, quarter),
        themes=_top_themes(account, quarter, current),
        months=months,
        trend=sparkline([month.summary.nps for month in months], width=SPARK_WIDTH, height=SPARK_HEIGHT),
        silent_key_contacts=list(
            _silent_key_contacts(quarter)
            .filter(customer__account=account)
            .select_related("customer", "survey")
            .order_by("sent_at", "pk")
        ),
    )


def _sla_compliance(account: Account, quarter: Quarter) -> dict[str, SlaCompliance]:
    """First-contact and resolution outcomes of the cases opened in the quarter (one query).

    The conditions are ``Case.first_contact_outcome`` and ``resolution_outcome`` in SQL: met is
    done with no breach recorded; missed is a breach, or a case closed without the work done.
    """
    start, end = quarter.bounds(timezone.get_default_timezone())
    cases = Case.objects.filter(response__customer__account=account, created_at__gte=start, created_at__lt=end)
    aggregates: dict[str, Count] = {}
    for deadline, done in (("first_contact", "first_contacted_at"), ("resolution", "resolved_at")):
        breached = Q(**{f"{deadline}_breached_at__isnull": False})
        met = Q(**{f"{done}__isnull": False}) & ~breached
        missed = breached | (Q(**{f"{done}__isnull": True}) & ~OPEN)
        aggregates[f"{deadline}_met"] = Count("pk", filter=met)
        aggregates[f"{deadline}_missed"] = Count("pk", filter=missed)
        aggregates[f"{deadline}_all"] = Count("pk")
    row = cases.aggregate(**aggregates)
    return {
        deadline: SlaCompliance(
            met=row[f"{deadline}_met"],
            missed=row[f"{deadline}_missed"],
            pending=row[f"{deadline}_all"] - row[f"{deadline}_met"] - row[f"{deadline}_missed"],
        )
        for deadline in ("first_contact", "resolution")
    }


def _top_themes(account: Account, quarter: Quarter, current: NpsSummary) -> list[dict[str, Any]]:
    """The account's root causes of the quarter ranked by NPS impact (``theme_rows``), the first few."""
    start, end = quarter.bounds(timezone.get_default_timezone())
    codes = (
        ResponseRootCause.objects.filter(
            response__customer__account=account, response__submitted_at__gte=start, response__submitted_at__lt=end
        )
        .values(slug=F("root_cause__slug"), name=F("root_cause__name"), category=F("root_cause__parent__slug"))
        .annotate(**_category_counts("response__", Q(), "current"))
        .order_by()
    )
    themes = [
        ThemeCounts(
            slug=row["slug"],
            name=row["name"],
            category=row["category"],
            current=_summary(row, "current"),
            previous=EMPTY,
        )
        for row in cast("Iterable[dict[str, Any]]", codes)
    ]
    return theme_rows(themes, Totals(current=current, previous=EMPTY))[:TOP_THEMES]


def _monthly_nps(responses: QuerySet[Response], quarter: Quarter) -> list[MonthNps]:
    """NPS of each of the twelve months up to the end of the quarter, oldest first (one query)."""
    tz = timezone.get_default_timezone()
    first = quarter
    for _ in range(TREND_MONTHS // 3 - 1):
        first = first.previous()
    start, _ = first.bounds(tz)
    _, end = quarter.bounds(tz)
    rows = (
        responses.filter(submitted_at__gte=start, submitted_at__lt=end)
        .values(month=TruncMonth("submitted_at", tzinfo=tz))
        .annotate(**_category_counts("", Q(), "current"))
        .order_by()
    )
    by_month = {row["month"].date(): _summary(row, "current") for row in cast("Iterable[dict[str, Any]]", rows)}
    months = []
    year, month = start.year, start.month
    for _ in range(TREND_MONTHS):
        first_instant = datetime(year, month, 1, tzinfo=tz)
        months.append(MonthNps(first_instant, by_month.get(first_instant.date(), EMPTY)))
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return months
