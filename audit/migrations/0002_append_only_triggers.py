"""Database triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of audit rows."""

from django.db import migrations

from audit import triggers


def forward(apps, schema_editor):
    triggers.install(schema_editor, schema_editor.connection.vendor)


def reverse(apps, schema_editor):
    triggers.remove(schema_editor, schema_editor.connection.vendor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forward, reverse)]
