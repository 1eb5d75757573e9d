"""Forms of the intake app's pages."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from surveys.csv_import import ATTRIBUTE_NAME_MAX, ATTRIBUTE_PREFIX, FIELDS
from surveys.models import DATE_ORDER_CHOICES
from surveys.selectors import survey_list

COLUMN_LABELS = {
    "customer.external_id": "Customer id",
    "customer.email": "Customer email",
    "customer.name": "Customer name",
    "customer.first_name": "Customer first name",
    "customer.last_name": "Customer last name",
    "customer.phone": "Customer phone",
    "score": "Score (0-10)",
    "comment": "Comment",
    "channel": "Channel",
    "submitted_at": "Submitted at",
    "external_id": "Response id",
    "ticket_ref": "Ticket reference",
    "tags": "Tags (root causes)",
}
ATTRIBUTE = "attribute"
NOT_IMPORTED = ""


class ImportUploadForm(forms.Form):
    """A file of responses (CSV or Excel) for one survey; its columns are mapped on the preview."""

    survey = forms.ModelChoiceField(queryset=survey_list(), to_field_name="slug", empty_label=None)
    file = forms.FileField(
        label="CSV or Excel file",
        widget=forms.FileInput(attrs={"accept": ".csv,.tsv,.txt,.xlsx,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {filesizeformat(settings.IMPORT_MAX_BYTES)}.")
        return upload


class ImportMappingForm(forms.Form):
    """The field each column of a previewed file fills, how its times read, and a name to save it by."""

    date_order = forms.ChoiceField(
        required=False,
        choices=[("", "Not said: rows with ambiguous dates are rejected"), *DATE_ORDER_CHOICES],
        label="Dates such as 03/10/2026 are",
    )
    time_zone = forms.CharField(required=False, max_length=64, label="Time zone of times without one")
    mapping_name = forms.CharField(
        required=False,
        max_length=100,
        label="Save this mapping as",
        help_text="Offered again for files with these columns.",
    )

    def __init__(self, *args, header: Sequence[str], mapping: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.header = [name for name in header if name]
        chosen = {column: field for field, column in mapping.items()}
        choices = [(NOT_IMPORTED, "Not imported"), (ATTRIBUTE, "Segment attribute"), *COLUMN_LABELS.items()]
        for index, column in enumerate(self.header):
            field = chosen.get(column, NOT_IMPORTED)
            self.fields[f"column_{index}"] = forms.ChoiceField(
                required=False,
                choices=choices,
                label=column,
                initial=ATTRIBUTE if field.startswith(ATTRIBUTE_PREFIX) else field,
            )

    def column_fields(self) -> list[tuple[str, forms.BoundField]]:
        return [(column, self[f"column_{index}"]) for index, column in enumerate(self.header)]

    def clean(self):
        cleaned = super().clean()
        seen: dict[str, str] = {}
        for index, column in enumerate(self.header):
            field = cleaned.get(f"column_{index}") or NOT_IMPORTED
            if field in (NOT_IMPORTED, ATTRIBUTE):
                continue
            if field in seen:
                raise forms.ValidationError(
                    f"{COLUMN_LABELS[field]} is chosen for two columns: {seen[field]!r} and {column!r}."
                )
            seen[field] = column
        return cleaned

    def mapping(self) -> dict[str, str]:
        """The columns chosen on the form, as ``import_job_start`` takes them (the whole mapping)."""
        mapping: dict[str, str] = {}
        for index, column in enumerate(self.header):
            field = self.cleaned_data.get(f"column_{index}") or NOT_IMPORTED
            if field == ATTRIBUTE:
                mapping[ATTRIBUTE_PREFIX + column[:ATTRIBUTE_NAME_MAX]] = column
            elif field in FIELDS:
                mapping[field] = column
        return mapping
