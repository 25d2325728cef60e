"""Trace spans, job runs and locks and API request counts move from ssops_site to core: the
tables (ssops_site_*) and their rows stay."""

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
        ("ssops_site", "0002_jobs_and_api_request_counts"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="JobLock",
                    fields=[
                        (
                            "name",
                            models.CharField(max_length=200, primary_key=True, serialize=False),
                        ),
                        ("holder", models.CharField(blank=True, max_length=64)),
                        ("locked_until", models.DateTimeField(blank=True, null=True)),
                        ("acquired_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "db_table": "ssops_site_joblock",
                    },
                ),
                migrations.CreateModel(
                    name="ApiRequestCount",
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
                            "minute",
                            models.BigIntegerField(
                                help_text="unix seconds of the minute's (or hour's) start"
                            ),
                        ),
                        (
                            "span",
                            models.PositiveIntegerField(
                                default=60, help_text="seconds the row covers"
                            ),
                        ),
                        ("view", models.CharField(max_length=200)),
                        ("method", models.CharField(max_length=8)),
                        ("status", models.CharField(max_length=3)),
                        ("count", models.BigIntegerField(default=0)),
                    ],
                    options={
                        "db_table": "ssops_site_apirequestcount",
                        "ordering": ["minute"],
                        "indexes": [models.Index(fields=["minute"], name="apirequestcount_minute")],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("minute", "view", "method", "status"),
                                name="apirequestcount_once",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="JobRun",
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
                        ("name", models.CharField(max_length=200)),
                        ("started_at", models.DateTimeField()),
                        ("finished_at", models.DateTimeField()),
                        ("duration_ms", models.FloatField()),
                        (
                            "outcome",
                            models.CharField(
                                choices=[
                                    ("ok", "OK"),
                                    ("failed", "Failed"),
                                    ("skipped", "Skipped (another run held the lock)"),
                                ],
                                max_length=8,
                            ),
                        ),
                        ("error", models.TextField(blank=True)),
                        ("result", models.JSONField(blank=True, null=True)),
                        (
                            "worker",
                            models.CharField(
                                blank=True, help_text="host and process id", max_length=200
                            ),
                        ),
                    ],
                    options={
                        "db_table": "ssops_site_jobrun",
                        "ordering": ["-started_at", "-id"],
                        "indexes": [
                            models.Index(fields=["name", "-started_at"], name="jobrun_name_started")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="TraceSpan",
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
                        ("trace_id", models.CharField(db_index=True, max_length=32)),
                        ("span_id", models.CharField(max_length=16)),
                        ("parent_id", models.CharField(blank=True, max_length=16)),
                        ("name", models.CharField(max_length=255)),
                        ("kind", models.CharField(max_length=16)),
                        ("service", models.CharField(default="ssops", max_length=64)),
                        ("start", models.DateTimeField()),
                        ("end", models.DateTimeField()),
                        ("duration_ms", models.FloatField()),
                        ("status", models.CharField(default="UNSET", max_length=16)),
                        ("attributes", models.JSONField(default=dict)),
                    ],
                    options={
                        "db_table": "ssops_site_tracespan",
                        "ordering": ["start"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("trace_id", "span_id"), name="tracespan_unique_span"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        relabel_content_types(
            "ssops_site", "core", ["tracespan", "jobrun", "joblock", "apirequestcount"]
        ),
    ]
