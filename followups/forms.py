"""Forms of the agent pages: queue filters, the case page's actions, and the agent's settings.

The forms only parse input. What is allowed (transitions, who may assign, coding rules) is decided
by the services in ``followups.services.cases``; their errors are put back on these forms.
"""

from __future__ import annotations

import zoneinfo
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from closedloop.lib.exceptions import ApplicationError
from followups.models import Case, RootCause, Team
from followups.models.rules import Priority
from followups.selectors import QUEUE_SORTS, coded_root_causes, resolution_code_list, root_cause_choices
from followups.services.cases import CONTACT_CHANNELS, CONTACT_OUTCOMES, TEXT_MAX
from followups.workflow import OPEN_STATUSES, CaseStatus
from surveys.models import COMMENT_MAX_LENGTH, Channel, Customer, Survey

UserModel = get_user_model()

# Display names of the services' codes; a code missing here still shows, spelled out from its value.
CHANNEL_LABELS = {"sms": "SMS"}
OUTCOME_LABELS = {"left_message": "Left a message"}
CLOSE_REASON_MAX = 500
REFUSED = "You may not change this case."


def _choices(values: Any, labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(value, labels.get(value, value.replace("_", " ").capitalize())) for value in values]


CHANNEL_CHOICES = _choices(CONTACT_CHANNELS, CHANNEL_LABELS)
OUTCOME_CHOICES = _choices(CONTACT_OUTCOMES, OUTCOME_LABELS)


# What a queue can be sorted by, as the column headers offer it.
SORT_CHOICES = [("", "Next deadline"), *((key, key) for key in QUEUE_SORTS), *((f"-{key}", key) for key in QUEUE_SORTS)]
SEARCH_MAX = 200


class QueueFilterForm(forms.Form):
    """The filters of "My queue", as GET parameters: the selector ``case_list``'s, the search and the order.

    A filtered queue is a URL, so a saved filter is a bookmark.
    """

    # Names the selector's filters take; the others (search, order, at risk) are the queue's own.
    CASE_FILTERS = ("status", "priority", "overdue", "team", "owner")

    q = forms.CharField(
        required=False,
        max_length=SEARCH_MAX,
        label="Search",
        help_text="Customer name, email or id, ticket, case number or words of the comment.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any open status"), *((s.value, s.label) for s in CaseStatus if s in OPEN_STATUSES)],
    )
    priority = forms.ChoiceField(required=False, choices=[("", "Any priority"), *Priority.choices])
    overdue = forms.ChoiceField(
        required=False, label="Deadline", choices=[("", "Any"), ("true", "Overdue"), ("false", "Not overdue")]
    )
    at_risk = forms.ChoiceField(required=False, label="At risk", choices=[("", "Any"), ("true", "At risk only")])
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, widget=forms.HiddenInput)

    def filters(self) -> dict[str, str]:
        """The chosen filters in the selector's terms; none when the input was invalid."""
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value and name in self.CASE_FILTERS}

    def chosen(self, name: str) -> str:
        """A queue parameter (``q``, ``sort``, ``at_risk``) as valid input gives it; empty otherwise."""
        return self.cleaned_data.get(name, "") if self.is_valid() else ""

    def narrows(self) -> bool:
        """Whether any filter or search leaves cases out (the order does not)."""
        return bool(self.filters() or self.chosen("q") or self.chosen("at_risk"))


class DoneFilterForm(QueueFilterForm):
    """The agent's resolved and closed cases: the same search and order, their own statuses."""

    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Resolved or closed"),
            (CaseStatus.RESOLVED.value, "Resolved"),
            (CaseStatus.CLOSED.value, "Closed"),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for deadline_only in ("overdue", "at_risk"):
            del self.fields[deadline_only]


class TeamQueueFilterForm(QueueFilterForm):
    """The team queue's filters: also the team (when there are several) and unassigned cases."""

    team = forms.ChoiceField(required=False)
    owner = forms.ChoiceField(required=False, choices=[("", "Anyone"), ("none", "Unassigned")])

    field_order = ["q", "team", "owner", "status", "priority", "overdue", "at_risk"]

    def __init__(self, *args: Any, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = cast(forms.ChoiceField, self.fields["team"])
        team_field.choices = [("", "All teams"), *((team.slug, team.name) for team in teams)]


class BulkActionForm(forms.Form):
    """A lead's action on the cases ticked in the team queue: give them all to one owner, or set
    their priority, or both."""

    cases = forms.TypedMultipleChoiceField(coerce=int, label="Cases")
    owner = forms.ChoiceField(label="Assign to", required=False)
    priority = forms.ChoiceField(label="Set priority", required=False, choices=[("", "Keep"), *Priority.choices])

    def __init__(self, *args: Any, case_ids: list[int], owners: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["cases"]).choices = [(pk, pk) for pk in case_ids]
        people = [(str(person.pk), person.get_username()) for person in owners]
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", "Keep"), ("none", "Unassigned"), *people]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("owner") and not cleaned.get("priority"):
            raise forms.ValidationError("Choose an owner or a priority for the selected cases.")
        return cleaned


class CaseForm(forms.Form):
    """A form acting on one case; a refusal of the service it feeds is put back on it."""

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case

    def add_service_error(self, error: Exception) -> None:
        """Field messages go on their fields (or on top when the form has no such field)."""
        errors = getattr(error, "errors", None) or {}
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        if not errors:
            message = error.message if isinstance(error, ApplicationError) else REFUSED
            self.add_error(None, message)


class TransitionForm(CaseForm):
    prefix = "status"

    to = forms.ChoiceField(label="New status", choices=CaseStatus.choices)
    note = forms.CharField(required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(
        required=False,
        max_length=CLOSE_REASON_MAX,
        help_text="Required when closing a case that was not resolved.",
    )
    resolution_code = forms.ModelChoiceField(
        queryset=resolution_code_list(),
        required=False,
        to_field_name="slug",
        empty_label="None",
        help_text="Used when resolving.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the statuses allowed next are offered; any status is accepted, so that a stale
        # page gets the service's own refusal rather than a generic "invalid choice".
        self.fields["to"].widget.choices = [(s.value, s.label) for s in self.case.allowed_next_statuses()]
        if self.case.resolution_code is not None:
            self.fields["resolution_code"].initial = self.case.resolution_code.slug


class NoteForm(CaseForm):
    prefix = "note"

    text = forms.CharField(label="Note", max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}))


class ContactForm(CaseForm):
    prefix = "contact"

    channel = forms.ChoiceField(choices=CHANNEL_CHOICES)
    outcome = forms.ChoiceField(choices=OUTCOME_CHOICES)
    note = forms.CharField(required=False, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2}))


class CaseMessageForm(CaseForm):
    """An email to the case's customer, started from a manager's template and edited by the agent."""

    prefix = "msg"

    subject = forms.CharField(max_length=200)
    body = forms.CharField(label="Message", max_length=5000, widget=forms.Textarea(attrs={"rows": 6}))


class SuggestionForm(CaseForm):
    """Accepting one of the outer loop's root-cause suggestions for the case's response."""

    prefix = "sug"

    root_cause = forms.CharField(max_length=100)
    source = forms.CharField(max_length=20)
    model_version = forms.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class RootCauseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: RootCause) -> str:
        # The picker groups causes under their category, so the label is the cause's own name.
        label = obj.name
        usable = obj.active and (obj.parent is None or obj.parent.active)
        return label if usable else f"{label}, retired: untick to remove"


class RootCausesForm(CaseForm):
    prefix = "rc"

    root_causes = RootCauseChoiceField(
        queryset=root_cause_choices(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick every cause that applies; untick one to remove it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = coded_root_causes(self.case)
        field = cast(forms.ModelMultipleChoiceField, self.fields["root_causes"])
        # The response's codes of retired root causes show too, ticked, so saving keeps them; so do
        # codes of a category from before categories were refused. Otherwise causes alone.
        kept = [code.root_cause_id for code in codes]
        field.queryset = root_cause_choices(keeping=kept).filter(Q(parent__isnull=False) | Q(pk__in=kept))
        field.initial = [code.root_cause.slug for code in codes]

    def slugs(self) -> list[str]:
        return [root_cause.slug for root_cause in self.cleaned_data["root_causes"]]

    def groups(self) -> list[tuple[str, list[Any]]]:
        """The checkboxes under the name of their category, categories in the picker's order."""
        grouped: dict[str, list[Any]] = {}
        for checkbox in self["root_causes"].subwidgets:
            cause = checkbox.data["value"].instance
            grouped.setdefault(cause.parent.name if cause.parent else "Other", []).append(checkbox)
        return list(grouped.items())


class AssignForm(CaseForm):
    """The new owner of a case: a user id, or empty to leave the case unassigned.

    Any user parses; who may own the case is the service's rule (``case_owners``), and its refusal
    is shown on this form.
    """

    prefix = "assign"

    owner = forms.ModelChoiceField(queryset=UserModel.objects.all(), required=False)


class AgentDetailsForm(forms.Form):
    """Who the agent is: the name customers and colleagues see, their email, their time zone."""

    prefix = "me"

    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=254, required=False, help_text="Case assignments and digests go here.")
    time_zone = forms.ChoiceField(
        required=False,
        choices=[("", "My team's time zone"), *((zone, zone) for zone in sorted(zoneinfo.available_timezones()))],
    )


class AgentSettingsForm(forms.Form):
    is_away = forms.BooleanField(required=False, label="I am away", help_text="While away you are not given new cases.")
    away_until = forms.DateField(
        required=False,
        label="Away until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Your last day away: the day after, you get new cases again. Empty: until you untick the box.",
    )
    assignment_emails = forms.BooleanField(required=False, label="Email me when a case is assigned to me")
    digest_emails = forms.BooleanField(required=False, label="Send me a daily digest of my open cases")
    manager_digest_emails = forms.BooleanField(
        required=False,
        label="Send me the weekly digest",
        help_text="For managers: NPS and its change, new and rising themes, overdue cases, improvements shipped.",
    )

    def __init__(self, *args: Any, managers_digest: bool = False, **kwargs: Any) -> None:
        # A label after its box reads as a sentence, without the colon of labels above fields.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not managers_digest:
            # Only managers get the weekly digest; to others the box would promise nothing.
            del self.fields["manager_digest_emails"]


class PhoneAnswerForm(forms.Form):
    """An answer the customer gave on the phone, as an agent types it on the customer's page."""

    prefix = "phone"

    survey = forms.ChoiceField(label="Survey")
    score = forms.TypedChoiceField(
        label="Score (0 to 10)", coerce=int, choices=[("", "Choose…"), *((n, str(n)) for n in range(11))]
    )
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        label="What they said",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, surveys: list[Survey], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["survey"]).choices = [(s.slug, s.name) for s in surveys]

    def item(self, customer: Customer) -> dict[str, Any]:
        """The answer as an ingestion item (API.md's shape), for ``responses_ingest``."""
        data = self.cleaned_data
        return {
            "survey": data["survey"],
            "customer": {"external_id": customer.external_id},
            "score": data["score"],
            "comment": data["comment"],
            "channel": Channel.PHONE,
        }

    def add_ingestion_errors(self, errors: dict[str, Any]) -> None:
        """The ingestion's field messages on their fields; the rest (the customer's) on top."""
        for field, messages in errors.items():
            for message in messages if isinstance(messages, list) else [str(messages)]:
                self.add_error(field if field in self.fields else None, str(message))
