"""The manager's improvement pages: the board ranked by priority, a new improvement, and one improvement.

Plain forms that post and redirect, as on the taxonomy pages. The rules (the lifecycle, who may
own one, which root causes may be linked, the override's reason) are the services'; their
refusals go back on the form that caused them. Shipping has a page of its own.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.requests import SignedInRequest
from followups.improvement_status import ImprovementStatus, allowed_next_statuses
from followups.models import Improvement, RootCause
from followups.permissions import improvement_owners
from followups.selectors import (
    improvement_board,
    improvement_delivery_counts,
    improvement_detail,
    improvement_impact,
    improvement_priorities,
    root_cause_choices,
)
from followups.services.improvements import (
    CHECKIN_DAYS_MAX,
    LOOKBACK_DAYS_MAX,
    improvement_checkin_schedule,
    improvement_create,
    improvement_move,
    improvement_priority_override,
    improvement_update,
)
from followups.views.access import manager_page
from followups.views.taxonomy import ServiceErrorForm
from surveys.nps import MIN_RESPONSES

NO_OWNER = ""


class ImprovementForm(ServiceErrorForm):
    """An improvement's fields; root causes are the ones people may code with, and those it has already."""

    title = forms.CharField(max_length=200)
    root_causes = forms.MultipleChoiceField(
        required=False,
        help_text="A category stands for all its causes.",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    owner = forms.ChoiceField(required=False)
    target_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 4}))
    customer_message = forms.CharField(
        required=False,
        max_length=5000,
        label="Message to customers",
        help_text="What the update email says was done, in the customer's terms.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    lookback_days = forms.IntegerField(
        min_value=1,
        max_value=LOOKBACK_DAYS_MAX,
        initial=365,
        label="Lookback (days)",
        help_text="Shipping tells the customers who raised these causes within this many days.",
    )

    def __init__(self, *args: Any, linked: list[RootCause] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = list(root_cause_choices(keeping=[rc.pk for rc in linked or []]))
        self.root_causes_by_slug = {rc.slug: rc for rc in choices}
        self.fields["root_causes"].choices = [  # type: ignore[attr-defined]  # a ChoiceField
            (rc.slug, f"{rc.parent.name}: {rc.name}" if rc.parent else f"{rc.name} (whole category)") for rc in choices
        ]
        self.owners_by_username = {user.username: user for user in improvement_owners()}
        self.fields["owner"].choices = [  # type: ignore[attr-defined]
            (NO_OWNER, "Nobody yet"),
            *((name, user.get_full_name() or name) for name, user in self.owners_by_username.items()),
        ]

    def service_arguments(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["root_causes"] = [self.root_causes_by_slug[slug] for slug in data["root_causes"]]
        data["owner"] = self.owners_by_username.get(data["owner"]) if data["owner"] else None
        return data


class PriorityOverrideForm(ServiceErrorForm):
    score = forms.FloatField(min_value=-1e9, max_value=1e9, help_text="Replaces the computed score on the board.")
    reason = forms.CharField(max_length=500, help_text="Shown with the score to everyone who reads the board.")


class CheckinForm(ServiceErrorForm):
    checkin_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=CHECKIN_DAYS_MAX,
        label="Check-in after (days)",
        help_text="The customers the update reached are asked again this many days after shipping, on the "
        "survey they last answered (fatigue rules apply). Empty: no check-in.",
    )


def _status_groups(board: list[Improvement]) -> list[dict[str, Any]]:
    """The board by status, in lifecycle order, every status present even when empty."""
    return [
        {"status": status, "improvements": [i for i in board if i.status == status]} for status in ImprovementStatus
    ]


@manager_page
def improvement_board_page(request: SignedInRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    filters = {"status": status} if status in ImprovementStatus.values else {}
    board = improvement_board(filters=filters, now=timezone.now())
    context = {
        "groups": [group for group in _status_groups(board) if not filters or group["status"] == status],
        "statuses": ImprovementStatus.choices,
        "status": filters.get("status", ""),
        "total": len(board),
    }
    return render(request, "followups/improvements/board.html", context)


def _prefill(slug: str | None) -> dict[str, Any]:
    """The new-improvement form's first values for a theme's root cause: the cause, and a title from it."""
    root_cause = RootCause.objects.filter(slug=slug, active=True).first() if slug else None
    if root_cause is None:
        return {}
    return {"root_causes": [root_cause.slug], "title": f"Fix: {root_cause.name}"}


@manager_page
@require_http_methods(["GET", "POST"])
def improvement_create_page(request: SignedInRequest) -> HttpResponse:
    if request.method == "GET":
        form = ImprovementForm(initial={"lookback_days": 365, **_prefill(request.GET.get("root_cause"))})
        return render(request, "followups/improvements/new.html", {"form": form})
    form = ImprovementForm(request.POST)
    if form.is_valid():
        try:
            improvement = improvement_create(actor=request.user, **form.service_arguments())
        except (ValidationError, ApplicationError) as error:
            form.add_service_error(error)
        else:
            messages.success(request, f"Improvement {improvement.title} proposed.")
            return redirect("improvement_detail", pk=improvement.pk)
    return render(request, "followups/improvements/new.html", {"form": form}, status=400)


def _detail_context(
    improvement: Improvement,
    *,
    form: ImprovementForm | None = None,
    override_form: PriorityOverrideForm | None = None,
    checkin_form: CheckinForm | None = None,
) -> dict[str, Any]:
    linked = list(improvement.root_causes.all())
    initial = {
        "title": improvement.title,
        "root_causes": [rc.slug for rc in linked],
        "owner": improvement.owner.username if improvement.owner else NO_OWNER,
        "target_date": improvement.target_date,
        "description": improvement.description,
        "customer_message": improvement.customer_message,
        "lookback_days": improvement.lookback_days,
    }
    priority = improvement_priorities([improvement], now=timezone.now())[improvement.pk]
    impact = improvement_impact(improvement=improvement)
    return {
        "checkin_form": checkin_form or CheckinForm(initial={"checkin_days": improvement.checkin_days}),
        "improvement": improvement,
        "root_causes": linked,
        "history": list(improvement.status_changes.all()),
        "priority": priority,
        "deliveries": improvement_delivery_counts(ids=[improvement.pk])[improvement.pk],
        "impact": impact,
        "impact_samples": [("Before", impact.before), ("After", impact.after)] if impact else [],
        "min_responses": MIN_RESPONSES,
        "moves": [
            status for status in allowed_next_statuses(improvement.status) if status != ImprovementStatus.SHIPPED
        ],
        "shipped": improvement.status == ImprovementStatus.SHIPPED,
        "form": form or ImprovementForm(initial=initial, linked=linked),
        "override_form": override_form
        or PriorityOverrideForm(
            initial={"score": improvement.priority_override, "reason": improvement.priority_override_reason}
        ),
    }


@manager_page
@require_http_methods(["GET", "POST"])
def improvement_detail_page(request: SignedInRequest, pk: int) -> HttpResponse:
    """One improvement: its figures and history, and the form that changes it."""
    improvement = _loaded(pk)
    if request.method == "GET":
        return render(request, "followups/improvements/detail.html", _detail_context(improvement))
    form = ImprovementForm(request.POST, linked=list(improvement.root_causes.all()))
    if form.is_valid():
        try:
            improvement_update(improvement=improvement, **form.service_arguments())
        except (ValidationError, ApplicationError) as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Improvement saved.")
            return redirect("improvement_detail", pk=pk)
    context = _detail_context(_loaded(pk), form=form)
    return render(request, "followups/improvements/detail.html", context, status=400)


def _loaded(pk: int) -> Improvement:
    get_object_or_404(Improvement, pk=pk)
    return improvement_detail(pk=pk)


@manager_page
@require_POST
def improvement_move_view(request: SignedInRequest, pk: int) -> HttpResponse:
    improvement = get_object_or_404(Improvement, pk=pk)
    to_status = request.POST.get("status", "")
    try:
        improvement_move(improvement=improvement, to_status=to_status, actor=request.user)
    except ApplicationError as error:
        details = [message for field_messages in (error.errors or {}).values() for message in field_messages]
        messages.error(request, " ".join([error.message, *details]))
    else:
        messages.success(request, f"Moved to {ImprovementStatus(to_status).label.lower()}.")
    return redirect("improvement_detail", pk=pk)


@manager_page
@require_POST
def improvement_priority_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """Set the manager's own score with its reason, or (``clear``) go back to the computed one."""
    improvement = get_object_or_404(Improvement, pk=pk)
    if "clear" in request.POST:
        improvement_priority_override(improvement=improvement, score=None)
        messages.success(request, "The computed score counts again.")
        return redirect("improvement_detail", pk=pk)
    form = PriorityOverrideForm(request.POST)
    if form.is_valid():
        try:
            improvement_priority_override(improvement=improvement, **form.cleaned_data)
        except ValidationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Score set.")
            return redirect("improvement_detail", pk=pk)
    context = _detail_context(_loaded(pk), override_form=form)
    return render(request, "followups/improvements/detail.html", context, status=400)


@manager_page
@require_POST
def improvement_checkin_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """Schedule (or cancel, left empty) the check-in of the customers the improvement's update reached."""
    improvement = get_object_or_404(Improvement, pk=pk)
    form = CheckinForm(request.POST)
    if form.is_valid():
        try:
            improvement_checkin_schedule(
                improvement=improvement, days=form.cleaned_data["checkin_days"], actor=request.user
            )
        except (ValidationError, ApplicationError) as error:
            form.add_service_error(error)
        else:
            messages.success(request, "Check-in saved.")
            return redirect("improvement_detail", pk=pk)
    context = _detail_context(_loaded(pk), checkin_form=form)
    return render(request, "followups/improvements/detail.html", context, status=400)
