"""A runbook run's policy decisions are linked from provisioning (RunbookRunDecision) instead of
by a column of the catalog's decision table that points up at provisioning. The links are
copied from that column here; the catalog's 0006 then drops it."""

import django.db.models.deletion
from django.db import migrations, models


def copy_links(apps, schema_editor):
    decisions = apps.get_model("catalog", "PolicyDecision")
    links = apps.get_model("provisioning", "RunbookRunDecision")
    rows = decisions.objects.filter(runbook_run__isnull=False).values_list("pk", "runbook_run_id")
    links.objects.bulk_create(
        [links(decision_id=pk, runbook_run_id=run_id) for pk, run_id in rows.iterator()],
        batch_size=1000,
    )


def copy_links_back(apps, schema_editor):
    decisions = apps.get_model("catalog", "PolicyDecision")
    links = apps.get_model("provisioning", "RunbookRunDecision")
    for decision_id, run_id in links.objects.values_list("decision_id", "runbook_run_id"):
        decisions.objects.filter(pk=decision_id).update(runbook_run_id=run_id)


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0001_initial"),
        ("catalog", "0005_move_teams_and_provisioning_out"),
    ]

    operations = [
        migrations.CreateModel(
            name="RunbookRunDecision",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "decision",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, to="catalog.policydecision"
                    ),
                ),
                (
                    "runbook_run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, to="provisioning.runbookrun"
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="runbookrun",
            name="decisions",
            field=models.ManyToManyField(
                blank=True,
                related_name="runbook_runs",
                through="provisioning.RunbookRunDecision",
                to="catalog.policydecision",
            ),
        ),
        migrations.RunPython(copy_links, copy_links_back),
    ]
