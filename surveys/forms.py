"""Forms of the intake app's pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from surveys.csv_import import ATTRIBUTE_PREFIX, FIELDS
from surveys.selectors import survey_list

COLUMN_LABELS = {
    "customer.external_id": "Customer id",
    "customer.email": "Customer email",
    "customer.name": "Customer name",
    "customer.phone": "Customer phone",
    "score": "Score (0-10)",
    "comment": "Comment",
    "channel": "Channel",
    "submitted_at": "Submitted at",
    "external_id": "Response id",
    "ticket_ref": "Ticket reference",
}


def _column_field(field: str) -> str:
    return "column_" + field.replace(".", "_")


class ImportUploadForm(forms.Form):
    """A CSV file for one survey, with the columns of fields whose names the file does not say."""

    survey = forms.ModelChoiceField(queryset=survey_list(), to_field_name="slug", empty_label=None)
    file = forms.FileField(label="CSV file", widget=forms.FileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}))
    attribute_columns = forms.CharField(
        required=False,
        max_length=2000,
        label="Segment attribute columns",
        help_text="Comma-separated column names, stored as customer attributes under the same names.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in FIELDS:
            self.fields[_column_field(field)] = forms.CharField(
                required=False, max_length=200, label=COLUMN_LABELS[field]
            )

    def upload_fields(self) -> list[forms.BoundField]:
        return [self["survey"], self["file"]]

    def column_fields(self) -> list[forms.BoundField]:
        return [*(self[_column_field(field)] for field in FIELDS), self["attribute_columns"]]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {filesizeformat(settings.IMPORT_MAX_BYTES)}.")
        return upload

    def mapping(self) -> dict[str, str]:
        """The columns named on the form, as ``import_job_create`` takes them."""
        mapping = {
            field: column.strip()
            for field in FIELDS
            if (column := self.cleaned_data.get(_column_field(field), "")).strip()
        }
        for column in self.cleaned_data.get("attribute_columns", "").split(","):
            if column.strip():
                mapping[ATTRIBUTE_PREFIX + column.strip()] = column.strip()
        return mapping
