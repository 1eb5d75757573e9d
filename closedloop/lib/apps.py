from __future__ import annotations

from django.apps import AppConfig


class LibConfig(AppConfig):
    """An app only for its migration: the role groups every deployment starts with."""

    name = "closedloop.lib"
    label = "roles"
    verbose_name = "roles"
