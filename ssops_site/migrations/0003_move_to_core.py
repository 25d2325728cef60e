"""Trace spans, job runs and locks and API request counts now belong to core (its 0001 takes
them over): ssops_site forgets them. No table changes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ssops_site", "0002_jobs_and_api_request_counts"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name="ApiRequestCount",
                ),
                migrations.DeleteModel(
                    name="JobLock",
                ),
                migrations.DeleteModel(
                    name="JobRun",
                ),
                migrations.DeleteModel(
                    name="TraceSpan",
                ),
            ],
            database_operations=[],
        ),
    ]
