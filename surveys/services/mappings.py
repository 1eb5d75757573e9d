"""Saved import mappings: a mapping chosen on a preview, kept by name for the next file like it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from surveys.csv_import import CsvFileError, header_key, resolve_mapping
from surveys.models import SavedMapping


@transaction.atomic
def saved_mapping_save(
    *,
    name: str,
    header: Sequence[str],
    mapping: Mapping[str, str],
    date_order: str = "",
    time_zone: str = "",
    saved_by: User | None = None,
) -> SavedMapping:
    """Save (or replace) the mapping called ``name`` for files with ``header``'s columns.

    The mapping must be complete for those columns (ValidationError on ``mapping`` otherwise),
    so applying it to the next such file is enough to import it.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"mapping_name": ["Give the mapping a name to save it."]})
    try:
        checked = resolve_mapping(header, mapping, exact=True)
    except CsvFileError as exc:
        raise ValidationError({"mapping": [exc.message]}) from exc
    saved = SavedMapping.objects.select_for_update().filter(name=name).first() or SavedMapping(name=name)
    saved.header_key = header_key(header)
    saved.mapping = checked
    saved.date_order = date_order
    saved.time_zone = time_zone
    saved.created_by = saved.created_by or saved_by
    saved.full_clean()
    saved.save()
    return saved
