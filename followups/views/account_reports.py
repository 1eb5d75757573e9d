"""The account reports of an IT service provider: client accounts ranked by risk, and each account's
quarter for its business review, printable (the print stylesheet in app.css; the browser's print
to PDF is the export). Managers and team leads only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from closedloop.lib.requests import SignedInRequest
from followups.account_risk import KEY_CONTACT_ATTRIBUTE, rank_accounts
from followups.account_selectors import (
    SPARK_HEIGHT,
    SPARK_WIDTH,
    AccountReport,
    account_for_report,
    account_report,
    account_risk_signals,
)
from followups.charts import diverging_bar, scale_limit
from followups.quarters import Quarter, recent_quarters
from followups.views.access import lead_page
from surveys.nps import compare

QUARTERS_OFFERED = 8
BAR_WIDTH = 120


class QuarterForm(forms.Form):
    """The period in the URL (``?quarter=2026-Q3``); by default the last complete quarter."""

    quarter = forms.ChoiceField(required=False, label="Quarter")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.default = Quarter.containing(today).previous()
        labels = [quarter.label for quarter in recent_quarters(today, QUARTERS_OFFERED)]
        self.fields["quarter"].choices = [(label, label) for label in labels]  # type: ignore[attr-defined]
        self.fields["quarter"].initial = self.default.label

    def chosen(self) -> Quarter:
        """The asked-for quarter, or the default when none (or none offered) was asked for."""
        if self.is_bound and self.is_valid() and self.cleaned_data["quarter"]:
            return Quarter.parse(self.cleaned_data["quarter"])
        return self.default


def _period(request: SignedInRequest) -> tuple[QuarterForm, Quarter]:
    form = QuarterForm(request.GET if "quarter" in request.GET else None)
    return form, form.chosen()


@lead_page
def account_report_list(request: SignedInRequest) -> HttpResponse:
    form, quarter = _period(request)
    risks = rank_accounts(account_risk_signals(quarter=quarter, now=timezone.now()))
    limit = scale_limit([risk.change.difference if risk.change else None for risk in risks])
    rows = [
        {
            "risk": risk,
            "bar": diverging_bar(risk.change.difference if risk.change else None, limit=limit, width=BAR_WIDTH),
        }
        for risk in risks
    ]
    context = {
        "form": form,
        "quarter": quarter,
        "rows": rows,
        "bar_width": BAR_WIDTH,
        "key_contact_attribute": KEY_CONTACT_ATTRIBUTE,
    }
    return render(request, "followups/accounts/list.html", context)


@lead_page
def account_report_page(request: SignedInRequest, account: str) -> HttpResponse:
    found = account_for_report(external_id=account)
    if found is None:
        raise Http404("No such account.")
    form, quarter = _period(request)
    now = timezone.now()
    report = account_report(account=found, quarter=quarter, now=now)
    change = compare(report.current, report.previous)
    limit = scale_limit([row["nps_impact"] for row in report.themes])
    themes = [{**row, "bar": diverging_bar(row["nps_impact"], limit=limit, width=BAR_WIDTH)} for row in report.themes]
    context = {
        "form": form,
        "report": report,
        "change": change,
        "change_size": abs(change.difference) if change else None,
        "previous_nps": f"{report.previous.nps:+.0f}" if change else "",
        "sla_rows": [("First contact", report.first_contact), ("Resolution", report.resolution)],
        "themes": themes,
        "overdue": sum(case.is_overdue(now) for case in report.open_detractor_cases),
        "now": now,
        "bar_width": BAR_WIDTH,
        "spark": {"width": SPARK_WIDTH, "height": SPARK_HEIGHT},
        "trend_text": _trend_text(report),
        "key_contact_attribute": KEY_CONTACT_ATTRIBUTE,
    }
    return render(request, "followups/accounts/report.html", context)


def _trend_text(report: AccountReport) -> str:
    """What the NPS line shows, for a screen reader: each month with responses and its NPS."""
    parts = [f"{m.month:%b %Y} {m.summary.nps:+.0f}" for m in report.months if m.summary.nps is not None]
    return "NPS by month: " + ", ".join(parts) if parts else "No responses in these twelve months"
