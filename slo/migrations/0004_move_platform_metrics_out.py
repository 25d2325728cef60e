"""The platform metrics' models now belong to the metrics app (its 0001 takes them over), and
teams to the teams app: slo forgets them. No table changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("slo", "0003_audit_gap_kinds"),
        ("teams", "0001_initial"),
        ("metrics", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="auditgap",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="billingimport",
                    name="imported_by",
                ),
                migrations.RemoveField(
                    model_name="billingrow",
                    name="billing_import",
                ),
                migrations.RemoveField(
                    model_name="budgetalert",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="incident",
                    name="opened_by",
                ),
                migrations.RemoveField(
                    model_name="incident",
                    name="resolved_by",
                ),
                migrations.RemoveField(
                    model_name="incident",
                    name="slo",
                ),
                migrations.RemoveField(
                    model_name="incident",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="oncallaction",
                    name="incident",
                ),
                migrations.RemoveField(
                    model_name="metricsnapshot",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="oncallaction",
                    name="actor",
                ),
                migrations.DeleteModel(
                    name="ProbeResult",
                ),
                migrations.RemoveField(
                    model_name="satisfactionrating",
                    name="request",
                ),
                migrations.RemoveField(
                    model_name="satisfactionrating",
                    name="team",
                ),
                migrations.RemoveField(
                    model_name="satisfactionrating",
                    name="user",
                ),
                migrations.AlterField(
                    model_name="service",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="slo_services",
                        to="teams.team",
                    ),
                ),
                migrations.AlterField(
                    model_name="slo",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="slos",
                        to="teams.team",
                    ),
                ),
                migrations.DeleteModel(
                    name="AuditGap",
                ),
                migrations.DeleteModel(
                    name="BillingImport",
                ),
                migrations.DeleteModel(
                    name="BillingRow",
                ),
                migrations.DeleteModel(
                    name="BudgetAlert",
                ),
                migrations.DeleteModel(
                    name="Incident",
                ),
                migrations.DeleteModel(
                    name="MetricSnapshot",
                ),
                migrations.DeleteModel(
                    name="OncallAction",
                ),
                migrations.DeleteModel(
                    name="SatisfactionRating",
                ),
            ],
            database_operations=[],
        ),
    ]
