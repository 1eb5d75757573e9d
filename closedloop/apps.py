from __future__ import annotations

from django.apps import AppConfig


class ClosedloopConfig(AppConfig):
    name = "closedloop"
    verbose_name = "closedloop"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from closedloop.users import revoke_token_on_credential_change

        pre_save.connect(revoke_token_on_credential_change, sender=get_user_model())
