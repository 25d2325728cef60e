"""Teams and memberships move from the catalog to their own app: the tables (catalog_team,
catalog_membership) and their rows stay; only Django's idea of which app owns them changes."""

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
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Membership",
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
                            "role",
                            models.CharField(
                                choices=[
                                    ("member", "Member"),
                                    ("approver", "Approver"),
                                    ("admin", "Team admin"),
                                ],
                                default="member",
                                max_length=16,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_membership",
                        "ordering": ["team__slug", "user__username"],
                    },
                ),
                migrations.CreateModel(
                    name="Team",
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
                        ("name", models.CharField(max_length=200)),
                        ("cost_center", models.CharField(blank=True, max_length=64)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "members",
                            models.ManyToManyField(
                                related_name="teams",
                                through="teams.Membership",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_team",
                        "ordering": ["slug"],
                    },
                ),
                migrations.AddField(
                    model_name="membership",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="teams.team",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="membership",
                    constraint=models.UniqueConstraint(
                        fields=("team", "user"), name="membership_unique"
                    ),
                ),
            ],
            database_operations=[],
        ),
        relabel_content_types("catalog", "teams", ["team", "membership"]),
    ]
