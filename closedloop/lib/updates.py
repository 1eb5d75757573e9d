"""The one way services change a stored record: validate first, then save only what changed.

Saving only the changed fields keeps a concurrent change to another field of the same row, and
writes nothing at all when nothing changed. ``model_update`` is the idiom; services whose change
is computed step by step on a locked row (a case's transition) take a ``snapshot`` first, check
everything, and end with ``save_changes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def model_update(instance: M, changes: Mapping[str, Any], *, validate: Callable[[M], None] | None = None) -> list[str]:
    """Apply ``changes`` (field name -> value) to ``instance``; return the names of the fields saved.

    1. Only values that differ from the instance's count: setting a field to its value is no change.
    2. The changed instance is validated whole (``validate``, else ``full_clean``) before anything
       is written; on a refusal the instance gets its old values back and the error propagates.
    3. Only the changed fields are saved, with any ``auto_now`` field; nothing when nothing changed.
    """
    before = {name: getattr(instance, name) for name in changes}
    changed = [name for name, value in changes.items() if before[name] != value]
    if not changed:
        return []
    for name in changed:
        setattr(instance, name, changes[name])
    try:
        (validate or _full_clean)(instance)
    except Exception:
        for name in changed:
            setattr(instance, name, before[name])
        raise
    _save(instance, changed)
    return changed


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The stored values of ``instance``'s columns, for ``save_changes`` to compare with later."""
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def save_changes(instance: models.Model, *, since: Mapping[str, Any]) -> list[str]:
    """Save the fields of ``instance`` that differ from the ``snapshot`` ``since``; return their names."""
    changed = [
        field.name
        for field in instance._meta.concrete_fields
        if field.attname in since and getattr(instance, field.attname) != since[field.attname]
    ]
    if changed:
        _save(instance, changed)
    return changed


def _save(instance: models.Model, changed: list[str]) -> None:
    stamped = [
        f.name for f in instance._meta.concrete_fields if getattr(f, "auto_now", False) and f.name not in changed
    ]
    instance.save(update_fields=changed + stamped)


def _full_clean(instance: models.Model) -> None:
    instance.full_clean()
