from django.db import migrations, models
from django.db.models import Count, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone


def recount(apps, schema_editor):
    """Count the responses again, now split by the team of the ticket each one answers."""
    DailyScoreCount = apps.get_model("surveys", "DailyScoreCount")
    Response = apps.get_model("surveys", "Response")
    DailyScoreCount.objects.all().delete()
    grouped = (
        Response.objects.order_by()
        .annotate(
            rollup_day=TruncDate("submitted_at", tzinfo=timezone.get_current_timezone()),
            rollup_team=Coalesce("invitation__team", Value("")),
        )
        .values("survey_id", "rollup_day", "channel", "rollup_team", "score")
        .annotate(counted=Count("pk"))
    )
    DailyScoreCount.objects.bulk_create(
        (
            DailyScoreCount(
                survey_id=row["survey_id"],
                day=row["rollup_day"],
                channel=row["channel"],
                team=row["rollup_team"],
                score=row["score"],
                responses=row["counted"],
            )
            for row in grouped.iterator(chunk_size=5000)
        ),
        batch_size=2000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0005_daily_score_rollups"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="dailyscorecount", name="daily_score_count_key"),
        migrations.AddField(
            model_name="dailyscorecount",
            name="team",
            field=models.CharField(blank=True, default="", max_length=80),
        ),
        migrations.AddConstraint(
            model_name="dailyscorecount",
            constraint=models.UniqueConstraint(
                fields=("survey", "day", "channel", "team", "score"), name="daily_score_count_team_key"
            ),
        ),
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
