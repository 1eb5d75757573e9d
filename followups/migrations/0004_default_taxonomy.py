from django.db import migrations

from followups.taxonomy import seed_default_taxonomy


def seed(apps, schema_editor):
    # Only the slugs not stored yet are added, so a database with its own taxonomy keeps it.
    seed_default_taxonomy(apps.get_model("followups", "RootCause"))


class Migration(migrations.Migration):
    dependencies = [("followups", "0003_taxonomy_merges_and_sources")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
