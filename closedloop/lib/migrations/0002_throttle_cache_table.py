from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    # The rate limits count in a database cache table when there is no Redis; `migrate` makes it, so
    # no deployment step can be forgotten. Idempotent: an existing table is left alone.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("roles", "0001_roles")]

    operations = [migrations.RunPython(create_cache_tables, migrations.RunPython.noop)]
