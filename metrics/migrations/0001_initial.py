"""Billing, metric snapshots, probes, incidents, ratings, budget alerts and audit gaps move from
slo to metrics: the tables (slo_*) and their rows stay."""

import uuid

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def relabel_content_types(app_from: str, app_to: str, models_: list[str]):
    """Keep the content types (and the permissions and admin log entries that point at them)
    of the models that moved: the same rows, under the new app label."""

    def forward(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType")
        for model in models_:
            if not content_types.objects.filter(app_label=app_to, model=model).exists():
                content_types.objects.filter(app_label=app_from, model=model).update(
                    app_label=app_to
                )

    def backward(apps, schema_editor):
        content_types = apps.get_model("contenttypes", "ContentType")
        content_types.objects.filter(app_label=app_to, model__in=models_).update(app_label=app_from)

    return migrations.RunPython(forward, backward)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("slo", "0003_audit_gap_kinds"),
        ("catalog", "0004_provisioning_engine"),
        ("teams", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ProbeResult",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("at", models.DateTimeField(help_text="the minute probed", unique=True)),
                        ("ok", models.BooleanField()),
                        ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("latency_ms", models.FloatField(blank=True, null=True)),
                        ("error", models.TextField(blank=True)),
                        (
                            "synthetic",
                            models.BooleanField(
                                default=False, help_text="demo history made by seed_demo"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "slo_proberesult",
                        "ordering": ["-at"],
                    },
                ),
                migrations.CreateModel(
                    name="BillingImport",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ("file_name", models.CharField(max_length=255)),
                        ("sha256", models.CharField(max_length=64)),
                        ("focus_version", models.CharField(max_length=8)),
                        ("row_count", models.PositiveIntegerField()),
                        ("replaced_rows", models.PositiveIntegerField(default=0)),
                        (
                            "periods",
                            models.JSONField(
                                default=list,
                                help_text="[{billing_account_id, billing_period_start, rows}]",
                            ),
                        ),
                        (
                            "effective_cost",
                            models.JSONField(default=dict, help_text="EffectiveCost per currency"),
                        ),
                        ("imported_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "imported_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "slo_billingimport",
                        "ordering": ["-imported_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="Incident",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ("title", models.CharField(max_length=200)),
                        ("opened_at", models.DateTimeField(auto_now_add=True)),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "opened_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "resolved_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "slo",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="incidents",
                                to="slo.slo",
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="incidents",
                                to="teams.team",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "slo_incident",
                        "ordering": ["-opened_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="AuditGap",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("request", "Request transition"),
                                    ("approval", "Approval"),
                                    ("run", "Provisioning run (or step) transition"),
                                    ("resource", "Resource transition"),
                                    ("runbook_run", "Runbook run transition"),
                                    ("runbook_approval", "Runbook run approval"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "record",
                            models.CharField(
                                help_text="id of the transition or approval row", max_length=64
                            ),
                        ),
                        (
                            "object_id",
                            models.CharField(
                                blank=True, help_text="the request's UUID…", max_length=64
                            ),
                        ),
                        ("occurred_at", models.DateTimeField()),
                        (
                            "expected",
                            models.CharField(
                                help_text="the audit event that should exist", max_length=200
                            ),
                        ),
                        ("problem", models.TextField()),
                        ("found_at", models.DateTimeField()),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="teams.team",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "slo_auditgap",
                        "ordering": ["-occurred_at", "-id"],
                        "constraints": [
                            models.UniqueConstraint(fields=("kind", "record"), name="auditgap_once")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="BillingRow",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "row",
                            models.PositiveIntegerField(
                                help_text="row number in the imported file"
                            ),
                        ),
                        ("billing_account_id", models.CharField(max_length=200)),
                        ("billing_account_name", models.CharField(blank=True, max_length=200)),
                        ("billing_period_start", models.DateTimeField()),
                        ("billing_period_end", models.DateTimeField()),
                        ("charge_period_start", models.DateTimeField()),
                        ("charge_period_end", models.DateTimeField()),
                        ("charge_category", models.CharField(max_length=16)),
                        ("charge_class", models.CharField(blank=True, max_length=16)),
                        ("charge_description", models.TextField(blank=True)),
                        ("billed_cost", models.DecimalField(decimal_places=10, max_digits=24)),
                        ("effective_cost", models.DecimalField(decimal_places=10, max_digits=24)),
                        ("list_cost", models.DecimalField(decimal_places=10, max_digits=24)),
                        ("contracted_cost", models.DecimalField(decimal_places=10, max_digits=24)),
                        ("billing_currency", models.CharField(max_length=3)),
                        ("service_name", models.CharField(max_length=200)),
                        ("service_category", models.CharField(max_length=100)),
                        ("provider_name", models.CharField(max_length=200)),
                        ("publisher_name", models.CharField(blank=True, max_length=200)),
                        ("resource_id", models.CharField(blank=True, max_length=500)),
                        ("resource_name", models.CharField(blank=True, max_length=500)),
                        ("resource_type", models.CharField(blank=True, max_length=200)),
                        ("tags", models.JSONField(default=dict)),
                        (
                            "owner",
                            models.CharField(
                                blank=True, help_text="owner (or team) tag", max_length=200
                            ),
                        ),
                        (
                            "cost_center",
                            models.CharField(
                                blank=True, help_text="cost-center tag", max_length=200
                            ),
                        ),
                        (
                            "extra",
                            models.JSONField(
                                default=dict, help_text="columns SSOps does not model"
                            ),
                        ),
                        (
                            "billing_import",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="billing_rows",
                                to="metrics.billingimport",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "slo_billingrow",
                        "ordering": ["charge_period_start", "id"],
                        "indexes": [
                            models.Index(
                                fields=["billing_account_id", "billing_period_start"],
                                name="billing_period_idx",
                            ),
                            models.Index(fields=["charge_period_start"], name="billing_charge_idx"),
                            models.Index(fields=["resource_id"], name="billing_resource_idx"),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="BudgetAlert",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("month", models.DateField(help_text="first day of the month")),
                        ("firing", models.BooleanField(default=False)),
                        ("since", models.DateTimeField(blank=True, null=True)),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        ("burn_rate", models.FloatField(null=True)),
                        ("spend", models.DecimalField(decimal_places=10, max_digits=24)),
                        ("budgeted_so_far", models.DecimalField(decimal_places=10, max_digits=24)),
                        ("monthly_limit", models.DecimalField(decimal_places=10, max_digits=24)),
                        ("currency", models.CharField(max_length=3)),
                        (
                            "covered_until",
                            models.DateTimeField(
                                help_text="end of the billing data so far", null=True
                            ),
                        ),
                        ("evaluated_at", models.DateTimeField()),
                        (
                            "team",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="teams.team",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "slo_budgetalert",
                        "ordering": ["-month", "team__slug"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("team", "month"), name="budgetalert_once"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="MetricSnapshot",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("metric", models.CharField(max_length=4)),
                        (
                            "period_kind",
                            models.CharField(
                                choices=[
                                    ("day", "Day"),
                                    ("week", "Week (ISO, Monday to Sunday)"),
                                    ("month", "Month"),
                                ],
                                max_length=8,
                            ),
                        ),
                        ("period_start", models.DateTimeField()),
                        ("period_end", models.DateTimeField()),
                        ("dimension", models.CharField(blank=True, max_length=300)),
                        ("value", models.FloatField(null=True)),
                        ("extras", models.JSONField(default=dict)),
                        (
                            "data_status",
                            models.CharField(
                                choices=[
                                    ("ok", "OK"),
                                    ("no_data", "No data"),
                                    ("unavailable", "Source unavailable"),
                                    ("waiting", "Waiting for records SSOps does not keep yet"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("detail", models.TextField(blank=True)),
                        (
                            "complete",
                            models.BooleanField(help_text="computed after the period had ended"),
                        ),
                        ("computed_at", models.DateTimeField()),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="teams.team",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "slo_metricsnapshot",
                        "ordering": ["metric", "-period_start", "team_id", "dimension"],
                        "indexes": [
                            models.Index(
                                fields=["period_kind", "metric", "-period_start"],
                                name="metricsnapshot_history",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("team__isnull", False)),
                                fields=(
                                    "metric",
                                    "period_kind",
                                    "period_start",
                                    "team",
                                    "dimension",
                                ),
                                name="metricsnapshot_team_once",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("team__isnull", True)),
                                fields=("metric", "period_kind", "period_start", "dimension"),
                                name="metricsnapshot_all_once",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="OncallAction",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ("description", models.TextField()),
                        ("performed_at", models.DateTimeField()),
                        ("logged_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "by_oncall",
                            models.BooleanField(
                                help_text="the actor was on-call (or a platform admin)"
                            ),
                        ),
                        (
                            "actor",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "incident",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="actions",
                                to="metrics.incident",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "slo_oncallaction",
                        "ordering": ["-performed_at", "-id"],
                        "indexes": [
                            models.Index(fields=["performed_at"], name="oncallaction_performed")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="SatisfactionRating",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "score",
                            models.PositiveSmallIntegerField(
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(5),
                                ]
                            ),
                        ),
                        ("comment", models.TextField(blank=True, max_length=2000)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "request",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="rating",
                                to="catalog.request",
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="teams.team",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "slo_satisfactionrating",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["created_at"], name="rating_created")],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("score__gte", 1), ("score__lte", 5)),
                                name="rating_score_1_to_5",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        relabel_content_types(
            "slo",
            "metrics",
            [
                "billingimport",
                "billingrow",
                "metricsnapshot",
                "proberesult",
                "incident",
                "oncallaction",
                "satisfactionrating",
                "budgetalert",
                "auditgap",
            ],
        ),
    ]
