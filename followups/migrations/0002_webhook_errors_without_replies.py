"""Delivery errors no longer quote the receiver: drop what earlier attempts stored of its replies.

Until now an error reply's error read "HTTP <code> <the receiver's reason>: <its first 200 bytes>",
and a malformed reply's quoted its status line: what an internal service answered came back to
whoever subscribed its URL. Those become the status with its standard reason, as new attempts
write them. One UPDATE per status code stored, however many deliveries there are.
"""

from __future__ import annotations

from http import HTTPStatus

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def _summary(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def drop_quoted_replies(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    WebhookDelivery = apps.get_model("followups", "WebhookDelivery")
    answered = WebhookDelivery.objects.filter(last_status_code__isnull=False, last_error__startswith="HTTP ")
    statuses = answered.values_list("last_status_code", flat=True).distinct().order_by()
    for status in [status for status in statuses if status is not None]:
        answered.filter(last_status_code=status).update(last_error=_summary(status))
    WebhookDelivery.objects.filter(last_error__startswith="BadStatusLine:").update(
        last_error="BadStatusLine: the answer was not valid HTTP."
    )


class Migration(migrations.Migration):
    dependencies = [
        ("followups", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookdelivery",
            name="last_error",
            field=models.CharField(
                blank=True,
                help_text="Why the last attempt failed, in short; never the receiver's reply.",
                max_length=500,
            ),
        ),
        migrations.RunPython(drop_quoted_replies, migrations.RunPython.noop),
    ]
