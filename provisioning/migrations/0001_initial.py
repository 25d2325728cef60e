"""Runs, steps, resources, runbooks and orphan findings move from the catalog to provisioning:
the tables (catalog_*) and their rows stay."""

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
        ("catalog", "0004_provisioning_engine"),
        ("teams", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Runbook",
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
                            "slug",
                            models.CharField(
                                max_length=63,
                                unique=True,
                                validators=[
                                    django.core.validators.RegexValidator(
                                        "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
                                        "Use lower-case letters, digits and hyphens (at most 63), starting and ending with a letter or digit.",
                                    )
                                ],
                            ),
                        ),
                        ("version", models.CharField(max_length=64)),
                        ("title", models.CharField(max_length=200)),
                        ("description", models.TextField(blank=True)),
                        ("owner", models.CharField(blank=True, max_length=100)),
                        ("tags", models.JSONField(blank=True, default=list)),
                        (
                            "risk_tier",
                            models.CharField(
                                choices=[("low", "Low"), ("medium", "Medium"), ("high", "High")],
                                max_length=8,
                            ),
                        ),
                        ("parameters_schema", models.JSONField(default=dict)),
                        ("steps", models.JSONField(default=list)),
                        ("verify", models.JSONField(default=dict)),
                        ("document", models.JSONField(default=dict)),
                        ("digest", models.CharField(max_length=64)),
                        ("source_path", models.CharField(blank=True, max_length=500)),
                        ("enabled", models.BooleanField(default=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "db_table": "catalog_runbook",
                        "ordering": ["title", "slug"],
                    },
                ),
                migrations.CreateModel(
                    name="ProvisioningRun",
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
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("provision", "Provision"),
                                    ("teardown", "Teardown"),
                                    ("runbook", "Runbook"),
                                ],
                                max_length=12,
                            ),
                        ),
                        ("template", models.CharField(max_length=63)),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("running", "Running"),
                                    ("compensating", "Undoing"),
                                    ("succeeded", "Succeeded"),
                                    ("failed", "Failed"),
                                    ("rolled_back", "Rolled back"),
                                    ("cancelled", "Cancelled"),
                                ],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("error", models.TextField(blank=True)),
                        ("leftovers", models.JSONField(blank=True, default=list)),
                        ("outputs", models.JSONField(blank=True, default=dict)),
                        ("cancel_requested_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "cancelled_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "request",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="runs",
                                to="catalog.request",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_provisioningrun",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="Resource",
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
                        (
                            "kind",
                            models.CharField(
                                help_text="The action that created it.", max_length=100
                            ),
                        ),
                        (
                            "name",
                            models.CharField(help_text="Its name in the backend.", max_length=200),
                        ),
                        ("external_id", models.CharField(db_index=True, max_length=300)),
                        ("cost_center", models.CharField(blank=True, max_length=64)),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("active", "Active"),
                                    ("deleting", "Deleting"),
                                    ("deleted", "Deleted"),
                                    ("delete_failed", "Delete failed"),
                                ],
                                default="active",
                                max_length=16,
                            ),
                        ),
                        ("details", models.JSONField(blank=True, default=dict)),
                        ("expires_at", models.DateTimeField(blank=True, null=True)),
                        ("warnings_sent", models.JSONField(blank=True, default=list)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("deleted_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "request",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="resources",
                                to="catalog.request",
                            ),
                        ),
                        (
                            "requester",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="catalog_resources",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="resources",
                                to="teams.team",
                            ),
                        ),
                        (
                            "template_version",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="provisioned",
                                to="catalog.templateversion",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_resource",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="OrphanFinding",
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
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("owner_gone", "Owner gone"),
                                    ("backend_object", "Not in the inventory"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("backend", models.CharField(max_length=100)),
                        ("name", models.CharField(max_length=200)),
                        ("reason", models.TextField()),
                        ("details", models.JSONField(blank=True, default=dict)),
                        ("first_seen_at", models.DateTimeField()),
                        ("last_seen_at", models.DateTimeField()),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="orphan_findings",
                                to="teams.team",
                            ),
                        ),
                        (
                            "resource",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="orphan_findings",
                                to="provisioning.resource",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_orphanfinding",
                        "ordering": ["team__slug", "backend", "name"],
                    },
                ),
                migrations.CreateModel(
                    name="ResourceTransition",
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
                        ("from_state", models.CharField(blank=True, max_length=16)),
                        ("to_state", models.CharField(max_length=16)),
                        ("reason", models.TextField(blank=True)),
                        ("audit_seq", models.BigIntegerField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "resource",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="transitions",
                                to="provisioning.resource",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_resourcetransition",
                        "ordering": ["id"],
                        "abstract": False,
                    },
                ),
                migrations.CreateModel(
                    name="RunbookRun",
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
                        ("runbook_version", models.CharField(max_length=64)),
                        ("definition", models.JSONField(default=dict)),
                        ("by_oncall", models.BooleanField(default=False)),
                        ("parameters", models.JSONField(default=dict)),
                        ("justification", models.TextField(blank=True)),
                        (
                            "risk_tier",
                            models.CharField(
                                choices=[("low", "Low"), ("medium", "Medium"), ("high", "High")],
                                max_length=8,
                            ),
                        ),
                        ("required_approvals", models.PositiveSmallIntegerField(default=0)),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("denied", "Denied"),
                                    ("pending_approval", "Pending approval"),
                                    ("rejected", "Rejected"),
                                    ("running", "Running"),
                                    ("verifying", "Verifying"),
                                    ("succeeded", "Succeeded"),
                                    ("failed", "Failed"),
                                    ("cancelled", "Cancelled"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("deny_reasons", models.JSONField(blank=True, default=list)),
                        ("warnings", models.JSONField(blank=True, default=list)),
                        ("verification", models.JSONField(blank=True, default=dict)),
                        ("error", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="runbook_runs",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "run",
                            models.OneToOneField(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="runbook_run",
                                to="provisioning.provisioningrun",
                            ),
                        ),
                        (
                            "runbook",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="runs",
                                to="provisioning.runbook",
                            ),
                        ),
                        (
                            "team",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="runbook_runs",
                                to="teams.team",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_runbookrun",
                        "ordering": ["-created_at", "-id"],
                    },
                ),
                migrations.CreateModel(
                    name="RunbookApproval",
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
                        ("decision", models.CharField(max_length=8)),
                        ("comment", models.TextField(blank=True)),
                        ("audit_seq", models.BigIntegerField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "approver",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="runbook_approvals",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "runbook_run",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="approvals",
                                to="provisioning.runbookrun",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_runbookapproval",
                        "ordering": ["id"],
                    },
                ),
                migrations.CreateModel(
                    name="RunbookRunTransition",
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
                        ("from_state", models.CharField(blank=True, max_length=16)),
                        ("to_state", models.CharField(max_length=16)),
                        ("reason", models.TextField(blank=True)),
                        ("audit_seq", models.BigIntegerField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "runbook_run",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="transitions",
                                to="provisioning.runbookrun",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_runbookruntransition",
                        "ordering": ["id"],
                        "abstract": False,
                    },
                ),
                migrations.CreateModel(
                    name="RunStep",
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
                        ("position", models.PositiveIntegerField()),
                        ("step_id", models.CharField(max_length=63)),
                        ("name", models.CharField(blank=True, max_length=200)),
                        ("action", models.CharField(max_length=100)),
                        (
                            "operation",
                            models.CharField(
                                choices=[
                                    ("apply", "Apply"),
                                    ("undo", "Undo"),
                                    ("delete", "Delete"),
                                ],
                                default="apply",
                                max_length=8,
                            ),
                        ),
                        ("input", models.JSONField(blank=True, default=dict)),
                        ("output", models.JSONField(blank=True, default=dict)),
                        ("artifact", models.TextField(blank=True)),
                        ("artifact_name", models.CharField(blank=True, max_length=100)),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("running", "Running"),
                                    ("retrying", "Retrying"),
                                    ("succeeded", "Succeeded"),
                                    ("failed", "Failed"),
                                    ("skipped", "Skipped"),
                                ],
                                default="pending",
                                max_length=12,
                            ),
                        ),
                        ("attempts", models.PositiveIntegerField(default=0)),
                        ("error", models.TextField(blank=True)),
                        ("log", models.JSONField(blank=True, default=list)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("duration_ms", models.FloatField(blank=True, null=True)),
                        ("lease_until", models.DateTimeField(blank=True, null=True)),
                        (
                            "resource",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="delete_steps",
                                to="provisioning.resource",
                            ),
                        ),
                        (
                            "run",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="steps",
                                to="provisioning.provisioningrun",
                            ),
                        ),
                        (
                            "undoes",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="undone_by",
                                to="provisioning.runstep",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_runstep",
                        "ordering": ["run_id", "position"],
                    },
                ),
                migrations.CreateModel(
                    name="ResourceSecret",
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
                        ("ciphertext", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("revealed_at", models.DateTimeField(blank=True, null=True)),
                        ("destroyed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "resource",
                            models.OneToOneField(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="secret",
                                to="provisioning.resource",
                            ),
                        ),
                        (
                            "revealed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "step",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="secret",
                                to="provisioning.runstep",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_resourcesecret",
                    },
                ),
                migrations.AddField(
                    model_name="resource",
                    name="step",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="created_resource",
                        to="provisioning.runstep",
                    ),
                ),
                migrations.CreateModel(
                    name="RunTransition",
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
                        ("from_state", models.CharField(blank=True, max_length=16)),
                        ("to_state", models.CharField(max_length=16)),
                        ("reason", models.TextField(blank=True)),
                        ("audit_seq", models.BigIntegerField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "run",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="transitions",
                                to="provisioning.provisioningrun",
                            ),
                        ),
                        (
                            "step",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="transitions",
                                to="provisioning.runstep",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_runtransition",
                        "ordering": ["id"],
                        "abstract": False,
                    },
                ),
                migrations.AddIndex(
                    model_name="provisioningrun",
                    index=models.Index(fields=["kind", "state"], name="run_kind_state_idx"),
                ),
                migrations.AddIndex(
                    model_name="provisioningrun",
                    index=models.Index(fields=["finished_at"], name="run_finished_idx"),
                ),
                migrations.AddConstraint(
                    model_name="provisioningrun",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("kind", "provision")),
                        fields=("request",),
                        name="run_one_provision_per_request",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="provisioningrun",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(
                            ("kind", "teardown"),
                            ("state__in", ("pending", "running", "compensating")),
                        ),
                        fields=("request",),
                        name="run_one_open_teardown_per_request",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="orphanfinding",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("resolved_at__isnull", True)),
                        fields=("kind", "backend", "name"),
                        name="orphan_one_open_finding",
                    ),
                ),
                migrations.AddIndex(
                    model_name="resourcetransition",
                    index=models.Index(fields=["created_at"], name="resource_trans_created_idx"),
                ),
                migrations.AddConstraint(
                    model_name="runbookapproval",
                    constraint=models.UniqueConstraint(
                        fields=("runbook_run", "approver"), name="runbook_approval_one_per_person"
                    ),
                ),
                migrations.AddIndex(
                    model_name="runbookrun",
                    index=models.Index(
                        fields=["state", "finished_at"], name="runbook_run_state_idx"
                    ),
                ),
                migrations.AddIndex(
                    model_name="runbookrun",
                    index=models.Index(fields=["team", "created_at"], name="runbook_run_team_idx"),
                ),
                migrations.AddConstraint(
                    model_name="runstep",
                    constraint=models.UniqueConstraint(
                        fields=("run", "position"), name="run_step_position_unique"
                    ),
                ),
                migrations.AddIndex(
                    model_name="resource",
                    index=models.Index(fields=["team", "state"], name="resource_team_state_idx"),
                ),
                migrations.AddIndex(
                    model_name="resource",
                    index=models.Index(fields=["state", "expires_at"], name="resource_expiry_idx"),
                ),
                migrations.AddIndex(
                    model_name="resource",
                    index=models.Index(fields=["kind", "name"], name="resource_kind_name_idx"),
                ),
                migrations.AddIndex(
                    model_name="runtransition",
                    index=models.Index(fields=["created_at"], name="run_transition_created_idx"),
                ),
            ],
            database_operations=[],
        ),
        relabel_content_types(
            "catalog",
            "provisioning",
            [
                "provisioningrun",
                "runstep",
                "runtransition",
                "resource",
                "resourcetransition",
                "resourcesecret",
                "orphanfinding",
                "runbook",
                "runbookrun",
                "runbookruntransition",
                "runbookapproval",
            ],
        ),
    ]
