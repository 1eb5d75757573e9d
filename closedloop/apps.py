from __future__ import annotations

from django.apps import AppConfig


class ClosedloopConfig(AppConfig):
    name = "closedloop"
    verbose_name = "closedloop"
