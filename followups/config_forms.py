"""Forms of the manager's configuration pages: routing rules, SLA policies, resolution codes,
surveys. Model forms for parsing and the model's own checks; the write is the service's."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Field

from followups.models import CustomerMessageTemplate, ResolutionCode, RoutingRule, SlaPolicy
from followups.team_forms import staff_users
from surveys.models import Survey
from surveys.services.surveys import EDITABLE_FIELDS as SURVEY_FIELDS

KEYWORDS_MAX = 50


class KeywordsField(forms.CharField):
    """A comma-separated list of words, stored as the JSON list routing reads."""

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]  # a list, not the text
        words = [word.strip() for word in (super().to_python(value) or "").split(",")]
        words = list(dict.fromkeys(word for word in words if word))
        if len(words) > KEYWORDS_MAX:
            raise forms.ValidationError(f"At most {KEYWORDS_MAX} keywords.")
        return words


class RoutingRuleForm(forms.ModelForm):
    keywords = KeywordsField(
        required=False, max_length=2000, help_text="Comma-separated: any of these words in the comment matches."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()  # type: ignore[attr-defined]

    class Meta:
        model = RoutingRule
        fields = [
            "position",
            "name",
            "team",
            "owner",
            "survey",
            "account",
            "attribute_name",
            "attribute_value",
            "score_min",
            "score_max",
            "keywords",
            "active",
        ]
        labels = {"position": "Order", "attribute_name": "Customer attribute", "attribute_value": "Attribute value"}
        help_texts = {
            "position": "Rules are tried from the lowest number up; the first that matches wins.",
            "owner": "Empty: the team's agents share the cases.",
            "attribute_value": "E.g. region = Americas.",
        }


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "priority",
            "survey",
            "attribute_name",
            "attribute_value",
            "first_contact_hours",
            "resolution_hours",
            "reassign_after_hours",
            "active",
        ]
        labels = {
            "attribute_name": "Customer attribute",
            "first_contact_hours": "Business hours to first contact",
            "resolution_hours": "Business hours to resolve",
            "reassign_after_hours": "Hours after a missed deadline before the lead takes the case",
        }


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = CustomerMessageTemplate
        fields = ["name", "subject", "body", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}
        help_texts = {
            "subject": "May use {customer_name}, {case_number} and {survey}.",
            "body": "May use {customer_name}, {case_number} and {survey}; the agent edits the text before sending.",
            "active": "Offered to agents.",
        }


class ResolutionCodeForm(forms.ModelForm):
    class Meta:
        model = ResolutionCode
        fields = ["slug", "name", "position", "active"]
        labels = {"position": "Order"}
        help_texts = {"position": "Agents see codes from the lowest number up.", "active": "Offered to agents."}


class SurveyForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = ["slug", *SURVEY_FIELDS]
        widgets = {
            field: forms.Textarea(attrs={"rows": 2})
            for field in ("thank_you_promoter", "thank_you_passive", "thank_you_detractor")
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A required setting that has a default may be left empty: it keeps the default.
        for name in self._defaulted():
            self.fields[name].required = False

    def _defaulted(self) -> dict[str, Field]:
        fields = (Survey._meta.get_field(name) for name in self.fields)
        return {
            field.name: field
            for field in fields
            if isinstance(field, Field) and field.has_default() and not field.blank
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, field in self._defaulted().items():
            if cleaned.get(name) in (None, ""):
                cleaned[name] = field.get_default()
        return cleaned
