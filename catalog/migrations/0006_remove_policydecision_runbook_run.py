"""The column is copied into provisioning's RunbookRunDecision (provisioning 0002)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_move_teams_and_provisioning_out"),
        ("provisioning", "0002_runbook_run_decisions"),
    ]

    operations = [
        migrations.RemoveField(model_name="policydecision", name="runbook_run"),
    ]
