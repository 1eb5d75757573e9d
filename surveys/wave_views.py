"""The managers' page of relationship waves: start one, and follow each one's invitations by status."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render

from closedloop.lib.exceptions import ApplicationError
from closedloop.lib.requests import SignedInRequest
from closedloop.lib.roles import is_manager
from surveys.models import Invitation, Survey, SurveyWave
from surveys.services.waves import MAX_WINDOW_HOURS, parse_segments, relationship_wave_send, wave_progress

WAVES_SHOWN = 20


class WaveForm(forms.Form):
    survey = forms.ModelChoiceField(queryset=Survey.objects.filter(active=True).order_by("name"), to_field_name="slug")
    segments = forms.CharField(
        required=False,
        max_length=500,
        help_text="Only customers with these attributes, one attribute=value a line (empty: everyone).",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    sample = forms.IntegerField(required=False, min_value=1, help_text="At most this many, chosen at random.")
    window_hours = forms.IntegerField(
        initial=24, min_value=1, max_value=MAX_WINDOW_HOURS, help_text="Spread the emails over this many hours."
    )

    def clean_segments(self) -> dict[str, str]:
        lines = [line.strip() for line in self.cleaned_data["segments"].splitlines() if line.strip()]
        try:
            return parse_segments(lines)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc


@login_required
def waves(request: SignedInRequest) -> HttpResponse:
    if not is_manager(request.user):
        raise PermissionDenied
    form = WaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            relationship_wave_send(
                survey=data["survey"],
                segments=data["segments"],
                sample=data["sample"],
                window_hours=data["window_hours"],
                actor=request.user,
            )
        except ApplicationError as exc:
            for name, messages in (exc.errors or {"__all__": [exc.message]}).items():
                for message in messages:
                    form.add_error(name if name in form.fields else None, message)
        else:
            return redirect("survey-waves")
    context: dict[str, Any] = {
        "form": form,
        "waves": wave_progress(SurveyWave.objects.all())[:WAVES_SHOWN],
        "statuses": Invitation.Status,
    }
    return render(request, "surveys/waves.html", context, status=400 if form.errors else 200)
