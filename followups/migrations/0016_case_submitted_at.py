from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_submissions(apps, schema_editor):
    """Give every case its response's submission time, in one statement."""
    Case = apps.get_model("followups", "Case")
    Response = apps.get_model("surveys", "Response")
    submitted = Response.objects.filter(pk=OuterRef("response_id")).values("submitted_at")[:1]
    Case.objects.update(submitted_at=Subquery(submitted))


class Migration(migrations.Migration):
    dependencies = [
        ("followups", "0015_notification_suppressed"),
        ("surveys", "0005_daily_score_rollups"),
    ]

    operations = [
        migrations.AddField(model_name="case", name="submitted_at", field=models.DateTimeField(null=True)),
        migrations.RunPython(copy_submissions, migrations.RunPython.noop),
        migrations.AlterField(model_name="case", name="submitted_at", field=models.DateTimeField()),
        migrations.AddIndex(model_name="case", index=models.Index(fields=["submitted_at"], name="case_submitted_idx")),
    ]
