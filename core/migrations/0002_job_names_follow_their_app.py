"""Beat jobs are named after the module of their task; the tasks of provisioning and of the
platform metrics moved out of catalog and slo, so their recorded runs and locks are renamed
with them (the job history stays continuous)."""

from django.db import migrations

RENAMED = {
    "catalog.tasks.resource_lifecycle": "provisioning.tasks.resource_lifecycle",
    "catalog.tasks.orphan_scan": "provisioning.tasks.orphan_scan",
    **{
        f"slo.tasks.{name}": f"metrics.tasks.{name}"
        for name in (
            "probe_catalog",
            "platform_metrics",
            "audit_completeness",
            "budget_burn",
            "prune_platform_records",
        )
    },
}


def rename(apps, names: dict[str, str]) -> None:
    for model in ("JobRun", "JobLock"):
        rows = apps.get_model("core", model).objects
        for old, new in names.items():
            if not rows.filter(name=new).exists() or model == "JobRun":
                rows.filter(name=old).update(name=new)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: rename(apps, RENAMED),
            lambda apps, editor: rename(apps, {new: old for old, new in RENAMED.items()}),
        )
    ]
