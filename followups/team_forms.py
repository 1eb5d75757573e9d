"""Forms of the manager's team pages: the team, its week of working hours, its own days off.

They parse input and check each weekday with the calendar code's rules (``weekly_hours``); the
calendar as a whole (time zone, holiday country) is checked by ``Team.clean`` in the services.
"""

from __future__ import annotations

import zoneinfo
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from closedloop.lib.roles import AGENT, MANAGER
from followups.weekly_hours import WEEKDAY_NAMES, check_day, day_intervals

UserModel = get_user_model()
TIME_ZONES = sorted(zoneinfo.available_timezones())
DAY_OFF_LABEL_MAX = 100


def staff_users() -> Any:
    """Who may be in a team, lead it or own routed cases: active agents and managers."""
    return UserModel.objects.filter(is_active=True, groups__name__in=[AGENT, MANAGER]).distinct().order_by("username")


class _UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username


class _UsersChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _UserChoice.label_from_instance(self, obj)  # type: ignore[arg-type]


class TeamForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=80, help_text="Its name in the API and in routing; it cannot change once the team exists."
    )
    members = _UsersChoice(queryset=staff_users(), required=False, widget=forms.CheckboxSelectMultiple)
    lead = _UserChoice(
        queryset=staff_users(), required=False, empty_label="No lead", help_text="Sees and reassigns the team's cases."
    )
    time_zone = forms.ChoiceField(choices=[(zone, zone) for zone in TIME_ZONES], initial="UTC")
    holiday_country = forms.CharField(
        label="Public holidays of",
        max_length=2,
        required=False,
        help_text="Two-letter country code (FR, US, DE…): its public holidays are days off. Empty: none.",
    )
    default = forms.BooleanField(required=False, label="Default team", help_text="Gets the cases no rule routes.")

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Querysets are evaluated per form, so a user added since start-up is offered.
        self.fields["members"].queryset = self.fields["lead"].queryset = staff_users()  # type: ignore[attr-defined]
        if editing:
            self.fields["slug"].disabled = True

    def clean_holiday_country(self) -> str:
        return self.cleaned_data["holiday_country"].upper()


class DayForm(forms.Form):
    """One weekday: up to two intervals; empty is a day off."""

    day = forms.CharField(widget=forms.HiddenInput)
    opens_1 = forms.CharField(label="Opens", max_length=5, required=False)
    closes_1 = forms.CharField(label="Closes", max_length=5, required=False)
    opens_2 = forms.CharField(label="Opens again", max_length=5, required=False)
    closes_2 = forms.CharField(label="Closes again", max_length=5, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "day":
                field.widget.attrs.update({"placeholder": "HH:MM", "inputmode": "numeric", "size": 5})

    @property
    def day_name(self) -> str:
        return WEEKDAY_NAMES.get(self["day"].value(), "")

    def clean_day(self) -> str:
        if self.cleaned_data["day"] not in WEEKDAY_NAMES:
            raise forms.ValidationError("Not a weekday.")
        return self.cleaned_data["day"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "day" in data:
            try:
                intervals = day_intervals(data)
                check_day(data["day"], intervals)
            except ValueError as exc:
                raise forms.ValidationError(f"{self.day_name}: {str(exc).removeprefix(data['day'] + ': ')}") from exc
            data["intervals"] = intervals
        return data


class _Week(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        if not any(form.cleaned_data.get("intervals") for form in self.forms):
            raise forms.ValidationError("Open on at least one day of the week: deadlines are counted in these hours.")


WeekFormSet = forms.formset_factory(
    DayForm, formset=_Week, extra=0, min_num=7, max_num=7, validate_max=True, validate_min=True
)


class DayOffForm(forms.Form):
    """A date the team does not work, with what it is; an empty row is ignored, clearing the date removes one."""

    day = forms.DateField(label="Date", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    label = forms.CharField(max_length=DAY_OFF_LABEL_MAX, required=False, label="What it is")


class _DaysOff(forms.BaseFormSet):
    def days_off(self) -> dict[date, str]:
        """The dates given, each with its label, in order."""
        chosen = {
            form.cleaned_data["day"]: form.cleaned_data["label"] for form in self.forms if form.cleaned_data.get("day")
        }
        return dict(sorted(chosen.items()))


DaysOffFormSet = forms.formset_factory(DayOffForm, formset=_DaysOff, extra=3, max_num=366, validate_max=True)
